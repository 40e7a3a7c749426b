# The state bucket: private, encrypted, versioned, TLS only, and a backend
# configuration that uses S3's native lock file.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  aws_region = "eu-west-1"
}

run "state_bucket_is_private_and_versioned" {
  command = apply

  assert {
    condition     = aws_s3_bucket.state.bucket == "order-system-tfstate-123456789012-eu-west-1"
    error_message = "The default bucket name carries the account id and Region, so it is globally unique."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "State versions must be kept to recover from a bad apply."
  }

  assert {
    condition     = alltrue([aws_s3_bucket_public_access_block.state.block_public_acls, aws_s3_bucket_public_access_block.state.block_public_policy, aws_s3_bucket_public_access_block.state.ignore_public_acls, aws_s3_bucket_public_access_block.state.restrict_public_buckets])
    error_message = "All public access must be blocked."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.state.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "State is encrypted with KMS."
  }

  assert {
    condition     = jsondecode(aws_s3_bucket_policy.state.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false" && jsondecode(aws_s3_bucket_policy.state.policy).Statement[0].Effect == "Deny"
    error_message = "Requests without TLS must be denied."
  }

  assert {
    condition     = strcontains(output.backend_config, "use_lockfile = true") && strcontains(output.backend_config, "bucket       = \"order-system-tfstate-123456789012-eu-west-1\"")
    error_message = "The backend configuration must lock with S3's native lock file (Terraform 1.10+) and name the bucket."
  }
}
