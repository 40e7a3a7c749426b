variable "name" {
  description = "Prefix of the security group names."
  type        = string
}

variable "vpc_id" {
  description = "VPC the security groups belong to."
  type        = string
}

variable "alb_internal" {
  description = "The ALB is internal, behind CloudFront's VPC origin: :80 admits the VPC's range only and nothing from the internet."
  type        = bool
  default     = false

  validation {
    condition     = !var.alb_internal || var.vpc_cidr != null
    error_message = "alb_internal needs vpc_cidr, the range CloudFront's VPC origin connects from."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC (the source of the internal ALB's traffic)."
  type        = string
  default     = null
}

variable "https_enabled" {
  description = "Also open :443 on the ALB (set when the ALB gets a certificate; :80 then only redirects)."
  type        = bool
  default     = false
}

variable "host_port_range" {
  description = "Host ports Docker maps container ports to in bridge mode (dynamic host ports). The ALB and order-api reach tasks on these."
  type = object({
    from = number
    to   = number
  })
  default = { from = 32768, to = 65535 }

  validation {
    condition     = var.host_port_range.from >= 1024 && var.host_port_range.to <= 65535 && var.host_port_range.from <= var.host_port_range.to
    error_message = "host_port_range must lie within 1024-65535 with from <= to."
  }
}
