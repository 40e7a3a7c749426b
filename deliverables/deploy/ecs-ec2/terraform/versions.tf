terraform {
  # 1.10: S3 backend locking with a lock file (use_lockfile), no DynamoDB table.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
