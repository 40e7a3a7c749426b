# Keys and indexes are exactly those of starter/apps/order-common/src/storage/schema.rs
# (what `orderctl create-tables` creates locally); tests/dynamodb.tftest.hcl
# holds the two together.

locals {
  provisioned = var.billing_mode == "PROVISIONED"
  capacity    = var.provisioned_capacity
  total_read  = sum([for capacity in values(local.capacity) : capacity.read])
  total_write = sum([for capacity in values(local.capacity) : capacity.write])
}

# A warning, not an error: an account may well pay for more.
check "provisioned_capacity_within_free_tier" {
  assert {
    condition     = !local.provisioned || (local.total_read <= 25 && local.total_write <= 25)
    error_message = "Provisioned capacity adds up to ${local.total_read} RCU / ${local.total_write} WCU: above the free tier's 25 / 25 per Region, the excess is billed."
  }
}

resource "aws_dynamodb_table" "orders" {
  # checkov:skip=CKV2_AWS_16:Capacity auto scaling would raise capacity past the free 25 RCU/WCU and bill it; billing_mode = "PAY_PER_REQUEST" is the switch for variable load.
  # checkov:skip=CKV_AWS_28:Point-in-time recovery is a variable (on by this module's default); the root turns it off for a demo that is destroyed the same day, because it is not free.
  name           = "${var.name_prefix}-orders"
  billing_mode   = var.billing_mode
  hash_key       = "order_id"
  read_capacity  = local.provisioned ? local.capacity.orders.read : null
  write_capacity = local.provisioned ? local.capacity.orders.write : null

  attribute {
    name = "order_id"
    type = "S"
  }

  attribute {
    name = "customer_id"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  attribute {
    name = "pending_shard"
    type = "S"
  }

  # A customer's orders, newest first (GET /orders?customer_id=...).
  global_secondary_index {
    name            = "customer_id-created_at-index"
    hash_key        = "customer_id"
    range_key       = "created_at"
    projection_type = "ALL"
    read_capacity   = local.provisioned ? local.capacity.orders_by_customer_index.read : null
    write_capacity  = local.provisioned ? local.capacity.orders_by_customer_index.write : null
  }

  # Sparse: pending_shard exists only while an order is unfinished, so the
  # reconciler reads just those. Its values (<action>#<0-7>) spread the
  # index's writes over eight partitions instead of one per action.
  global_secondary_index {
    name            = "pending_shard-created_at-index"
    hash_key        = "pending_shard"
    range_key       = "created_at"
    projection_type = "ALL"
    read_capacity   = local.provisioned ? local.capacity.orders_pending_index.read : null
    write_capacity  = local.provisioned ? local.capacity.orders_pending_index.write : null
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  deletion_protection_enabled = var.deletion_protection
}

resource "aws_dynamodb_table" "inventory" {
  # checkov:skip=CKV2_AWS_16:Capacity auto scaling would raise capacity past the free 25 RCU/WCU and bill it; billing_mode = "PAY_PER_REQUEST" is the switch for variable load.
  # checkov:skip=CKV_AWS_28:Point-in-time recovery is a variable (on by this module's default); the root turns it off for a demo that is destroyed the same day, because it is not free.
  name           = "${var.name_prefix}-inventory"
  billing_mode   = var.billing_mode
  hash_key       = "product_id"
  read_capacity  = local.provisioned ? local.capacity.inventory.read : null
  write_capacity = local.provisioned ? local.capacity.inventory.write : null

  attribute {
    name = "product_id"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  deletion_protection_enabled = var.deletion_protection
}

# The processor's decision per order, written in the same transaction as the
# stock decrement: what makes a retried order take stock only once.
resource "aws_dynamodb_table" "reservations" {
  # checkov:skip=CKV2_AWS_16:Capacity auto scaling would raise capacity past the free 25 RCU/WCU and bill it; billing_mode = "PAY_PER_REQUEST" is the switch for variable load.
  # checkov:skip=CKV_AWS_28:Point-in-time recovery is a variable (on by this module's default); the root turns it off for a demo that is destroyed the same day, because it is not free.
  name           = "${var.name_prefix}-reservations"
  billing_mode   = var.billing_mode
  hash_key       = "order_id"
  read_capacity  = local.provisioned ? local.capacity.reservations.read : null
  write_capacity = local.provisioned ? local.capacity.reservations.write : null

  attribute {
    name = "order_id"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  deletion_protection_enabled = var.deletion_protection
}

# Written once, then left to the application: ignore_changes keeps a later
# plan from restoring stock that orders have taken. Attribute names and types
# match `orderctl seed` (product_id S, name S, price N, stock N).
resource "aws_dynamodb_table_item" "seed_product" {
  for_each = var.seed_products

  table_name = aws_dynamodb_table.inventory.name
  hash_key   = aws_dynamodb_table.inventory.hash_key
  item = jsonencode({
    product_id = { S = each.key }
    name       = { S = each.value.name }
    price      = { N = tostring(each.value.price) }
    stock      = { N = tostring(each.value.stock) }
  })

  lifecycle {
    ignore_changes = [item]
  }
}
