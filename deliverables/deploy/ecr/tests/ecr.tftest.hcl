# Immutable tags, scan on push, encryption, lifecycle rules.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  aws_region = "eu-west-1"
}

run "repositories_are_immutable_scanned_and_encrypted" {
  command = apply

  assert {
    condition     = toset([for repository in aws_ecr_repository.this : repository.name]) == toset(["order-system/order-api", "order-system/order-processor", "order-system/orderctl"])
    error_message = "One repository per image under the order-system/ prefix."
  }

  assert {
    condition     = alltrue([for repository in aws_ecr_repository.this : repository.image_tag_mutability == "IMMUTABLE" && repository.image_scanning_configuration[0].scan_on_push])
    error_message = "Every repository must have immutable tags and scan on push."
  }

  assert {
    condition     = alltrue([for repository in aws_ecr_repository.this : repository.encryption_configuration[0].encryption_type == "AES256" && !repository.force_delete])
    error_message = "Encrypted with AES-256 by default, and not force-deleted unless asked."
  }

  assert {
    condition = alltrue([
      for policy in aws_ecr_lifecycle_policy.this : [for rule in jsondecode(policy.policy).rules : rule.selection.countNumber] == [7, 20]
    ])
    error_message = "Untagged images expire after 7 days and only the 20 newest images are kept."
  }

  assert {
    condition     = output.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    error_message = "The registry output is the host push-images.sh logs in to."
  }
}

run "kms_key_switches_encryption" {
  command = apply

  variables {
    kms_key_arn  = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    force_delete = true
  }

  assert {
    condition     = alltrue([for repository in aws_ecr_repository.this : repository.encryption_configuration[0].encryption_type == "KMS" && repository.force_delete])
    error_message = "A KMS key switches the repositories to KMS encryption; force_delete is honoured."
  }
}

run "uppercase_image_names_are_refused" {
  command = plan

  variables {
    images = ["Order-API"]
  }

  expect_failures = [var.images]
}
