# The tables exactly as the services and orderctl expect them (read from the
# Rust source, so renaming an index there fails here), capacity inside the
# free tier, encryption, recovery, and seed items Terraform writes only once.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name_prefix = "order-system"
}

run "tables_match_the_services" {
  command = apply

  module {
    source = "./modules/dynamodb"
  }

  assert {
    condition = (
      aws_dynamodb_table.orders.hash_key == "order_id" && aws_dynamodb_table.orders.range_key == null &&
      aws_dynamodb_table.inventory.hash_key == "product_id" &&
      aws_dynamodb_table.reservations.hash_key == "order_id"
    )
    error_message = "Hash keys must be orders.order_id, inventory.product_id, reservations.order_id (order-common/src/storage/schema.rs)."
  }

  assert {
    condition = {
      for index in aws_dynamodb_table.orders.global_secondary_index : index.name => [index.hash_key, index.range_key, index.projection_type]
      } == {
      "customer_id-created_at-index"   = ["customer_id", "created_at", "ALL"]
      "pending_shard-created_at-index" = ["pending_shard", "created_at", "ALL"]
    }
    error_message = "The orders table needs exactly the customer and pending indexes the services query, projecting ALL."
  }

  assert {
    condition = alltrue([
      for index in aws_dynamodb_table.orders.global_secondary_index :
      strcontains(file("../../../../starter/apps/order-common/src/storage/schema.rs"), "\"${index.name}\"")
    ])
    error_message = "An index name here is missing from starter/apps/order-common/src/storage/schema.rs: the services would query an index that does not exist."
  }

  assert {
    condition     = toset([for attribute in aws_dynamodb_table.orders.attribute : "${attribute.name}:${attribute.type}"]) == toset(["order_id:S", "customer_id:S", "created_at:S", "pending_shard:S"])
    error_message = "The orders table's key attributes are exactly order_id, customer_id, created_at and pending_shard (the pending index's partition key), all strings."
  }

  assert {
    condition     = alltrue([for table in [aws_dynamodb_table.orders, aws_dynamodb_table.inventory, aws_dynamodb_table.reservations] : table.billing_mode == "PROVISIONED" && table.server_side_encryption[0].enabled && table.point_in_time_recovery[0].enabled && !table.deletion_protection_enabled])
    error_message = "Defaults: provisioned (free tier), encrypted with KMS, point-in-time recovery on, deletion protection off."
  }

  assert {
    condition     = output.provisioned_capacity_total.read <= 25 && output.provisioned_capacity_total.write <= 25
    error_message = "Provisioned capacity over all tables and indexes must stay within the free 25 RCU / 25 WCU."
  }

  assert {
    condition = (
      aws_dynamodb_table.orders.read_capacity + aws_dynamodb_table.inventory.read_capacity + aws_dynamodb_table.reservations.read_capacity +
      sum([for index in aws_dynamodb_table.orders.global_secondary_index : index.read_capacity]) == output.provisioned_capacity_total.read
    )
    error_message = "The reported read capacity total must be what the tables and indexes actually provision."
  }

  assert {
    condition = jsondecode(aws_dynamodb_table_item.seed_product["PROD001"].item) == {
      product_id = { S = "PROD001" }
      name       = { S = "Sample Product 1" }
      price      = { N = "29" }
      stock      = { N = "100" }
    }
    error_message = "PROD001 must be seeded as orderctl seeds it: price 29, stock 100, numbers as N."
  }

  assert {
    condition     = jsondecode(aws_dynamodb_table_item.seed_product["PROD002"].item).stock.N == "50" && aws_dynamodb_table_item.seed_product["PROD002"].table_name == aws_dynamodb_table.inventory.name
    error_message = "PROD002 (stock 50) must be seeded into the inventory table."
  }
}

run "on_demand_mode" {
  command = apply

  module {
    source = "./modules/dynamodb"
  }

  variables {
    billing_mode = "PAY_PER_REQUEST"
  }

  assert {
    condition     = aws_dynamodb_table.orders.billing_mode == "PAY_PER_REQUEST" && output.provisioned_capacity_total == { read = 0, write = 0 }
    error_message = "PAY_PER_REQUEST provisions no capacity."
  }
}

run "unknown_billing_mode_is_refused" {
  command = plan

  module {
    source = "./modules/dynamodb"
  }

  variables {
    billing_mode = "FREE"
  }

  expect_failures = [var.billing_mode]
}

run "negative_stock_is_refused" {
  command = plan

  module {
    source = "./modules/dynamodb"
  }

  variables {
    seed_products = { PROD001 = { name = "x", price = 1, stock = -1 } }
  }

  expect_failures = [var.seed_products]
}
