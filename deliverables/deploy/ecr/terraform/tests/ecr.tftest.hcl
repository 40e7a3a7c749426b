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
    condition     = toset([for repository in aws_ecr_repository.this : repository.name]) == toset(["order-system/order-api", "order-system/order-processor"])
    error_message = "One repository per image under the order-system/ prefix."
  }

  assert {
    condition     = alltrue([for repository in aws_ecr_repository.this : repository.image_tag_mutability == "IMMUTABLE" && repository.image_scanning_configuration[0].scan_on_push])
    error_message = "Every repository must have immutable tags and scan on push."
  }

  assert {
    condition     = alltrue([for repository in aws_ecr_repository.this : repository.encryption_configuration[0].encryption_type == "AES256" && repository.force_delete])
    error_message = "Encrypted with AES-256 by default, and deletable by terraform destroy (force_delete) by default."
  }

  assert {
    condition = alltrue([
      for policy in aws_ecr_lifecycle_policy.this : [for rule in jsondecode(policy.policy).rules : rule.selection.countNumber] == [7, 20]
    ])
    error_message = "Untagged images expire after 7 days and only the 20 newest images are kept."
  }

  assert {
    condition     = output.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    error_message = "The registry output is the host scripts/upload.sh logs in to."
  }
}

run "kms_key_switches_encryption" {
  command = apply

  variables {
    kms_key_arn  = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    force_delete = false
  }

  assert {
    condition     = alltrue([for repository in aws_ecr_repository.this : repository.encryption_configuration[0].encryption_type == "KMS" && !repository.force_delete])
    error_message = "A KMS key switches the repositories to KMS encryption; force_delete = false is honoured."
  }
}

run "uppercase_image_names_are_refused" {
  command = plan

  variables {
    images = ["Order-API"]
  }

  expect_failures = [var.images]
}

run "no_github_role_unless_asked" {
  command = apply

  assert {
    condition     = length(aws_iam_role.github_push) == 0 && length(aws_iam_openid_connect_provider.github) == 0 && output.github_push_role_arn == null
    error_message = "Without github_repository no OIDC provider or role is created."
  }
}

run "github_role_is_limited_to_one_repository_tags_and_these_repositories" {
  command = apply

  variables {
    github_repository = "octo-org/order-system"
  }

  assert {
    condition     = jsondecode(aws_iam_role.github_push[0].assume_role_policy).Statement[0].Condition.StringLike["token.actions.githubusercontent.com:sub"] == "repo:octo-org/order-system:ref:refs/tags/v*"
    error_message = "Only the repository's release tags may assume the push role."
  }

  assert {
    condition     = jsondecode(aws_iam_role.github_push[0].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The token's audience must be STS."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.github_push[0].policy).Statement :
      statement.Resource != "*" || statement.Action == "ecr:GetAuthorizationToken"
    ])
    error_message = "Only GetAuthorizationToken (which has no resource-level permissions) may use Resource *."
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 1
    error_message = "The OIDC provider is created by default."
  }
}

run "an_existing_github_provider_is_reused" {
  command = apply

  variables {
    github_repository           = "octo-org/order-system"
    create_github_oidc_provider = false
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && length(aws_iam_role.github_push) == 1
    error_message = "With create_github_oidc_provider = false the role trusts the account's existing provider."
  }
}

run "a_malformed_repository_is_refused" {
  command = plan

  variables {
    github_repository = "not a repository"
  }

  expect_failures = [var.github_repository]
}
