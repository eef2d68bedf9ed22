# Kafka: an MSK cluster of three brokers, one per zone, TLS between clients and brokers and
# between brokers, encrypted at rest (AWS managed key). The topic itself (splitvote.votes,
# 6 partitions) is made with kafka-topics.sh, as compose's kafka-init does (README.md).

resource "aws_msk_configuration" "this" {
  name           = "${var.name}-kafka"
  kafka_versions = [var.kafka_version]
  description    = "splitvote: replicated, no automatic topics, 24 h retention"

  # log.retention.ms: the short retention DESIGN section 1 asks for (24 h, as compose's
  # topic); a consumer stopped for longer loses what expired. acks=all (ingest) with
  # min.insync.replicas=2 survives one broker down without losing an acknowledged vote.
  server_properties = <<-EOT
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    num.partitions=6
    log.retention.ms=86400000
    unclean.leader.election.enable=false
  EOT
}

resource "aws_cloudwatch_log_group" "msk" {
  name              = "/splitvote/${var.name}/msk"
  retention_in_days = var.log_retention_days
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = 3

  broker_node_group_info {
    instance_type   = var.kafka_instance_type
    client_subnets  = aws_subnet.private[*].id
    security_groups = [aws_security_group.msk.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.kafka_volume_gib
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  encryption_info {
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  # TLS without client certificates: what deploy/k8s/overlays/eks configures (librdkafka has
  # no MSK IAM login). Only the EKS nodes reach port 9094 (security_groups.tf).
  client_authentication {
    unauthenticated = true
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk.name
      }
    }
  }
}
