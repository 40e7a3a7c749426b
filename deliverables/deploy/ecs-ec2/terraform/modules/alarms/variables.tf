variable "name" {
  description = "Prefix of the alarm names."
  type        = string
}

variable "alb_arn_suffix" {
  description = "LoadBalancer dimension of the ALB metrics."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "TargetGroup dimension of order-api's target group metrics."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster of the services."
  type        = string
}

variable "service_names" {
  description = "ECS services to watch for memory pressure."
  type        = list(string)
}

variable "orders_table_name" {
  description = "Table watched for write throttling: every order is written there first, so it throttles first under provisioned capacity."
  type        = string
}

variable "alarm_email" {
  description = "Address that receives alarm notifications through SNS (it must confirm the subscription). null: alarms only show in the console."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "target_5xx_threshold" {
  description = "5xx answers from order-api in 5 minutes that raise the alarm."
  type        = number
  default     = 5
}

variable "p99_latency_threshold_seconds" {
  description = "p99 response time of order-api that raises the alarm when held for 3 minutes."
  type        = number
  default     = 1
}

variable "task_memory_mib" {
  description = "The services' memory per task, as their task definitions set it: reservation (memoryReservation, the soft limit ECS's MemoryUtilization is relative to) and limit (memory, the hard limit)."
  type = object({
    reservation = number
    limit       = number
  })

  validation {
    condition     = var.task_memory_mib.reservation > 0 && var.task_memory_mib.limit >= var.task_memory_mib.reservation
    error_message = "task_memory_mib needs 0 < reservation <= limit."
  }
}

variable "memory_threshold_percent" {
  description = "Service memory use, in percent of the task's hard limit (task_memory_mib.limit), that raises the alarm."
  type        = number
  default     = 90

  validation {
    condition     = var.memory_threshold_percent > 0 && var.memory_threshold_percent <= 100
    error_message = "memory_threshold_percent is a percentage of the hard limit: 1-100."
  }
}

variable "extra_alarms" {
  description = "Also alarm on order-api's p99 latency and on write throttles of the orders table: 2 alarm metrics beyond the free tier's 10 (0.10 USD per alarm metric-month each)."
  type        = bool
  default     = false
}
