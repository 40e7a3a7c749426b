# Alarms for what a user of the system feels first. CloudWatch's free tier
# covers 10 alarm metrics a month, and AWS creates 6 alarms of its own for
# this deployment (2 per target tracking policy: one per service, one for the
# capacity provider's managed scaling; the root module counts them). So this
# module keeps 4 by default: the API down, its 5xx, and each service near its
# memory hard limit. extra_alarms adds p99 latency and orders write
# throttles, at 0.10 USD per alarm metric-month each.

locals {
  alarm_actions = aws_sns_topic.alarms[*].arn
  # The hard limit's threshold in the metric's unit (percent of the reservation).
  memory_threshold_of_reservation = floor(var.memory_threshold_percent * var.task_memory_mib.limit / var.task_memory_mib.reservation)
}

resource "aws_sns_topic" "alarms" {
  count = var.alarm_email == null ? 0 : 1

  name = "${var.name}-alarms"
  # The AWS managed key: encrypted at rest at no monthly cost.
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "no_healthy_api_targets" {
  alarm_name          = "${var.name}-no-healthy-api-targets"
  alarm_description   = "No order-api task passes the ALB health check (/health/ready): the API is down."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  # No data means no targets reported at all.
  treat_missing_data = "breaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "order-api answered more than ${var.target_5xx_threshold} 5xx in 5 minutes (503 means DynamoDB is unavailable)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.target_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_p99_latency" {
  count = var.extra_alarms ? 1 : 0

  alarm_name          = "${var.name}-api-p99-latency"
  alarm_description   = "order-api p99 response time above ${var.p99_latency_threshold_seconds} s for 3 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.p99_latency_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# ECS reports a service's MemoryUtilization against the memory its tasks
# reserve: with no task-level memory, the containers' memoryReservation (the
# soft limit), not the hard limit (memory) at which the kernel kills the
# container. Usage may exceed the reservation, so the metric passes 100 % long
# before any risk; the threshold is scaled so the alarm fires at
# memory_threshold_percent of the hard limit.
resource "aws_cloudwatch_metric_alarm" "service_memory" {
  for_each = toset(var.service_names)

  alarm_name          = "${var.name}-${each.key}-memory"
  alarm_description   = "${each.key} uses more than ${var.memory_threshold_percent}% of its ${var.task_memory_mib.limit} MiB hard limit (MemoryUtilization above ${local.memory_threshold_of_reservation}% of the ${var.task_memory_mib.reservation} MiB reservation): at the limit the kernel kills the container."
  namespace           = "AWS/ECS"
  metric_name         = "MemoryUtilization"
  dimensions          = { ClusterName = var.cluster_name, ServiceName = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.memory_threshold_of_reservation
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "orders_write_throttles" {
  count = var.extra_alarms ? 1 : 0

  alarm_name          = "${var.name}-orders-write-throttles"
  alarm_description   = "DynamoDB throttled writes to ${var.orders_table_name}: provisioned capacity is too small for the traffic (raise it or switch to PAY_PER_REQUEST)."
  namespace           = "AWS/DynamoDB"
  metric_name         = "WriteThrottleEvents"
  dimensions          = { TableName = var.orders_table_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
