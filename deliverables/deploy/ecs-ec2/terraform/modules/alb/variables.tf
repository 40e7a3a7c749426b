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

variable "internal" {
  description = "An internal ALB in subnets of its own with no route out of the VPC, reached only through CloudFront's VPC origin (the default deployment). false: internet-facing in subnet_ids."
  type        = bool
  default     = false

  validation {
    condition     = !var.internal || (var.vpc_cidr != null && length(var.availability_zones) >= 2)
    error_message = "An internal ALB needs vpc_cidr and at least two availability_zones to cut its subnets from."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC, from which the internal ALB's subnets are cut (only with internal)."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_cidr == null || can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a CIDR block such as 10.0.0.0/16."
  }
}

variable "availability_zones" {
  description = "Availability Zones of the internal ALB's subnets, at least two (only with internal)."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Public subnets of an internet-facing ALB, in at least two Availability Zones (unused with internal)."
  type        = list(string)

  validation {
    condition     = var.internal || length(var.subnet_ids) >= 2
    error_message = "An internet-facing ALB needs subnet_ids in at least two Availability Zones."
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
  description = "ACM certificate for an HTTPS listener on an internet-facing ALB (the alternative to CloudFront, for a domain of your own). null (default): HTTP on :80 only. Set: :443 serves, :80 redirects to it."
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
