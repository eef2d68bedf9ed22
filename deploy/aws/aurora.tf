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
#
# WAL: compose and script/server run PostgreSQL with as little WAL history as crash recovery
# allows (wal_level=minimal, no archive, a checkpoint and a new segment every minute, no
# recycling: script/lib/postgres.sh, PG_WAL_SETTINGS). Aurora offers none of those as
# modifiable: its log goes to Aurora's own storage, which RDS manages (no WAL files,
# checkpoints or archive of ours), and point-in-time restore covers the backup retention
# below whatever is set here. What it does offer is pinned to the values that keep least:
# no logical replication (no slot holding log back, no decoded row changes) and no commit
# timestamps. Both are also the defaults; static, so they apply at the next reboot. Not
# checked against AWS (no network here): if RDS refuses one, drop it.
resource "aws_rds_cluster_parameter_group" "aurora" {
  name        = "${var.name}-aurora-postgresql${local.aurora_major}"
  family      = "aurora-postgresql${local.aurora_major}"
  description = "splitvote: TLS only"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name         = "rds.logical_replication"
    value        = "0"
    apply_method = "pending-reboot"
  }

  parameter {
    name         = "track_commit_timestamp"
    value        = "0"
    apply_method = "pending-reboot"
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

  # Automated backups allow a restore to any second within the retention: each restore
  # undoes the scrub (rows back in arrival order) and crypto-shredding (poll keys back) as
  # they were then. 1 day (the default of the variable) is the least Aurora allows; the
  # stores need no more (Kafka holds what they have not stored yet). docs/privacy.md, "What
  # WAL and backups keep".
  backup_retention_period = var.aurora_backup_retention_days
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection
  # Kept against an accidental destroy: it keeps everything until the operator deletes it.
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
