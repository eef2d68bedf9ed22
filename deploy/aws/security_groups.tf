# Security groups: each component accepts only the traffic it serves, from whom needs it.
#   internet (ingress_cidrs) -> ALB 443 (80 redirects only)
#   ALB -> EKS nodes 8080 (ingest pods, target type ip)
#   EKS nodes -> MSK 9094 (TLS), Aurora main 5432, Aurora ballotbox 5432
# The nodes carry the cluster security group EKS creates (it also lets the control plane
# and the nodes talk); its egress stays open (image pulls, AWS APIs through the NAT).

locals {
  node_security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "splitvote load balancer: HTTPS (and HTTP to redirect) from clients"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-alb" }
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = toset(var.ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from clients"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each = toset(var.ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from clients, answered with a redirect to HTTPS only"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "alb_to_ingest" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the ingest pods (requests and /readyz health checks)"
  referenced_security_group_id = local.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "nodes_from_alb" {
  security_group_id            = local.node_security_group_id
  description                  = "ingest pods from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_security_group" "msk" {
  name        = "${var.name}-msk"
  description = "splitvote Kafka brokers: TLS clients from the EKS nodes"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-msk" }
}

resource "aws_vpc_security_group_ingress_rule" "msk_from_nodes" {
  security_group_id            = aws_security_group.msk.id
  description                  = "Kafka over TLS from ingest, the consumers and KEDA"
  referenced_security_group_id = local.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 9094
  to_port                      = 9094
}

# One group per Aurora cluster, so either can be opened to someone without the other.
resource "aws_security_group" "aurora" {
  for_each = local.aurora_clusters

  name        = "${var.name}-aurora-${each.key}"
  description = "splitvote Aurora ${each.key} (${each.value.holds}): PostgreSQL from the EKS nodes"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-aurora-${each.key}" }
}

resource "aws_vpc_security_group_ingress_rule" "aurora_from_nodes" {
  for_each = local.aurora_clusters

  security_group_id            = aws_security_group.aurora[each.key].id
  description                  = "PostgreSQL from the splitvote pods"
  referenced_security_group_id = local.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}
