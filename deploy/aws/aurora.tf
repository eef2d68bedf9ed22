# PostgreSQL: two Aurora clusters. Transaction ids (and commit order, WAL, backups) are
# cluster-wide, so the ballotbox must not share a cluster with the pollbook (DESIGN section
# 4): "main" holds the catalog and the pollbook, "ballotbox" the ballotbox, as compose's
# pg-main and pg-ballotbox. Each has its own security group and encryption key.

locals {
  aurora_clusters = {
    main      = { holds = "catalog and pollbook" }
    ballotbox = { holds = "ballotbox" }
  }
  aurora_major = split(".", var.aurora_engine_version)[0]
  aurora_instances = {
    for pair in setproduct(keys(local.aurora_clusters), range(var.aurora_instances_per_cluster)) :
    "${pair[0]}-${pair[1]}" => { cluster = pair[0], index = pair[1] }
  }
}

resource "aws_kms_key" "aurora" {
  for_each = local.aurora_clusters

  description             = "splitvote Aurora ${each.key} (${each.value.holds}): storage and snapshots"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "aurora" {
  for_each = local.aurora_clusters

  name          = "alias/${var.name}-aurora-${each.key}"
  target_key_id = aws_kms_key.aurora[each.key].key_id
}

resource "aws_db_subnet_group" "aurora" {
  name        = "${var.name}-aurora"
  description = "splitvote Aurora: the private subnets"
  subnet_ids  = aws_subnet.private[*].id
}

# Unencrypted connections are refused (the services connect with sslmode=require).
resource "aws_rds_cluster_parameter_group" "aurora" {
  name        = "${var.name}-aurora-postgresql${local.aurora_major}"
  family      = "aurora-postgresql${local.aurora_major}"
  description = "splitvote: TLS only"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_rds_cluster" "this" {
  for_each = local.aurora_clusters

  cluster_identifier = "${var.name}-${each.key}"
  engine             = "aurora-postgresql"
  engine_version     = var.aurora_engine_version
  database_name      = "splitvote"
  master_username    = var.aurora_master_username
  # RDS makes the password and keeps (and rotates) it in Secrets Manager: it never passes
  # through Terraform, its state or this repository.
  manage_master_user_password = true

  db_subnet_group_name            = aws_db_subnet_group.aurora.name
  vpc_security_group_ids          = [aws_security_group.aurora[each.key].id]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.aurora.name
  port                            = 5432

  storage_encrypted = true
  kms_key_id        = aws_kms_key.aurora[each.key].arn

  backup_retention_period   = var.aurora_backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-${each.key}-final"

  enabled_cloudwatch_logs_exports = ["postgresql"]

  tags = { Holds = each.value.holds }
}

resource "aws_rds_cluster_instance" "this" {
  for_each = local.aurora_instances

  identifier           = "${var.name}-${each.key}"
  cluster_identifier   = aws_rds_cluster.this[each.value.cluster].id
  engine               = aws_rds_cluster.this[each.value.cluster].engine
  engine_version       = aws_rds_cluster.this[each.value.cluster].engine_version
  instance_class       = var.aurora_instance_class
  db_subnet_group_name = aws_db_subnet_group.aurora.name
  publicly_accessible  = false

  auto_minor_version_upgrade = true
  # On failover RDS promotes the lowest tier first: instance 0, then 1, ...
  promotion_tier = each.value.index
}
