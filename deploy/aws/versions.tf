# Terraform and provider versions for splitvote's AWS infrastructure (deploy/aws/README.md).
terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge({
      Project   = "splitvote"
      ManagedBy = "terraform"
    }, var.tags)
  }
}
