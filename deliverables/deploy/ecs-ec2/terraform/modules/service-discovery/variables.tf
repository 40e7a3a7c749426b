variable "namespace" {
  description = "Private DNS namespace (a Route 53 private hosted zone) the services register in, e.g. \"order-system.internal\"."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.namespace)) && !endswith(var.namespace, ".local")
    error_message = "namespace must be a lowercase DNS name such as order-system.internal (not .local, which is multicast DNS)."
  }
}

variable "vpc_id" {
  description = "VPC the namespace resolves in."
  type        = string
}

variable "services" {
  description = "Names of the Cloud Map services to create, each answered with SRV records (host port + instance address, as bridge mode needs)."
  type        = set(string)
}

variable "dns_ttl_seconds" {
  description = "TTL of the SRV records. order-api caches them this long, so this is how fast it notices a replaced processor task."
  type        = number
  default     = 10

  validation {
    condition     = var.dns_ttl_seconds >= 1 && var.dns_ttl_seconds <= 300
    error_message = "dns_ttl_seconds must be 1-300."
  }
}
