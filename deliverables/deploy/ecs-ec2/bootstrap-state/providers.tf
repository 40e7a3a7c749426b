provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      ManagedBy = "terraform"
      Source    = "deliverables/deploy/ecs-ec2/bootstrap-state"
    })
  }
}
