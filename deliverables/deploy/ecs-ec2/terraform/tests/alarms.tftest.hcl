# Alarms on the ALB and the services, within the free tier's alarm count; the
# memory alarm fires near the hard limit although ECS measures against the
# reservation.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                    = "order-system"
  alb_arn_suffix          = "app/order-system/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/api-0123/0123456789abcdef"
  cluster_name            = "order-system"
  service_names           = ["order-api", "order-processor"]
  orders_table_name       = "order-system-orders"
  task_memory_mib         = { reservation = 64, limit = 128 }
}

run "alarms_without_notifications" {
  command = apply

  module {
    source = "./modules/alarms"
  }

  assert {
    condition     = output.alarm_metric_count == 4 && length(output.alarm_names) == 4 && length(aws_cloudwatch_metric_alarm.api_p99_latency) == 0 && length(aws_cloudwatch_metric_alarm.orders_write_throttles) == 0
    error_message = "Four alarms of one metric each by default: with the six AWS creates for target tracking, exactly the free tier's ten."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.service_memory["order-api"].threshold == 180 && strcontains(aws_cloudwatch_metric_alarm.service_memory["order-api"].alarm_description, "90% of its 128 MiB hard limit")
    error_message = "MemoryUtilization is relative to the 64 MiB reservation: 90 % of the 128 MiB hard limit is 180 % of it."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_healthy_api_targets.treat_missing_data == "breaching" && aws_cloudwatch_metric_alarm.no_healthy_api_targets.dimensions.TargetGroup == "targetgroup/api-0123/0123456789abcdef"
    error_message = "No data from the target group means no healthy target: the alarm must fire."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.service_memory["order-processor"].dimensions == tomap({ ClusterName = "order-system", ServiceName = "order-processor" })
    error_message = "Each service's memory alarm watches that service."
  }

  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && length(aws_cloudwatch_metric_alarm.api_5xx.alarm_actions) == 0
    error_message = "Without alarm_email there is no topic and no action."
  }
}

run "alarm_email_subscribes_to_an_encrypted_topic" {
  command = apply

  module {
    source = "./modules/alarms"
  }

  variables {
    alarm_email = "ops@example.com"
  }

  assert {
    condition     = aws_sns_topic.alarms[0].kms_master_key_id == "alias/aws/sns" && aws_sns_topic_subscription.email[0].endpoint == "ops@example.com"
    error_message = "Notifications go through an encrypted SNS topic to the address given."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.api_5xx.alarm_actions == toset([aws_sns_topic.alarms[0].arn])
    error_message = "Alarms notify the topic."
  }
}

run "extra_alarms" {
  command = apply

  module {
    source = "./modules/alarms"
  }

  variables {
    extra_alarms = true
  }

  assert {
    condition     = output.alarm_metric_count == 6 && length(output.alarm_names) == 6 && aws_cloudwatch_metric_alarm.orders_write_throttles[0].dimensions.TableName == "order-system-orders"
    error_message = "extra_alarms adds the p99 latency and orders write-throttle alarms, and the count follows."
  }
}

run "memory_threshold_above_the_hard_limit_is_refused" {
  command = plan

  module {
    source = "./modules/alarms"
  }

  variables {
    memory_threshold_percent = 180
  }

  expect_failures = [var.memory_threshold_percent]
}

run "malformed_email_is_refused" {
  command = plan

  module {
    source = "./modules/alarms"
  }

  variables {
    alarm_email = "not-an-address"
  }

  expect_failures = [var.alarm_email]
}
