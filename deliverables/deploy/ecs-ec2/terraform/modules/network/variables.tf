variable "name" {
  description = "Prefix of every resource name, e.g. \"order-system\"."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC. Each subnet gets a /24 carved from it."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR block of /20 or larger, e.g. 10.42.0.0/16."
  }
}

variable "az_count" {
  description = "Number of Availability Zones to spread subnets over. An ALB needs at least two."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 2 to 4."
  }
}

variable "availability_zones" {
  description = "Availability Zones to use, pinned by name; null takes the first az_count zones of the Region that need no opt-in."
  type        = list(string)
  default     = null

  validation {
    condition     = var.availability_zones == null ? true : length(var.availability_zones) >= 2
    error_message = "Give at least two Availability Zones (an ALB needs two)."
  }
}

variable "enable_nat_gateway" {
  description = <<-EOT
    false (default, free tier): instances run in the public subnets with a public IPv4 address,
    reachable only through their security group. true: private subnets are added, instances move
    there without public addresses, and ONE NAT gateway (about 32 USD/month plus data) gives them
    egress. Not free.
  EOT
  type        = bool
  default     = false
}
