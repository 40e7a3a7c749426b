output "namespace_id" {
  description = "ID of the private DNS namespace."
  value       = aws_service_discovery_private_dns_namespace.this.id
}

output "namespace_name" {
  description = "Name of the private DNS namespace."
  value       = aws_service_discovery_private_dns_namespace.this.name
}

output "service_arns" {
  description = "Cloud Map service ARN per service name (for the ECS service_registries block)."
  value       = { for name, service in aws_service_discovery_service.this : name => service.arn }
}

output "srv_names" {
  description = "SRV record name per service, e.g. order-processor.order-system.internal (order-api's SRV_ENDPOINT)."
  value       = { for name, service in aws_service_discovery_service.this : name => "${name}.${aws_service_discovery_private_dns_namespace.this.name}" }
}
