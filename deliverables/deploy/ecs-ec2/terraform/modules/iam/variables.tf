variable "name" {
  description = "Prefix of every role name, e.g. \"order-system\"."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster the container instances may join (and no other)."
  type        = string
}

variable "services" {
  description = <<-EOT
    Per service (key = service name): its log group, its image, the SSM parameters its container
    secrets come from, and the DynamoDB access its task role gets. Each service gets its own
    execution role (pull its own image, write its own log group, read exactly the listed
    parameters) and its own task role (exactly the listed actions on exactly the listed tables).
  EOT
  type = map(object({
    log_group_name = string
    image          = string
    # ARNs of the SSM parameters ECS injects as the container's secrets.
    secret_parameter_arns = optional(list(string), [])
    dynamodb_access = list(object({
      table_arn = string
      actions   = list(string)
      # Query on a global secondary index is authorized against <table>/index/<name>.
      include_indexes = optional(bool, false)
    }))
  }))

  validation {
    condition = alltrue(flatten([
      for service in values(var.services) : [
        for access in service.dynamodb_access : [
          for action in access.actions : can(regex("^dynamodb:[A-Z][A-Za-z]+$", action)) && !can(regex("\\*", action))
        ]
      ]
    ]))
    error_message = "DynamoDB actions must be named one by one (dynamodb:GetItem, ...): no wildcards."
  }

  validation {
    condition = alltrue(flatten([
      for service in values(var.services) : [
        for arn in service.secret_parameter_arns : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[^*?]+$", arn))
      ]
    ]))
    error_message = "secret_parameter_arns must be full SSM parameter ARNs (arn:aws:ssm:<region>:<account>:parameter/<name>) without wildcards."
  }
}
