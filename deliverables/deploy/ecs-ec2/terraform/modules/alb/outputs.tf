output "dns_name" {
  description = "DNS name of the ALB."
  value       = aws_lb.this.dns_name
}

output "url" {
  description = "Base URL of order-api through the ALB (reachable only inside the VPC when internal)."
  value       = "${var.certificate_arn == null ? "http" : "https"}://${aws_lb.this.dns_name}"
}

output "arn_suffix" {
  description = "ALB ARN suffix, the LoadBalancer dimension of its CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn" {
  description = "Target group of order-api."
  value       = aws_lb_target_group.api.arn
}

output "target_group_arn_suffix" {
  description = "Target group ARN suffix, the TargetGroup dimension of its CloudWatch metrics."
  value       = aws_lb_target_group.api.arn_suffix
}

output "listener_arns" {
  description = "Listener ARNs; the ECS service waits for them so the target group is attached before tasks register."
  value       = concat([aws_lb_listener.http.arn], aws_lb_listener.https[*].arn)
}

output "arn" {
  description = "ALB ARN (CloudFront's VPC origin points at it)."
  value       = aws_lb.this.arn
}
