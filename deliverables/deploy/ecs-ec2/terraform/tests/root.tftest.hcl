# The whole deployment wired together: what each service is told (environment
# and secrets), what it may do, and the free-tier totals.

# A real provider that never leaves this machine, planning only: the token's
# generator is an ephemeral resource, and terraform test's mocked provider
# refuses any configuration that holds one (Terraform 1.11). The data sources
# that would call AWS are overridden, and so is every value computed by AWS
# that an assertion reads.
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  # Should an override go missing, a call fails on loopback instead of
  # looking for AWS.
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

variables {
  aws_region    = "eu-west-1"
  auth_issuer   = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
  auth_audience = "1example23456789"
  auth_jwks_url = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
  # The mocked provider cannot open the token's ephemeral generator.
  generate_processor_token = false
  images = {
    order_api       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:3f2c1e9a7b4d"
    order_processor = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-processor:3f2c1e9a7b4d"
  }
}

run "default_deployment" {
  command = plan

  override_resource {
    target          = module.processor_tokens.aws_ssm_parameter.this
    override_during = plan
    values          = { arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }
  }

  override_resource {
    target          = module.alb.aws_lb.this
    override_during = plan
    values = {
      arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/order-system/0123456789abcdef"
      arn_suffix = "app/order-system/0123456789abcdef"
      dns_name   = "internal-order-system-1234567890.eu-west-1.elb.amazonaws.com"
    }
  }

  override_resource {
    target          = module.cdn[0].aws_cloudfront_distribution.api
    override_during = plan
    values          = { domain_name = "d111111abcdef8.cloudfront.net" }
  }

  override_resource {
    target          = module.dynamodb.aws_dynamodb_table.orders
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders" }
  }

  override_resource {
    target          = module.dynamodb.aws_dynamodb_table.inventory
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-inventory" }
  }

  override_resource {
    target          = module.dynamodb.aws_dynamodb_table.reservations
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-reservations" }
  }

  assert {
    condition = { for variable in module.order_api.container_definition.environment : variable.name => variable.value } == {
      AWS_REGION                     = "eu-west-1"
      LOG_FORMAT                     = "json"
      LOG_LEVEL                      = "info"
      ORDERS_TABLE                   = "order-system-orders"
      PORT                           = "8000"
      MANAGEMENT_PORT                = "9464"
      SRV_ENDPOINT                   = "order-processor.order-system.internal"
      RECONCILER_INTERVAL_SECONDS    = "5"
      RECONCILER_GRACE_SECONDS       = "10"
      RECONCILER_MAX_ATTEMPTS        = "10"
      RECONCILER_MAX_AGE_SECONDS     = "3600"
      AUTH_ISSUER                    = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
      AUTH_AUDIENCE                  = "1example23456789"
      AUTH_JWKS_URL                  = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
      AUTH_SUBJECT_CLAIM             = "sub"
      CUSTOMER_RATE_LIMIT_PER_SECOND = "1000"
      CUSTOMER_RATE_LIMIT_BURST      = "2000"
      HTTP_HEADER_TIMEOUT_SECONDS    = "10"
      HTTP_IDLE_TIMEOUT_SECONDS      = "75"
      HTTP_REQUEST_TIMEOUT_SECONDS   = "25"
      HTTP_MAX_CONNECTIONS           = "1024"
      HTTP_MAX_IN_FLIGHT             = "128"
      HTTP_MAX_HEADER_BYTES          = "16384"
      HTTP_RATE_LIMIT_PER_SECOND     = "1000"
      HTTP_RATE_LIMIT_BURST          = "2000"
      HTTP_TRUSTED_PROXY_HOPS        = "2"
    }
    error_message = "order-api needs its table, the processor's SRV name, its token issuer, an explicit AWS_REGION (no IMDS from bridge mode), JSON logs, the reconciler's settings, the server limits and the per-customer rate limit, and trusts the ALB's X-Forwarded-For entry."
  }

  assert {
    condition = { for variable in module.order_processor.container_definition.environment : variable.name => variable.value } == {
      AWS_REGION                   = "eu-west-1"
      INVENTORY_TABLE              = "order-system-inventory"
      LOG_FORMAT                   = "json"
      LOG_LEVEL                    = "info"
      PORT                         = "8000"
      MANAGEMENT_PORT              = "9464"
      RESERVATIONS_TABLE           = "order-system-reservations"
      ORDERS_TABLE                 = "order-system-orders"
      HTTP_HEADER_TIMEOUT_SECONDS  = "10"
      HTTP_IDLE_TIMEOUT_SECONDS    = "75"
      HTTP_REQUEST_TIMEOUT_SECONDS = "25"
      HTTP_MAX_CONNECTIONS         = "1024"
      HTTP_MAX_IN_FLIGHT           = "128"
      HTTP_MAX_HEADER_BYTES        = "16384"
      HTTP_RATE_LIMIT_PER_SECOND   = "1000"
      HTTP_RATE_LIMIT_BURST        = "2000"
    }
    error_message = "order-processor needs its two tables, an explicit AWS_REGION and the server limits, and nothing of order-api's (it is behind no proxy)."
  }

  assert {
    condition     = module.order_processor.container_definition.healthCheck.command == ["CMD", "/order-processor", "healthcheck"]
    error_message = "Each service's health check runs its own binary."
  }

  assert {
    condition = alltrue([
      for container in [module.order_api.container_definition, module.order_processor.container_definition] :
      container.secrets == [{ name = "PROCESSOR_TOKENS", valueFrom = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }]
    ])
    error_message = "Both services get PROCESSOR_TOKENS from the SSM parameter (container secrets), not from the plain environment."
  }

  assert {
    condition = module.iam.execution_role_secret_statements == {
      for service in ["order-api", "order-processor"] : service => [{
        Sid      = "ReadOwnSecretParameters"
        Effect   = "Allow"
        Action   = ["ssm:GetParameters"]
        Resource = ["arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens"]
      }]
    }
    error_message = "Each execution role may read that one parameter (ssm:GetParameters on its ARN) and nothing else in SSM; no kms statement (the AWS managed key)."
  }

  assert {
    condition = alltrue([
      for container in [module.order_api.container_definition, module.order_processor.container_definition] :
      [for mapping in container.portMappings : mapping.containerPort] == [8000]
    ])
    error_message = "Only the API port gets a host port: the management port (9464) stays inside the task, out of reach of the ALB and the security groups."
  }

  assert {
    condition     = output.processor_tokens_parameter_name == "/order-system/processor-tokens" && module.processor_tokens.value_version == 1
    error_message = "The token list's parameter is /<name>/processor-tokens (the rotation commands need the output), written at version 1."
  }

  assert {
    condition = module.iam.task_role_dynamodb_statements == {
      order-api = [{
        Sid      = "Table0"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders", "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders/index/*"]
      }]
      order-processor = [
        {
          Sid      = "Table0"
          Effect   = "Allow"
          Action   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"]
          Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-inventory"]
        },
        {
          Sid      = "Table1"
          Effect   = "Allow"
          Action   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-reservations"]
        },
        {
          Sid      = "Table2"
          Effect   = "Allow"
          Action   = ["dynamodb:UpdateItem"]
          Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders"]
        },
      ]
    }
    error_message = "Each task role holds exactly the DynamoDB actions its service performs: its own tables, and for the processor one conditional update of order-api's order records (no index, no read)."
  }

  assert {
    condition     = output.nat_gateway_count == 0
    error_message = "No NAT gateway by default."
  }

  assert {
    condition     = output.alarm_metric_count <= 10
    error_message = "CloudWatch alarms (target tracking ones included) must stay within the free tier's 10."
  }

  # The count above is only as good as its accounting: every construct in the
  # code that creates an alarm must be one main.tf's alarm_metric_count knows
  # (the alarms module's 5 alarm resources; target tracking: the services'
  # policy, used twice, and the capacity provider's managed scaling). A new
  # one fails here until the accounting and the README's figure follow.
  assert {
    condition = (
      length(regexall("resource \"aws_cloudwatch_metric_alarm\"", join("\n", [for f in fileset(".", "modules/**/*.tf") : file(f)]))) == 5 &&
      length(regexall("TargetTrackingScaling", join("\n", [for f in fileset(".", "**/*.tf") : file(f)]))) == 1 &&
      length(regexall("managed_scaling\\s*\\{", join("\n", [for f in fileset(".", "**/*.tf") : file(f)]))) == 1 &&
      length(regexall("resource \"aws_autoscaling_policy\"", join("\n", [for f in fileset(".", "**/*.tf") : file(f)]))) == 0 &&
      output.alarm_metric_count == module.alarms.alarm_metric_count + 2 * length(output.service_names) + 2 &&
      module.alarms.alarm_metric_count == length(module.alarms.alarm_names)
    )
    error_message = "An alarm source was added or removed (an aws_cloudwatch_metric_alarm, a target tracking policy, managed scaling), or the count no longer adds the alarms module's alarms and 2 per target tracking policy (2 services, 1 capacity provider): update alarm_metric_count in main.tf, this test and the README's CloudWatch line."
  }

  assert {
    condition     = strcontains(file("../README.md"), "CloudWatch: ${module.alarms.alarm_metric_count} alarms + ${output.alarm_metric_count - module.alarms.alarm_metric_count} that AWS creates for target tracking")
    error_message = "The README's free-tier table must state the alarm count this configuration has (${module.alarms.alarm_metric_count} + ${output.alarm_metric_count - module.alarms.alarm_metric_count})."
  }

  assert {
    condition = (
      module.cdn[0].url == "https://d111111abcdef8.cloudfront.net" &&
      module.alb.url == "http://internal-order-system-1234567890.eu-west-1.elb.amazonaws.com"
    )
    error_message = "By default order-api is served by CloudFront over HTTPS, in front of the internal ALB."
  }

  assert {
    condition     = output.dynamodb_provisioned_capacity_total.read <= 25 && output.dynamodb_provisioned_capacity_total.write <= 25
    error_message = "DynamoDB capacity must stay within the free tier's 25 RCU / 25 WCU."
  }

  assert {
    condition     = module.iam.ecr_repository_arns == { order-api = "arn:aws:ecr:eu-west-1:123456789012:repository/order-system/order-api", order-processor = "arn:aws:ecr:eu-west-1:123456789012:repository/order-system/order-processor" }
    error_message = "Each execution role is bound to its own service's repository."
  }

  assert {
    condition     = output.api_url == "https://d111111abcdef8.cloudfront.net" && output.processor_srv_name == "order-processor.order-system.internal"
    error_message = "Outputs: CloudFront's HTTPS URL for the smoke test and the processor's SRV name."
  }

  assert {
    condition     = output.instance_architecture == "x86_64"
    error_message = "The default t3.micro is x86_64."
  }
}

run "extra_alarms_are_counted_past_the_free_tier" {
  command = plan

  variables {
    extra_alarms = true
  }

  # The free-tier check must warn: 12 alarm metrics.
  expect_failures = [check.alarms_within_free_tier]

  assert {
    condition     = output.alarm_metric_count == 12 && length(module.alarms.alarm_names) == 6
    error_message = "extra_alarms adds 2 alarms and the count says so (12: over the free tier, which the check block warns about)."
  }
}

run "certificate_on_a_public_alb_instead_of_cloudfront" {
  command = plan

  variables {
    cloudfront_enabled = false
    certificate_arn    = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }

  override_resource {
    target          = module.processor_tokens.aws_ssm_parameter.this
    override_during = plan
    values          = { arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }
  }
  override_resource {
    target          = module.dynamodb.aws_dynamodb_table.orders
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders" }
  }
  override_resource {
    target          = module.dynamodb.aws_dynamodb_table.inventory
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-inventory" }
  }
  override_resource {
    target          = module.dynamodb.aws_dynamodb_table.reservations
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-reservations" }
  }
  override_resource {
    target          = module.alb.aws_lb.this
    override_during = plan
    values = {
      arn      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/order-system/0123456789abcdef"
      dns_name = "order-system-1234567890.eu-west-1.elb.amazonaws.com"
    }
  }

  assert {
    condition     = length(module.cdn) == 0 && output.api_url == "https://order-system-1234567890.eu-west-1.elb.amazonaws.com"
    error_message = "With certificate_arn and no CloudFront, the ALB's own HTTPS URL is the API URL."
  }

  assert {
    condition     = [for variable in module.order_api.container_definition.environment : variable.value if variable.name == "HTTP_TRUSTED_PROXY_HOPS"] == ["1"]
    error_message = "Without CloudFront the ALB is the only proxy appending to X-Forwarded-For."
  }
}

run "certificate_with_cloudfront_is_refused" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }

  expect_failures = [var.cloudfront_enabled]
}

