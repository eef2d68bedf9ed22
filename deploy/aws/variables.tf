# Inputs of deploy/aws. Only certificate_arn has no default; nothing secret is an input
# (Aurora's master passwords live in Secrets Manager, made by RDS).

variable "region" {
  description = "AWS region to create everything in (it needs at least three availability zones)."
  type        = string
  default     = "eu-central-1"
}

variable "name" {
  description = "Name prefix of every resource (letters, digits and hyphens; at most 20 characters, load balancer names are limited to 32)."
  type        = string
  default     = "splitvote"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.name))
    error_message = "name: lower-case letters, digits and hyphens, starting with a letter, at most 20 characters."
  }
}

variable "tags" {
  description = "Extra tags for every resource (Project and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into three public and three private /20 subnets (with the default /16)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper; egress stops when its zone fails) instead of one per zone."
  type        = bool
  default     = false
}

variable "ingress_cidrs" {
  description = "Client address ranges allowed to reach the load balancer (443, and 80 which only redirects)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ARN of the ACM certificate for the HTTPS listener (issued or imported in ACM, same region)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)."
  }
}

variable "tls_policy" {
  description = "ALB security policy of the HTTPS listener: TLS 1.3 and 1.2 only, forward-secret ciphers."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.tls_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "tls_policy: use one of the ELBSecurityPolicy-TLS13-* policies (no TLS 1.0/1.1)."
  }
}

variable "deletion_protection" {
  description = "Deletion protection on the Aurora clusters and the load balancer; turn off only to tear down."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups (EKS control plane, MSK brokers)."
  type        = number
  default     = 30
}

# Kafka (MSK)

variable "kafka_version" {
  description = "Apache Kafka version of the MSK cluster (compose runs 3.7.0)."
  type        = string
  default     = "3.7.x"
}

variable "kafka_instance_type" {
  description = "MSK broker instance type (three brokers, one per zone)."
  type        = string
  default     = "kafka.m7g.large"
}

variable "kafka_volume_gib" {
  description = "EBS storage per broker, GiB. The topic keeps 24 h (log.retention.ms), so this bounds a day of envelopes times three replicas over three brokers."
  type        = number
  default     = 100
}

# PostgreSQL (Aurora)

variable "aurora_engine_version" {
  description = "Aurora PostgreSQL engine version of both clusters (compose runs PostgreSQL 15); the parameter group family follows its major version."
  type        = string
  default     = "15.8"
}

variable "aurora_instance_class" {
  description = "Instance class of every Aurora instance."
  type        = string
  default     = "db.r6g.large"
}

variable "aurora_instances_per_cluster" {
  description = "Instances per Aurora cluster: 1 is a writer only, 2 adds a reader in another zone to fail over to."
  type        = number
  default     = 2

  validation {
    condition     = var.aurora_instances_per_cluster >= 1 && var.aurora_instances_per_cluster <= 15
    error_message = "aurora_instances_per_cluster: 1 to 15."
  }
}

variable "aurora_master_username" {
  description = "Master user of both Aurora clusters (the migrate Job's superuser, named in its DSNs). Its password is made and rotated by RDS in Secrets Manager."
  type        = string
  default     = "splitvote_admin"
}

variable "aurora_backup_retention_days" {
  description = "Days of Aurora backups (point-in-time restore), 1 to 35. Every restore point undoes the scrub and crypto-shredding as they were then, so 1, the least Aurora allows; see README.md and docs/privacy.md on what backups mean for privacy."
  type        = number
  default     = 1

  validation {
    condition     = var.aurora_backup_retention_days >= 1 && var.aurora_backup_retention_days <= 35
    error_message = "aurora_backup_retention_days: 1 to 35 (Aurora's range)."
  }
}

# Kubernetes (EKS)

variable "eks_version" {
  description = "Kubernetes version of the EKS cluster (deploy/k8s needs 1.27 or later)."
  type        = string
  default     = "1.30"
}

variable "eks_public_access_cidrs" {
  description = "Address ranges allowed to reach the EKS API endpoint from the internet; empty: private endpoint only (kubectl from inside the VPC)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Fewest nodes of the managed node group."
  type        = number
  default     = 3
}

variable "node_desired_size" {
  description = "Initial node count of the managed node group (changes made by an autoscaler later are kept)."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Most nodes of the managed node group."
  type        = number
  default     = 6
}

variable "node_disk_gib" {
  description = "Root volume of each node, GiB (encrypted gp3)."
  type        = number
  default     = 50
}
