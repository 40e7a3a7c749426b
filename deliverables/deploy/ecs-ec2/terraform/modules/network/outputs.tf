output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability Zones the subnets are in."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (the ALB's, and the instances' unless enable_nat_gateway)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets; empty unless enable_nat_gateway."
  value       = aws_subnet.private[*].id
}

output "instance_subnet_ids" {
  description = "Where the container instances go: private subnets with NAT, public ones without."
  value       = var.enable_nat_gateway ? aws_subnet.private[*].id : aws_subnet.public[*].id
}

output "instances_need_public_ip" {
  description = "true when instances reach ECR, ECS, SSM and CloudWatch through the internet gateway and so need a public IPv4 address."
  value       = !var.enable_nat_gateway
}

output "nat_gateway_count" {
  description = "NAT gateways created: 0 by default, 1 with enable_nat_gateway."
  value       = length(aws_nat_gateway.this)
}

output "dynamodb_endpoint_id" {
  description = "ID of the DynamoDB gateway endpoint."
  value       = aws_vpc_endpoint.dynamodb.id
}
