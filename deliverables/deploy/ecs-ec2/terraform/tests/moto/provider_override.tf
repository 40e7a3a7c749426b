# Copied, with moto_endpoint.tf, next to a root module's own files by
# scripts/checks/terraform.sh: as an override file it merges into that root's
# provider block and points every AWS API at a moto server on loopback.

provider "aws" {
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    applicationautoscaling = var.moto_endpoint
    autoscaling            = var.moto_endpoint
    cloudwatch             = var.moto_endpoint
    dynamodb               = var.moto_endpoint
    ec2                    = var.moto_endpoint
    ecr                    = var.moto_endpoint
    ecs                    = var.moto_endpoint
    elbv2                  = var.moto_endpoint
    iam                    = var.moto_endpoint
    logs                   = var.moto_endpoint
    s3                     = var.moto_endpoint
    secretsmanager         = var.moto_endpoint
    servicediscovery       = var.moto_endpoint
    sns                    = var.moto_endpoint
    ssm                    = var.moto_endpoint
    sts                    = var.moto_endpoint
  }
}
