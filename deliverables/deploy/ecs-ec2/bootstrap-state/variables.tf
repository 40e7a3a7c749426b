variable "aws_region" {
  description = "Region of the state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a Region code such as eu-west-1."
  }
}

variable "bucket_name" {
  description = "Name of the state bucket; null means \"<name>-tfstate-<account id>-<region>\" (bucket names are global, the account id makes it unique)."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "name" {
  description = "Prefix of the default bucket name and of the state key."
  type        = string
  default     = "order-system"
}

variable "noncurrent_version_retention_days" {
  description = "Days old state versions are kept (versioning lets you roll a broken state back)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
