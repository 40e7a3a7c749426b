output "orders_table_name" {
  description = "Name of the orders table (order-api's ORDERS_TABLE)."
  value       = aws_dynamodb_table.orders.name
}

output "orders_table_arn" {
  description = "ARN of the orders table; its indexes are <arn>/index/<name>."
  value       = aws_dynamodb_table.orders.arn
}

output "inventory_table_name" {
  description = "Name of the inventory table (order-processor's INVENTORY_TABLE)."
  value       = aws_dynamodb_table.inventory.name
}

output "inventory_table_arn" {
  description = "ARN of the inventory table."
  value       = aws_dynamodb_table.inventory.arn
}

output "reservations_table_name" {
  description = "Name of the reservations table (order-processor's RESERVATIONS_TABLE)."
  value       = aws_dynamodb_table.reservations.name
}

output "reservations_table_arn" {
  description = "ARN of the reservations table."
  value       = aws_dynamodb_table.reservations.arn
}

output "provisioned_capacity_total" {
  description = "Read and write capacity units provisioned over all tables and indexes (0 with PAY_PER_REQUEST)."
  value = {
    read  = local.provisioned ? local.total_read : 0
    write = local.provisioned ? local.total_write : 0
  }
}
