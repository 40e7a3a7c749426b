terraform {
  required_version = ">= 1.11"

  # No AWS resource here (only order-api's AUTH_* settings), but the module
  # takes the same provider constraint as every other, so that the one list of
  # pins (deliverables/VERSIONS.md) holds for every versions.tf.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
