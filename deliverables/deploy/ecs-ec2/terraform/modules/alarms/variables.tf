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

variable "memory_threshold_percent" {
  description = "Service memory use, in percent of the task's memory, that raises the alarm."
  type        = number
  default     = 80
}
