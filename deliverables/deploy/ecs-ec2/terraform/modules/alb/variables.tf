variable "name" {
  description = "Name of the ALB and prefix of its target group (at most 26 characters: AWS caps both at 32)."
  type        = string

  validation {
    condition     = length(var.name) <= 26 && can(regex("^[a-zA-Z0-9-]+$", var.name))
    error_message = "name must be at most 26 letters, digits and hyphens."
  }
}

variable "vpc_id" {
  description = "VPC of the target group."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets, in at least two Availability Zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two Availability Zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the ALB."
  type        = list(string)
}

variable "health_check_path" {
  description = "Endpoint the target group probes on the API port; a target receives traffic only while it answers 200. /health/ready (default) or /health/live: the detailed /health and /metrics answer only on the management port, which the ALB never reaches."
  type        = string
  default     = "/health/ready"

  validation {
    condition     = contains(["/health/ready", "/health/live"], var.health_check_path)
    error_message = "health_check_path must be /health/ready or /health/live: /health and /metrics are on the management port, which no target group reaches (they answer 404 on the API port)."
  }
}

variable "deregistration_delay_seconds" {
  description = "How long a deregistering target keeps its in-flight requests. Short, because the services stop reporting ready at SIGTERM and drain on their own (SHUTDOWN_DRAIN_SECONDS), and a long delay only slows deploys and `terraform destroy`."
  type        = number
  default     = 15

  validation {
    condition     = var.deregistration_delay_seconds >= 0 && var.deregistration_delay_seconds <= 3600
    error_message = "deregistration_delay_seconds must be 0-3600."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for an HTTPS listener. null (default): HTTP on :80 only. Set: :443 serves, :80 redirects to it."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the ALB until turned off. Off so `terraform destroy` works on a demo."
  type        = bool
  default     = false
}

variable "idle_timeout_seconds" {
  description = "Connection idle timeout. The API answers in well under a second; 30 s frees idle connections sooner than the default 60."
  type        = number
  default     = 30
}
