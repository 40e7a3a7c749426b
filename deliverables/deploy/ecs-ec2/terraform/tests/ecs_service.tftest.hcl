# A service's task definition and deployment settings: bridge mode with a
# dynamic host port, hardened container, health check, logs with retention,
# circuit breaker with rollback, auto scaling.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                   = "order-api"
  cluster_arn            = "arn:aws:ecs:eu-west-1:123456789012:cluster/order-system"
  capacity_provider_name = "order-system"
  image                  = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:3f2c1e9a7b4d"
  region                 = "eu-west-1"
  execution_role_arn     = "arn:aws:iam::123456789012:role/order-system-order-api-execution"
  task_role_arn          = "arn:aws:iam::123456789012:role/order-system-order-api-task"
  log_group_name         = "/ecs/order-system/order-api"
  health_check_command   = ["CMD", "/order-api", "healthcheck"]
  target_group_arn       = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-0123/0123456789abcdef"
  environment            = { AWS_REGION = "eu-west-1", ORDERS_TABLE = "order-system-orders" }
  secrets                = { PROCESSOR_TOKENS = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }
}

run "task_definition_is_hardened" {
  command = apply

  module {
    source = "./modules/ecs-service"
  }

  assert {
    condition     = aws_ecs_task_definition.this.network_mode == "bridge" && aws_ecs_task_definition.this.requires_compatibilities == toset(["EC2"])
    error_message = "Tasks run on EC2 in bridge mode."
  }

  assert {
    condition     = output.container_definition.portMappings == [{ containerPort = 8000, hostPort = 0, protocol = "tcp" }]
    error_message = "Port 8000 maps to a dynamic host port (hostPort 0)."
  }

  assert {
    condition     = output.container_definition.readonlyRootFilesystem && output.container_definition.user == "65532:65532" && !output.container_definition.privileged
    error_message = "Read-only root filesystem, non-root user 65532, not privileged."
  }

  assert {
    condition     = output.container_definition.linuxParameters.capabilities.drop == ["ALL"] && output.container_definition.dockerSecurityOptions == ["no-new-privileges"]
    error_message = "All capabilities dropped and no privilege escalation."
  }

  assert {
    condition     = output.container_definition.healthCheck.command == ["CMD", "/order-api", "healthcheck"]
    error_message = "The container health check runs the binary's healthcheck subcommand (no shell in the image)."
  }

  assert {
    condition     = output.container_definition.memoryReservation == 64 && output.container_definition.memory == 128 && output.container_definition.stopTimeout == 30
    error_message = "64 MiB soft / 128 MiB hard, and 30 s between SIGTERM and SIGKILL by default."
  }

  assert {
    condition     = output.container_definition.environment == [{ name = "AWS_REGION", value = "eu-west-1" }, { name = "ORDERS_TABLE", value = "order-system-orders" }]
    error_message = "The environment map must reach the container, sorted by name."
  }

  assert {
    condition     = output.container_definition.secrets == [{ name = "PROCESSOR_TOKENS", valueFrom = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens" }] && !strcontains(aws_ecs_task_definition.this.container_definitions, "\"PROCESSOR_TOKENS\",\"value\"")
    error_message = "Secrets reach the container as secrets (name + valueFrom), never as a plain environment value."
  }

  assert {
    condition     = output.container_definition.logConfiguration.logDriver == "awslogs" && output.container_definition.logConfiguration.options["awslogs-group"] == "/ecs/order-system/order-api" && aws_cloudwatch_log_group.this.retention_in_days == 14
    error_message = "Logs go to the service's own log group, kept 14 days."
  }

  assert {
    condition     = aws_ecs_service.this.deployment_circuit_breaker[0].enable && aws_ecs_service.this.deployment_circuit_breaker[0].rollback
    error_message = "A failing deployment must stop and roll back."
  }

  assert {
    condition     = aws_ecs_service.this.deployment_minimum_healthy_percent == 100 && aws_ecs_service.this.deployment_maximum_percent == 200
    error_message = "Rolling deploys start the new task before stopping the old one."
  }

  assert {
    condition     = one(aws_ecs_service.this.load_balancer).container_port == 8000 && aws_ecs_service.this.health_check_grace_period_seconds == 30 && length(aws_ecs_service.this.service_registries) == 0
    error_message = "With a target group the service registers container port 8000 with it."
  }

  assert {
    condition     = one(aws_ecs_service.this.capacity_provider_strategy).capacity_provider == "order-system" && aws_ecs_service.this.force_delete
    error_message = "Tasks are placed through the capacity provider; the service can be deleted without draining first."
  }

  assert {
    condition = (
      aws_appautoscaling_target.this.resource_id == "service/order-system/order-api" &&
      aws_appautoscaling_target.this.min_capacity == 1 && aws_appautoscaling_target.this.max_capacity == 3 &&
      aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageCPUUtilization"
    )
    error_message = "Service auto scaling tracks average CPU between 1 and 3 tasks."
  }
}

run "service_discovery_without_load_balancer" {
  command = apply

  module {
    source = "./modules/ecs-service"
  }

  variables {
    name                 = "order-processor"
    target_group_arn     = null
    service_registry_arn = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-0123456789abcdef"
  }

  assert {
    condition     = one(aws_ecs_service.this.service_registries).container_port == 8000 && one(aws_ecs_service.this.service_registries).container_name == "order-processor"
    error_message = "Bridge mode needs container name and port in the registry so Cloud Map can publish SRV records."
  }

  assert {
    condition     = length(aws_ecs_service.this.load_balancer) == 0 && aws_ecs_service.this.health_check_grace_period_seconds == null
    error_message = "No load balancer, so no health check grace period."
  }
}

run "no_secrets_no_secrets_field" {
  command = apply

  module {
    source = "./modules/ecs-service"
  }

  variables {
    secrets = {}
  }

  assert {
    condition     = output.container_definition.secrets == null
    error_message = "Without secrets the container definition's secrets are null, which the provider leaves out (an empty list would differ from what ECS returns)."
  }
}

run "secret_given_twice_is_refused" {
  command = plan

  module {
    source = "./modules/ecs-service"
  }

  variables {
    secrets = { ORDERS_TABLE = "arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/orders-table" }
  }

  expect_failures = [var.secrets]
}

run "secret_by_name_instead_of_arn_is_refused" {
  command = plan

  module {
    source = "./modules/ecs-service"
  }

  variables {
    secrets = { PROCESSOR_TOKENS = "/order-system/processor-tokens" }
  }

  expect_failures = [var.secrets]
}

run "latest_tag_is_refused" {
  command = plan

  module {
    source = "./modules/ecs-service"
  }

  variables {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:latest"
  }

  expect_failures = [var.image]
}

run "untagged_image_is_refused" {
  command = plan

  module {
    source = "./modules/ecs-service"
  }

  variables {
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api"
  }

  expect_failures = [var.image]
}

run "root_user_is_refused" {
  command = plan

  module {
    source = "./modules/ecs-service"
  }

  variables {
    user = "0:0"
  }

  expect_failures = [var.user]
}
