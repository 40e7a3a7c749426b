output "instance_profile_name" {
  description = "Instance profile of the container instances."
  value       = aws_iam_instance_profile.instance.name
}

output "instance_role_name" {
  description = "Role of the container instances."
  value       = aws_iam_role.instance.name
}

output "execution_role_arns" {
  description = "Task execution role ARN per service."
  value       = { for service, role in aws_iam_role.execution : service => role.arn }
}

output "task_role_arns" {
  description = "Task role ARN per service."
  value       = { for service, role in aws_iam_role.task : service => role.arn }
}

output "ecr_repository_arns" {
  description = "ECR repository each execution role may pull from (null for images outside ECR)."
  value       = local.ecr_repository_arns
}

output "task_role_dynamodb_statements" {
  description = "Per service, the DynamoDB statements of its task role (decoded), for review and tests."
  value       = { for service, policy in aws_iam_role_policy.task_dynamodb : service => jsondecode(policy.policy).Statement }
}

output "execution_role_secret_statements" {
  description = "Per service with container secrets, the SSM statements of its execution role (decoded), for review and tests."
  value       = { for service, policy in aws_iam_role_policy.execution_secrets : service => jsondecode(policy.policy).Statement }
}
