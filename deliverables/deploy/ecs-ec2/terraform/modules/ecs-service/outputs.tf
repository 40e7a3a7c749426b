output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition the service runs."
  value       = aws_ecs_task_definition.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the service."
  value       = aws_cloudwatch_log_group.this.name
}

output "container_definition" {
  description = "The container definition as ECS receives it (decoded), for inspection and tests."
  value       = one(jsondecode(aws_ecs_task_definition.this.container_definitions))
}
