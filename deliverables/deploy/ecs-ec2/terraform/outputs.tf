output "api_url" {
  description = "order-api's base URL, the SERVER_ENDPOINT of the smoke tests: https://<id>.cloudfront.net by default; the ALB's own URL with cloudfront_enabled = false."
  value       = var.cloudfront_enabled ? module.cdn[0].url : module.alb.url
}

output "cluster_name" {
  description = "ECS cluster running the services."
  value       = module.ecs_cluster.cluster_name
}

output "service_names" {
  description = "ECS services."
  value       = [module.order_api.service_name, module.order_processor.service_name]
}

output "autoscaling_group_name" {
  description = "Auto Scaling group of the container instances (find instances for Session Manager with it)."
  value       = module.ecs_cluster.autoscaling_group_name
}

output "instance_architecture" {
  description = "CPU architecture of the container instances; the pushed images must include it."
  value       = module.ecs_cluster.architecture
}

output "processor_srv_name" {
  description = "SRV name order-api resolves to find order-processor (its SRV_ENDPOINT)."
  value       = module.service_discovery.srv_names["order-processor"]
}

output "table_names" {
  description = "DynamoDB tables (ORDERS_TABLE, INVENTORY_TABLE, RESERVATIONS_TABLE)."
  value = {
    orders       = module.dynamodb.orders_table_name
    inventory    = module.dynamodb.inventory_table_name
    reservations = module.dynamodb.reservations_table_name
  }
}

output "log_group_names" {
  description = "CloudWatch log groups of the services."
  value = {
    order-api       = module.order_api.log_group_name
    order-processor = module.order_processor.log_group_name
  }
}

output "nat_gateway_count" {
  description = "NAT gateways (0 unless enable_nat_gateway)."
  value       = module.network.nat_gateway_count
}

output "alarm_metric_count" {
  description = "CloudWatch alarm metrics billed, the 6 that AWS creates for target tracking included (the free tier covers 10)."
  value       = local.alarm_metric_count
}

output "dynamodb_provisioned_capacity_total" {
  description = "Provisioned RCU/WCU over all tables and indexes (the free tier covers 25 each)."
  value       = module.dynamodb.provisioned_capacity_total
}

output "aws_region" {
  description = "Region of the deployment."
  value       = data.aws_region.current.name
}

output "processor_tokens_parameter_name" {
  description = "SSM SecureString holding the processor token list (PROCESSOR_TOKENS of both services). Rotate: aws ssm put-parameter --name <this> --type SecureString --overwrite --value 'old,new', then make ecs-redeploy; the same with 'new,old', then 'new'."
  value       = module.processor_tokens.parameter_name
}

output "order_api_auth" {
  description = "Whose tokens order-api accepts: issuer, audience, and development (true: the key of make ecs-keygen, tokens from make ecs-token)."
  value = {
    issuer      = module.auth.issuer
    audience    = module.auth.audience
    development = module.auth.development
  }
}
