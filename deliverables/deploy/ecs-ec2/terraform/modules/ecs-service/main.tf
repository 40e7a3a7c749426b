resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:A customer managed KMS key costs about 1 USD/month; log_kms_key_arn accepts one, and CloudWatch Logs encrypts at rest without it.
  # checkov:skip=CKV_AWS_338:Retention is a variable (log_retention_days, 14 by default) kept short to stay within the free 5 GB; a year of logs is a compliance choice, not a default.
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["EC2"]
  # Bridge mode with dynamic host ports: tasks share the instance's network
  # interface, so a micro instance (2-3 ENIs) can run many of them, where
  # awsvpc would give each task an ENI and fit only one or two.
  network_mode       = "bridge"
  execution_role_arn = var.execution_role_arn
  task_role_arn      = var.task_role_arn

  container_definitions = jsonencode([{
    name      = var.name
    image     = var.image
    essential = true
    command   = var.command

    cpu               = var.cpu_units
    memoryReservation = var.memory_reservation_mib
    memory            = var.memory_limit_mib

    portMappings = [{
      containerPort = var.container_port
      hostPort      = 0 # dynamic: Docker picks a free port from the host range
      protocol      = "tcp"
    }]

    environment = [for name in sort(keys(var.environment)) : { name = name, value = var.environment[name] }]
    # ECS resolves these when it starts the task, with the execution role: the
    # values reach the container's environment but never the task definition.
    secrets = length(var.secrets) == 0 ? null : [for name in sort(keys(var.secrets)) : { name = name, valueFrom = var.secrets[name] }]

    user                   = var.user
    readonlyRootFilesystem = true
    privileged             = false
    dockerSecurityOptions  = ["no-new-privileges"]
    linuxParameters = {
      capabilities = { drop = ["ALL"] }
    }
    ulimits = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]

    healthCheck = {
      command     = var.health_check_command
      interval    = 10
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }
    stopTimeout = var.stop_timeout_seconds

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "ecs"
        # A slow CloudWatch must not block the service's stdout.
        mode            = "non-blocking"
        max-buffer-size = "4m"
      }
    }
  }])
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = var.desired_count

  capacity_provider_strategy {
    capacity_provider = var.capacity_provider_name
    weight            = 1
    base              = 0
  }

  # Rolling deploys start the new task before stopping the old one, and a
  # deployment that never gets healthy rolls back on its own.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Fill one instance before using another: the free tier pays for one.
  ordered_placement_strategy {
    type  = "binpack"
    field = "memory"
  }

  dynamic "load_balancer" {
    for_each = var.target_group_arn == null ? [] : [var.target_group_arn]
    content {
      target_group_arn = load_balancer.value
      container_name   = var.name
      container_port   = var.container_port
    }
  }

  health_check_grace_period_seconds = var.target_group_arn == null ? null : var.health_check_grace_period_seconds

  dynamic "service_registries" {
    for_each = var.service_registry_arn == null ? [] : [var.service_registry_arn]
    content {
      registry_arn   = service_registries.value
      container_name = var.name
      container_port = var.container_port
    }
  }

  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  # Deletes the service without first waiting for it to scale to zero.
  force_delete          = true
  wait_for_steady_state = false

  lifecycle {
    # Service auto scaling owns the task count after creation.
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${element(split("/", var.cluster_arn), length(split("/", var.cluster_arn)) - 1)}/${aws_ecs_service.this.name}"
  min_capacity       = var.autoscaling.min
  max_capacity       = var.autoscaling.max
}

# Target tracking creates two CloudWatch alarms of its own (high and low);
# the root module counts them against the free tier's ten.
resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.cpu_target_percent
    scale_out_cooldown = 60
    scale_in_cooldown  = 180

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
