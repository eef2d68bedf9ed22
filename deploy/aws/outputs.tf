# What deploy/k8s/overlays/eks (its CHANGE-ME values) and the operator need from deploy/aws.

output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Private subnets (EKS nodes, MSK, Aurora), one per zone."
  value       = aws_subnet.private[*].id
}

output "eks_cluster_name" {
  description = "EKS cluster name: aws eks update-kubeconfig --name <this> --region <region>."
  value       = aws_eks_cluster.this.name
}

output "eks_cluster_endpoint" {
  description = "EKS API endpoint."
  value       = aws_eks_cluster.this.endpoint
}

output "eks_node_security_group_id" {
  description = "The cluster security group the nodes carry (the one MSK, Aurora and the ALB admit)."
  value       = local.node_security_group_id
}

output "kafka_bootstrap_brokers_tls" {
  description = "MSK TLS bootstrap servers (port 9094): SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS in the eks overlay."
  value       = aws_msk_cluster.this.bootstrap_brokers_tls
}

output "pg_main_host" {
  description = "Writer endpoint of the catalog + pollbook cluster: the host of the catalog and pollbook DSNs (Secrets splitvote-<service>-db)."
  value       = aws_rds_cluster.this["main"].endpoint
}

output "pg_ballotbox_host" {
  description = "Writer endpoint of the ballotbox cluster: the host of the ballotbox DSNs (Secrets splitvote-<service>-db)."
  value       = aws_rds_cluster.this["ballotbox"].endpoint
}

output "pg_master_user_secret_arns" {
  description = "Secrets Manager secrets holding each cluster's master password (made and rotated by RDS): the source of Kubernetes Secret splitvote-db-owner."
  value       = { for k, c in aws_rds_cluster.this : k => c.master_user_secret[0].secret_arn }
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer: point the certificate's host name at it (CNAME or alias)."
  value       = aws_lb.ingest.dns_name
}

output "ingest_target_group_arn" {
  description = "Target group of the ingest pods: the TargetGroupBinding's targetGroupARN."
  value       = aws_lb_target_group.ingest.arn
}
