terraform {
  # 1.11: write-only arguments (value_wo), so the token never lands in state.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
