# The processor token list: a free SecureString under the AWS managed key,
# its value written through a write-only argument so Terraform's state never
# holds it, rewritten only when value_version changes.
#
# terraform test's mocked provider refuses any configuration with an
# ephemeral resource (Terraform 1.11), so this file uses a real provider that
# never leaves this machine, with the parameter overridden, and writes the
# placeholder (generate = false). The moto apply in scripts/checks/terraform.sh
# covers the generated token and checks that the state never holds it
# (tests/moto/verify.py).

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    secretsmanager = "http://127.0.0.1:9"
    ssm            = "http://127.0.0.1:9"
  }
}

override_resource {
  target = aws_ssm_parameter.this
  values = { arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }
}

variables {
  name        = "/order-system/processor-tokens"
  description = "Bearer tokens order-processor accepts."
  generate    = false
}

run "free_secure_string" {
  command = apply

  module {
    source = "./modules/service-token"
  }

  assert {
    condition     = aws_ssm_parameter.this.type == "SecureString" && aws_ssm_parameter.this.key_id == "alias/aws/ssm" && aws_ssm_parameter.this.tier == "Standard"
    error_message = "The token list is a Standard (free) SecureString encrypted with the AWS managed key alias/aws/ssm."
  }

  assert {
    condition     = aws_ssm_parameter.this.value_wo_version == 1 && output.value_version == 1
    error_message = "The value is written through value_wo at version 1."
  }

  assert {
    condition     = output.parameter_name == "/order-system/processor-tokens" && output.parameter_arn == "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens"
    error_message = "The outputs name the parameter (for put-parameter) and give its ARN (for valueFrom and IAM)."
  }
}

run "a_new_version_rewrites_the_value" {
  command = plan

  module {
    source = "./modules/service-token"
  }

  variables {
    value_version = 2
  }

  assert {
    condition     = aws_ssm_parameter.this.value_wo_version == 2 && output.value_version == 2
    error_message = "value_version reaches value_wo_version, which is what makes the provider write a new token."
  }
}

run "token_length_outside_what_the_services_accept_is_refused" {
  command = plan

  module {
    source = "./modules/service-token"
  }

  variables {
    token_length = 16
  }

  expect_failures = [var.token_length]
}

run "fractional_or_zero_version_is_refused" {
  command = plan

  module {
    source = "./modules/service-token"
  }

  variables {
    value_version = 0.5
  }

  expect_failures = [var.value_version]
}

run "reserved_names_are_refused" {
  command = plan

  module {
    source = "./modules/service-token"
  }

  variables {
    name = "/aws/processor-tokens"
  }

  expect_failures = [var.name]
}

run "relative_names_are_refused" {
  command = plan

  module {
    source = "./modules/service-token"
  }

  variables {
    name = "processor-tokens"
  }

  expect_failures = [var.name]
}
