output "alarm_names" {
  description = "Names of the alarms this module creates."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.no_healthy_api_targets.alarm_name,
      aws_cloudwatch_metric_alarm.api_5xx.alarm_name,
    ],
    aws_cloudwatch_metric_alarm.api_p99_latency[*].alarm_name,
    aws_cloudwatch_metric_alarm.orders_write_throttles[*].alarm_name,
    [for alarm in aws_cloudwatch_metric_alarm.service_memory : alarm.alarm_name],
  )
}

output "alarm_metric_count" {
  description = "Alarm metrics billed for these alarms (each alarm here watches one metric)."
  value = (
    1 + 1 + length(aws_cloudwatch_metric_alarm.api_p99_latency) + length(aws_cloudwatch_metric_alarm.orders_write_throttles) +
    length(aws_cloudwatch_metric_alarm.service_memory)
  )
}

output "sns_topic_arn" {
  description = "SNS topic the alarms notify; null without alarm_email."
  value       = one(aws_sns_topic.alarms[*].arn)
}
