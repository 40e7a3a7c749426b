# Order system on ECS with EC2 capacity, inside the AWS free tier by default.
#
#   internet -HTTPS-> CloudFront -VPC origin-> internal ALB :80 -> order-api (bridge, dynamic host port)
#                          order-api -> order-processor via Cloud Map SRV,
#                          with a bearer token both read from SSM Parameter Store
#                          both -> DynamoDB through the VPC gateway endpoint
#
# One small module per concern; this file only wires them together.

data "aws_region" "current" {}

locals {
  namespace = coalesce(var.service_discovery_namespace, "${var.name}.internal")

  # What each service does to DynamoDB, taken from the services' code
  # (starter/apps/*/src/store.rs and the readiness check's DescribeTable).
  services = {
    order-api = {
      image                 = var.images.order_api
      log_group_name        = "/ecs/${var.name}/order-api"
      secret_parameter_arns = [module.processor_tokens.parameter_arn]
      dynamodb_access = [{
        table_arn       = module.dynamodb.orders_table_arn
        actions         = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        include_indexes = true
      }]
    }
    order-processor = {
      image                 = var.images.order_processor
      log_group_name        = "/ecs/${var.name}/order-processor"
      secret_parameter_arns = [module.processor_tokens.parameter_arn]
      dynamodb_access = [
        {
          table_arn = module.dynamodb.inventory_table_arn
          actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"]
        },
        {
          table_arn = module.dynamodb.reservations_table_arn
          actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        },
        # Its reservation transaction also confirms order-api's pending
        # order record: one conditional update, nothing else on that table.
        {
          table_arn = module.dynamodb.orders_table_arn
          actions   = ["dynamodb:UpdateItem"]
        },
      ]
    }
  }

  common_environment = {
    AWS_REGION = data.aws_region.current.name
    LOG_FORMAT = "json"
    LOG_LEVEL  = var.log_level
    PORT       = "8000"
    # /metrics and the detailed /health answer only here. The port is in no
    # portMappings entry, so it gets no host port: neither the ALB nor any
    # security group can reach it (nothing scrapes on ECS; the alarms use
    # ALB and ECS metrics).
    MANAGEMENT_PORT              = "9464"
    HTTP_HEADER_TIMEOUT_SECONDS  = tostring(var.http_limits.header_timeout_seconds)
    HTTP_IDLE_TIMEOUT_SECONDS    = tostring(var.http_limits.idle_timeout_seconds)
    HTTP_REQUEST_TIMEOUT_SECONDS = tostring(var.http_limits.request_timeout_seconds)
    HTTP_MAX_CONNECTIONS         = tostring(var.http_limits.max_connections)
    HTTP_MAX_IN_FLIGHT           = tostring(var.http_limits.max_in_flight)
    HTTP_MAX_HEADER_BYTES        = tostring(var.http_limits.max_header_bytes)
    HTTP_RATE_LIMIT_PER_SECOND   = tostring(var.http_limits.rate_limit_per_second)
    HTTP_RATE_LIMIT_BURST        = tostring(var.http_limits.rate_limit_burst)
  }

  # order-processor accepts any listed token; order-api sends the first.
  processor_token_secrets = { PROCESSOR_TOKENS = module.processor_tokens.parameter_arn }

  # Every alarm the deployment bills: the alarms module's own, plus the two
  # (high, low) that AWS creates for each target tracking policy: one per
  # service (CPU, modules/ecs-service) and the capacity provider's managed
  # scaling (modules/ecs-cluster). tests/root.tftest.hcl counts the alarm
  # sources in the code so that a new one cannot go uncounted here.
  target_tracking_alarms = 2 * length(local.services) + 2
  alarm_metric_count     = module.alarms.alarm_metric_count + local.target_tracking_alarms
}

# The free tier covers 10 alarm metrics a month; past that each costs 0.10 USD.
check "alarms_within_free_tier" {
  assert {
    condition     = local.alarm_metric_count <= 10
    error_message = "This configuration uses ${local.alarm_metric_count} CloudWatch alarm metrics (${local.target_tracking_alarms} of them created by AWS for target tracking); the free tier covers 10, each one more costs 0.10 USD a month."
  }
}

module "network" {
  source = "./modules/network"

  name               = var.name
  vpc_cidr           = var.vpc_cidr
  az_count           = var.az_count
  availability_zones = var.availability_zones
  enable_nat_gateway = var.enable_nat_gateway
}

module "security_groups" {
  source = "./modules/security-groups"

  name          = var.name
  vpc_id        = module.network.vpc_id
  vpc_cidr      = module.network.vpc_cidr
  alb_internal  = var.cloudfront_enabled
  https_enabled = var.certificate_arn != null
}

module "dynamodb" {
  source = "./modules/dynamodb"

  name_prefix            = var.name
  billing_mode           = var.dynamodb_billing_mode
  provisioned_capacity   = var.dynamodb_provisioned_capacity
  point_in_time_recovery = var.dynamodb_point_in_time_recovery
  deletion_protection    = var.dynamodb_deletion_protection
  seed_products          = var.seed_products
}

module "processor_tokens" {
  source = "./modules/service-token"

  name          = "/${var.name}/processor-tokens"
  description   = "Bearer tokens order-processor accepts, comma-separated; order-api sends the first (PROCESSOR_TOKENS)."
  value_version = var.processor_tokens_version
  generate      = var.generate_processor_token
}

module "iam" {
  source = "./modules/iam"

  name         = var.name
  cluster_name = var.name
  services     = local.services
}

module "ecs_cluster" {
  source = "./modules/ecs-cluster"

