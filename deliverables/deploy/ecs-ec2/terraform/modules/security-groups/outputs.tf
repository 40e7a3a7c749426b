output "alb_security_group_id" {
  description = "Security group of the ALB."
  value       = aws_security_group.alb.id
}

output "instances_security_group_id" {
  description = "Security group of the ECS container instances (and so of every bridge-mode task)."
  value       = aws_security_group.instances.id
}
