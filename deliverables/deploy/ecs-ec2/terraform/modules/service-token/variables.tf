variable "name" {
  description = "Name (path) of the SSM parameter, e.g. \"/order-system/processor-tokens\"."
  type        = string

  validation {
    condition     = can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.name)) && length(var.name) <= 1011 && !can(regex("^/(aws|ssm)", lower(var.name)))
    error_message = "name must be a parameter path such as /order-system/processor-tokens: letters, digits and _ . - between slashes, at most 1011 characters, not starting with /aws or /ssm (reserved)."
  }
}

variable "description" {
  description = "Description of the parameter (shown in the console and by aws ssm describe-parameters; never the value)."
  type        = string
}

variable "token_length" {
  description = "Characters in the generated token. The services accept 32-512; 64 letters and digits carry about 380 bits."
  type        = number
  default     = 64

  validation {
    condition     = var.token_length >= 32 && var.token_length <= 512 && floor(var.token_length) == var.token_length
    error_message = "token_length must be a whole number from 32 to 512 (the token lengths the services accept)."
  }
}

variable "value_version" {
  description = "Terraform writes the value (a fresh token, or the placeholder when generate is false) when it creates the parameter and each time this number changes; otherwise it leaves the value alone."
  type        = number
  default     = 1

  validation {
    condition     = var.value_version >= 1 && floor(var.value_version) == var.value_version
    error_message = "value_version must be a whole number of at least 1."
  }
}

variable "generate" {
  description = "true: the value Terraform writes is a token it generates with Secrets Manager's GetRandomPassword (whoever runs Terraform needs secretsmanager:GetRandomPassword). false: a placeholder the services refuse, so an operator must write the token list (aws ssm put-parameter) before tasks can start; for a Terraform role without that right, or tokens made elsewhere (orderctl service-token). Also what terraform test uses: its mocked provider cannot open ephemeral resources."
  type        = bool
  default     = true
}
