terraform {
  # 1.11: write-only arguments (modules/service-token); 1.10: S3 backend locking with a lock file (use_lockfile).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
