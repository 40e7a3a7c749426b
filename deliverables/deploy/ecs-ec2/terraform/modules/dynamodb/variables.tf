variable "name_prefix" {
  description = "Prefix of the table names: tables are <prefix>-orders, <prefix>-inventory and <prefix>-reservations."
  type        = string
}

variable "billing_mode" {
  description = <<-EOT
    PROVISIONED (default): fixed capacity that stays inside the always-free 25 RCU / 25 WCU per
    Region (see provisioned_capacity). PAY_PER_REQUEST: no capacity planning and no throttling
    under load, but every request is billed (on-demand has no free allowance).
  EOT
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "PAY_PER_REQUEST"], var.billing_mode)
    error_message = "billing_mode must be PROVISIONED or PAY_PER_REQUEST."
  }
}

variable "provisioned_capacity" {
  description = <<-EOT
    Read and write capacity units per table and index when billing_mode is PROVISIONED. The
    free tier covers 25 RCU and 25 WCU summed over every table and index in the Region; the
    default uses 20 of each and leaves 5 for anything else in the account. One order costs 13
    WCU, as DynamoDB Local's ReturnConsumedCapacity counts them (a transaction's writes, its index
    updates included, count twice): 3 each on the orders table and its two indexes, 2 each on
    inventory and reservations. 4 WCU on each sustains about 1.3 orders a second, with DynamoDB
    burst capacity absorbing short peaks. Reads go mostly to the pending index: each order-api
    task's reconciler queries its eight shards per action every pass (about 2 RCU a second when
    idle); the processor reads a product's price once and the reservations only on a replay.
  EOT
  type = object({
    orders                   = object({ read = number, write = number })
    orders_by_customer_index = object({ read = number, write = number })
    orders_pending_index     = object({ read = number, write = number })
    inventory                = object({ read = number, write = number })
    reservations             = object({ read = number, write = number })
  })
  nullable = false
  default = {
    orders                   = { read = 5, write = 4 }
    orders_by_customer_index = { read = 3, write = 4 }
    orders_pending_index     = { read = 6, write = 4 }
    inventory                = { read = 3, write = 4 }
    reservations             = { read = 3, write = 4 }
  }

  validation {
    condition = alltrue(flatten([
      for capacity in values(var.provisioned_capacity) : [capacity.read >= 1, capacity.write >= 1, floor(capacity.read) == capacity.read, floor(capacity.write) == capacity.write]
    ]))
    error_message = "Every read and write capacity must be a whole number of at least 1."
  }
}

variable "point_in_time_recovery" {
  description = "Continuous backups (35 days of restore points). Billed per GB-month of table size: fractions of a cent for these tables, but not part of the free tier."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse DeleteTable until turned off. Off by default so `terraform destroy` cleans up a demo; turn it on for data you keep."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for encryption at rest (about 1 USD/month per key). null uses the AWS managed key aws/dynamodb, which costs nothing a month."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "seed_products" {
  description = <<-EOT
    Inventory items Terraform writes once when it creates them (the starter's PROD001 and PROD002
    by default). Terraform never rewrites them afterwards: orders decrement stock, and a later
    plan must not put it back. Use `orderctl seed --reset` to reset stock on purpose.
  EOT
  type = map(object({
    name  = string
    price = number
    stock = number
  }))
  nullable = false
  default = {
    PROD001 = { name = "Sample Product 1", price = 29, stock = 100 }
    PROD002 = { name = "Sample Product 2", price = 49, stock = 50 }
  }

  validation {
    condition     = alltrue([for id, product in var.seed_products : can(regex("^[A-Za-z0-9_.:-]{1,64}$", id)) && product.price >= 0 && product.stock >= 0 && floor(product.stock) == product.stock && floor(product.price) == product.price])
    error_message = "Product ids must be 1-64 characters of letters, digits and _.:-; price and stock whole numbers of at least 0."
  }
}
