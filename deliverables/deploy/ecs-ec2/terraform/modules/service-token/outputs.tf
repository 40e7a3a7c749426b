output "parameter_name" {
  description = "Name of the SSM parameter (for aws ssm put-parameter --name)."
  value       = aws_ssm_parameter.this.name
}

output "parameter_arn" {
  description = "ARN of the SSM parameter: the valueFrom of a container secret, and the only resource the execution roles may read."
  value       = aws_ssm_parameter.this.arn
}

output "value_version" {
  description = "Version of the value Terraform last generated (value_wo_version)."
  value       = aws_ssm_parameter.this.value_wo_version
}