run "raising_the_token_version_rewrites_the_token" {
  command = plan

  variables {
    processor_tokens_version = 2
  }

  assert {
    condition     = module.processor_tokens.value_version == 2
    error_message = "processor_tokens_version reaches the parameter's value_wo_version."
  }
}

run "nat_switch" {
  command = plan

  variables {
    enable_nat_gateway = true
  }

  assert {
    condition     = output.nat_gateway_count == 1
    error_message = "enable_nat_gateway creates one NAT gateway."
  }
}

run "latest_images_are_refused" {
  command = plan

  variables {
    images = {
      order_api       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:latest"
      order_processor = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-processor:3f2c1e9a7b4d"
    }
  }

  expect_failures = [var.images]
}

run "bad_region_is_refused" {
  command = plan

  variables {
    aws_region = "Europe"
  }

  expect_failures = [var.aws_region]
}

run "reconciler_limits_out_of_range_are_refused" {
  command = plan

  variables {
    reconciler = { max_attempts = 0, max_age_seconds = 1.5 }
  }

  expect_failures = [var.reconciler]
}

run "bad_auth_settings_are_refused" {
  command = plan

  variables {
    auth_issuer        = "my issuer"
    auth_audience      = "a,,b"
    auth_jwks_url      = "http://issuer.example.com/jwks.json"
    auth_subject_claim = ""
  }

  expect_failures = [var.auth_issuer, var.auth_audience, var.auth_jwks_url, var.auth_subject_claim]
}

run "customer_rate_limit_out_of_range_is_refused" {
  command = plan

  variables {
    customer_rate_limit = { per_second = -1, burst = 0.5 }
  }

  expect_failures = [var.customer_rate_limit]
}

run "token_version_must_be_a_whole_number_of_at_least_one" {
  command = plan

  variables {
    processor_tokens_version = 0
  }

  expect_failures = [var.processor_tokens_version]
}
