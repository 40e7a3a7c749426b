output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "capacity_provider_name" {
  description = "Capacity provider services place tasks with. Read from the cluster association, so services depend on it and are destroyed before it."
  value       = one(aws_ecs_cluster_capacity_providers.this.capacity_providers)
}

output "autoscaling_group_name" {
  description = "Auto Scaling group of the container instances."
  value       = aws_autoscaling_group.this.name
}

output "architecture" {
  description = "CPU architecture of the instances (x86_64 or arm64): the images must include it."
  value       = local.architecture
}

output "ami_id" {
  description = "ECS-optimized AMI the launch template uses."
  value       = aws_launch_template.this.image_id
}
