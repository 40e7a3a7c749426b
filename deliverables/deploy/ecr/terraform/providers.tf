provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      Project   = var.repository_prefix
      ManagedBy = "terraform"
      Source    = "deliverables/deploy/ecr/terraform"
    })
  }
}
