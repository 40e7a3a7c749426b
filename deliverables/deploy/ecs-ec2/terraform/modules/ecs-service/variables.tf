variable "name" {
  description = "Service name: names the ECS service, task family, container and log group."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster to run in."
  type        = string
}

variable "capacity_provider_name" {
  description = "Capacity provider to place tasks with (take it from the cluster's capacity provider association so the service is destroyed before it)."
  type        = string
}

variable "image" {
  description = "Container image, by immutable tag or digest (never :latest)."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$", var.image)) && !can(regex(":latest$", var.image))
    error_message = "image must name a tag or a digest, and the tag must not be \"latest\" (tags are immutable: use the git revision ecr/scripts/upload.sh pushed)."
  }
}

variable "container_port" {
  description = "Port the service listens on inside the container (its PORT)."
  type        = number
  default     = 8000
}

variable "environment" {
  description = "Environment variables of the container."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variables ECS fills from SSM Parameter Store when it starts a task: variable name => full parameter ARN (the container secret's valueFrom). The execution role must be allowed ssm:GetParameters on each."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, arn in var.secrets : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", name)) && can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/\\S+$", arn))])
    error_message = "secrets maps environment variable names (letters, digits, _) to full SSM parameter ARNs (arn:aws:ssm:<region>:<account>:parameter/<name>)."
  }

  validation {
    condition     = length(setintersection(keys(var.secrets), keys(var.environment))) == 0
    error_message = "A variable is either in environment or in secrets, not both (ECS would refuse the task definition)."
  }
}

variable "command" {
  description = "Arguments replacing the image's CMD; null keeps it."
  type        = list(string)
  default     = null
}

variable "health_check_command" {
  description = "Container health check, in ECS form (e.g. [\"CMD\", \"/order-api\", \"healthcheck\"]: the images have no shell)."
  type        = list(string)

  validation {
    condition     = length(var.health_check_command) >= 2 && contains(["CMD", "CMD-SHELL"], var.health_check_command[0])
    error_message = "health_check_command must start with CMD or CMD-SHELL followed by the command."
  }
}

variable "cpu_units" {
  description = "CPU reserved for the container (1024 = one vCPU). A reservation for placement, not a cap: the container may use idle CPU."
  type        = number
  default     = 128
}

variable "memory_reservation_mib" {
  description = "Soft memory limit: what placement reserves on the instance. The services idle at a few MiB RSS."
  type        = number
  default     = 64
}

variable "memory_limit_mib" {
  description = "Hard memory limit: the container is killed (OOM) above it."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_limit_mib >= 6
    error_message = "memory_limit_mib must be at least 6 (Docker's minimum)."
  }
}

variable "user" {
  description = "User (uid:gid) the container runs as; non-root."
  type        = string
  default     = "65532:65532"

  validation {
    condition     = !contains(["0", "root"], split(":", var.user)[0])
    error_message = "The container must not run as root."
  }
}

variable "stop_timeout_seconds" {
  description = "Time between SIGTERM and SIGKILL. The services drain for SHUTDOWN_DRAIN_SECONDS (5) then finish in-flight requests within SHUTDOWN_TIMEOUT_SECONDS (20): 30 covers both."
  type        = number
  default     = 30

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be 2-120 (ECS's bounds)."
  }
}

variable "desired_count" {
  description = "Tasks at creation; afterwards service auto scaling owns the count (between autoscaling.min and .max)."
  type        = number
  default     = 1
}

variable "autoscaling" {
  description = "Service auto scaling: task count bounds and the average CPU (percent of the reservation) to hold."
  type = object({
    min                = number
    max                = number
    cpu_target_percent = number
  })
  default = { min = 1, max = 3, cpu_target_percent = 70 }

  validation {
    condition     = var.autoscaling.min >= 1 && var.autoscaling.max >= var.autoscaling.min && var.autoscaling.cpu_target_percent > 0 && var.autoscaling.cpu_target_percent <= 100
    error_message = "autoscaling needs 1 <= min <= max and 0 < cpu_target_percent <= 100."
  }
}

variable "execution_role_arn" {
  description = "Role ECS uses to pull the image and write logs."
  type        = string
}

variable "task_role_arn" {
  description = "Role the service's own AWS calls use."
  type        = string
}

variable "log_group_name" {
  description = "CloudWatch log group of the container (created here)."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the logs. Ingestion and storage beyond the free 5 GB are billed."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key for the log group; null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

variable "region" {
  description = "Region of the log group (awslogs driver)."
  type        = string
}

variable "target_group_arn" {
  description = "ALB target group to register tasks with; null for services without a load balancer."
  type        = string
  default     = null
}

variable "health_check_grace_period_seconds" {
  description = "With a load balancer: how long ECS ignores failing ALB health checks of a new task."
  type        = number
  default     = 30
}

variable "service_registry_arn" {
  description = "Cloud Map service to register tasks in (SRV records); null for none."
  type        = string
  default     = null
}
