# Whose tokens order-api accepts: the development issuer by default (its
# public JWKS inline in the task definition), a real OIDC issuer when
# auth_issuer, auth_audience and auth_jwks_url are set.

# As in root.tftest.hcl: a real provider, planning only, every AWS call
# overridden (or failing on loopback).
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    cloudfront     = "http://127.0.0.1:9"
    ec2            = "http://127.0.0.1:9"
    iam            = "http://127.0.0.1:9"
    secretsmanager = "http://127.0.0.1:9"
    ssm            = "http://127.0.0.1:9"
    sts            = "http://127.0.0.1:9"
  }
}

override_data {
  target = module.iam.data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_data {
  target = module.network.data.aws_availability_zones.available
  values = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
}

override_data {
  target = module.ecs_cluster.data.aws_ssm_parameter.ecs_ami
  values = { value = "ami-0123456789abcdef0", insecure_value = "ami-0123456789abcdef0" }
}

override_data {
  target = module.ecs_cluster.data.aws_iam_roles.ecs_service_linked
  values = { names = ["AWSServiceRoleForECS"] }
}

# No auth_* line: what terraform.tfvars.example leaves. CloudFront (in front
# of the ALB, its own tests) changes nothing here.
variables {
  cloudfront_enabled       = false
  aws_region               = "eu-west-1"
  generate_processor_token = false
  auth_dev_jwks_file       = "tests/fixtures/dev-jwks.json"
  images = {
    order_api       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:3f2c1e9a7b4d"
    order_processor = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-processor:3f2c1e9a7b4d"
  }
}

run "the_development_issuer_is_on_by_default" {
  command = plan

  override_resource {
    target          = module.processor_tokens.aws_ssm_parameter.this
    override_during = plan
    values          = { arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }
  }

  assert {
    condition = {
      for variable in module.order_api.container_definition.environment : variable.name => variable.value
      if startswith(variable.name, "AUTH_")
      } == {
      AUTH_ISSUER        = "urn:order-system:dev"
      AUTH_AUDIENCE      = "order-api"
      AUTH_JWKS          = jsonencode(jsondecode(file("tests/fixtures/dev-jwks.json")))
      AUTH_SUBJECT_CLAIM = "sub"
    }
    error_message = "By default order-api must trust the development issuer: orderctl token's iss and aud, and the keygen's public JWKS inline (AUTH_JWKS, no URL)."
  }

  assert {
    condition     = !strcontains(one([for variable in module.order_api.container_definition.environment : variable.value if variable.name == "AUTH_JWKS"]), "\n")
    error_message = "AUTH_JWKS must be the JWKS minified."
  }

  assert {
    condition     = output.order_api_auth == { issuer = "urn:order-system:dev", audience = "order-api", development = true }
    error_message = "The order_api_auth output must tell make ecs-token and the smoke test that the development issuer is on."
  }

  assert {
    condition     = alltrue([for variable in module.order_processor.container_definition.environment : !startswith(variable.name, "AUTH_")])
    error_message = "order-processor takes no bearer tokens: it must get no AUTH_* setting."
  }
}

run "a_real_issuer_turns_the_development_issuer_off" {
  command = plan

  variables {
    auth_issuer        = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    auth_audience      = "1example23456789"
    auth_jwks_url      = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
    auth_subject_claim = "cognito:username"
    # Not read with a real issuer: a missing file is no error.
    auth_dev_jwks_file = "tests/fixtures/missing.json"
  }

  override_resource {
    target          = module.processor_tokens.aws_ssm_parameter.this
    override_during = plan
    values          = { arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }
  }

  assert {
    condition = {
      for variable in module.order_api.container_definition.environment : variable.name => variable.value
      if startswith(variable.name, "AUTH_")
      } == {
      AUTH_ISSUER        = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
      AUTH_AUDIENCE      = "1example23456789"
      AUTH_JWKS_URL      = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
      AUTH_SUBJECT_CLAIM = "cognito:username"
    }
    error_message = "A real issuer's settings must reach order-api as they are, and no AUTH_JWKS beside AUTH_JWKS_URL (order-api accepts exactly one)."
  }

  assert {
    condition     = output.order_api_auth.development == false
    error_message = "With a real issuer the development issuer must be reported off."
  }
}


# The module alone: a partial real issuer, and the JWKS file's failures.
run "a_real_issuer_needs_all_three_settings" {
  command = plan

  module {
    source = "./modules/auth"
  }

  variables {
    jwks_url      = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
    issuer        = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    dev_jwks_file = "tests/fixtures/dev-jwks.json"
  }

  expect_failures = [var.jwks_url]
}

run "a_missing_development_jwks_is_refused" {
  command = plan

  module {
    source = "./modules/auth"
  }

  variables {
    dev_jwks_file = "tests/fixtures/missing.json"
  }

  expect_failures = [output.environment]
}

run "a_development_jwks_that_is_not_json_is_refused" {
  command = plan

  module {
    source = "./modules/auth"
  }

  variables {
    dev_jwks_file = "tests/fixtures/not-jwks.json"
  }

  expect_failures = [output.environment]
}

run "a_development_jwks_without_keys_is_refused" {
  command = plan

  module {
    source = "./modules/auth"
  }

  variables {
    dev_jwks_file = "tests/fixtures/empty-jwks.json"
  }

  expect_failures = [output.environment]
}

run "a_private_key_never_reaches_the_task_definition" {
  command = plan

  module {
    source = "./modules/auth"
  }

  variables {
    dev_jwks_file = "tests/fixtures/private-jwks.json"
  }

  expect_failures = [output.environment]
}

run "the_module_takes_a_usable_development_jwks" {
  command = plan

  module {
    source = "./modules/auth"
  }

  variables {
    dev_jwks_file = "tests/fixtures/dev-jwks.json"
  }

  assert {
    condition     = jsondecode(output.environment.AUTH_JWKS).keys[0].kid == "dev-fixture" && output.development
    error_message = "A JWKS of public keys must pass into AUTH_JWKS."
  }
}