  name                  = var.name
  instance_type         = var.instance_type
  min_size              = var.instance_count.min
  max_size              = var.instance_count.max
  subnet_ids            = module.network.instance_subnet_ids
  assign_public_ip      = module.network.instances_need_public_ip
  security_group_ids    = [module.security_groups.instances_security_group_id]
  instance_profile_name = module.iam.instance_profile_name
}

module "service_discovery" {
  source = "./modules/service-discovery"

  namespace = local.namespace
  vpc_id    = module.network.vpc_id
  services  = ["order-processor"]
}

module "alb" {
  source = "./modules/alb"

  name               = var.name
  vpc_id             = module.network.vpc_id
  internal           = var.cloudfront_enabled
  vpc_cidr           = module.network.vpc_cidr
  availability_zones = module.network.availability_zones
  subnet_ids         = module.network.public_subnet_ids
  security_group_ids = [module.security_groups.alb_security_group_id]
  certificate_arn    = var.certificate_arn
}

module "cdn" {
  source = "./modules/cdn"
  count  = var.cloudfront_enabled ? 1 : 0

  name         = var.name
  alb_arn      = module.alb.arn
  alb_dns_name = module.alb.dns_name
}

module "order_processor" {
  source = "./modules/ecs-service"

  name                   = "order-processor"
  cluster_arn            = module.ecs_cluster.cluster_arn
  capacity_provider_name = module.ecs_cluster.capacity_provider_name
  image                  = var.images.order_processor
  region                 = data.aws_region.current.name
  execution_role_arn     = module.iam.execution_role_arns["order-processor"]
  task_role_arn          = module.iam.task_role_arns["order-processor"]
  log_group_name         = local.services.order-processor.log_group_name
  log_retention_days     = var.log_retention_days
  memory_reservation_mib = var.task_memory_mib.reservation
  memory_limit_mib       = var.task_memory_mib.limit
  desired_count          = var.service_task_count.min
  autoscaling            = { min = var.service_task_count.min, max = var.service_task_count.max, cpu_target_percent = 70 }
  health_check_command   = ["CMD", "/order-processor", "healthcheck"]
  service_registry_arn   = module.service_discovery.service_arns["order-processor"]
  secrets                = local.processor_token_secrets

  environment = merge(local.common_environment, {
    INVENTORY_TABLE    = module.dynamodb.inventory_table_name
    RESERVATIONS_TABLE = module.dynamodb.reservations_table_name
    ORDERS_TABLE       = module.dynamodb.orders_table_name
  })
}

# Whose tokens order-api accepts: the development issuer (the key `make
# ecs-keygen` made, kept in .run/ecs-auth) unless auth_jwks_url names a real one.
module "auth" {
  source = "./modules/auth"

  issuer        = var.auth_issuer
  audience      = var.auth_audience
  jwks_url      = var.auth_jwks_url
  subject_claim = var.auth_subject_claim
  dev_jwks_file = coalesce(var.auth_dev_jwks_file, "${path.root}/../../../../.run/ecs-auth/jwks.json")
}

module "order_api" {
  source = "./modules/ecs-service"

  name                   = "order-api"
  cluster_arn            = module.ecs_cluster.cluster_arn
  capacity_provider_name = module.ecs_cluster.capacity_provider_name
  image                  = var.images.order_api
  region                 = data.aws_region.current.name
  execution_role_arn     = module.iam.execution_role_arns["order-api"]
  task_role_arn          = module.iam.task_role_arns["order-api"]
  log_group_name         = local.services.order-api.log_group_name
  log_retention_days     = var.log_retention_days
  memory_reservation_mib = var.task_memory_mib.reservation
  memory_limit_mib       = var.task_memory_mib.limit
  desired_count          = var.service_task_count.min
  autoscaling            = { min = var.service_task_count.min, max = var.service_task_count.max, cpu_target_percent = 70 }
  health_check_command   = ["CMD", "/order-api", "healthcheck"]
  target_group_arn       = module.alb.target_group_arn
  secrets                = local.processor_token_secrets

  environment = merge(local.common_environment, module.auth.environment, {
    ORDERS_TABLE                   = module.dynamodb.orders_table_name
    SRV_ENDPOINT                   = module.service_discovery.srv_names["order-processor"]
    RECONCILER_INTERVAL_SECONDS    = tostring(var.reconciler.interval_seconds)
    RECONCILER_GRACE_SECONDS       = tostring(var.reconciler.grace_seconds)
    RECONCILER_MAX_ATTEMPTS        = tostring(var.reconciler.max_attempts)
    RECONCILER_MAX_AGE_SECONDS     = tostring(var.reconciler.max_age_seconds)
    CUSTOMER_RATE_LIMIT_PER_SECOND = tostring(var.customer_rate_limit.per_second)
    CUSTOMER_RATE_LIMIT_BURST      = tostring(var.customer_rate_limit.burst)
    # Each proxy appends the address it received the request from to
    # X-Forwarded-For: CloudFront the viewer's, then the ALB CloudFront's. The
    # per-client rate limit keys on the entry the outermost proxy wrote.
    HTTP_TRUSTED_PROXY_HOPS = var.cloudfront_enabled ? "2" : "1"
  })

  # Tasks register with the target group only once a listener forwards to it.
  depends_on = [module.alb]
}

module "alarms" {
  source = "./modules/alarms"

  name                    = var.name
  alb_arn_suffix          = module.alb.arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  cluster_name            = module.ecs_cluster.cluster_name
  service_names           = [module.order_api.service_name, module.order_processor.service_name]
  orders_table_name       = module.dynamodb.orders_table_name
  task_memory_mib         = var.task_memory_mib
  extra_alarms            = var.extra_alarms
  alarm_email             = var.alarm_email
}
