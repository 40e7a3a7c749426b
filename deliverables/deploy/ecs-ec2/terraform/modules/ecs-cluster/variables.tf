variable "name" {
  description = "Name of the ECS cluster; also prefixes the launch template, Auto Scaling group and capacity provider."
  type        = string
}

variable "instance_type" {
  description = <<-EOT
    EC2 instance type of the container instances. Free-tier eligibility depends on the account:
    accounts created before 15 July 2025 get 750 hours/month of t2.micro (t3.micro where t2 does
    not exist) for 12 months; newer accounts on the Free plan spend credits and may use t3.micro,
    t4g.micro and a few others. Graviton types (t4g, ...) get the arm64 AMI automatically.
  EOT
  type        = string
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like an EC2 instance type, e.g. t3.micro."
  }
}

variable "subnet_ids" {
  description = "Subnets the Auto Scaling group launches instances in."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "Give at least one subnet."
  }
}

variable "security_group_ids" {
  description = "Security groups of the instances (and, in bridge mode, of every task on them)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give instances a public IPv4 address (needed without NAT to reach ECR/ECS/SSM; billed 0.005 USD/hour outside the free tier). Inbound is still only what the security group allows."
  type        = bool
}

variable "instance_profile_name" {
  description = "IAM instance profile of the container instances."
  type        = string
}

variable "min_size" {
  description = "Fewest instances. 1 keeps the services up; 0 lets managed scaling stop every instance when no task runs."
  type        = number
  default     = 1

  validation {
    condition     = var.min_size >= 0
    error_message = "min_size must be 0 or more."
  }
}

variable "max_size" {
  description = "Most instances managed scaling may launch. Each micro instance beyond the first is billed unless the account's free hours cover it (750 hours/month is one instance all month)."
  type        = number
  default     = 2

  validation {
    condition     = var.max_size >= 1
    error_message = "max_size must be at least 1."
  }
}

variable "root_volume_size_gib" {
  description = "Size of the encrypted gp3 root volume. The ECS-optimized AL2023 AMI needs 30 GiB; the legacy free tier covers 30 GB of EBS."
  type        = number
  default     = 30

  validation {
    condition     = var.root_volume_size_gib >= 30
    error_message = "The ECS-optimized Amazon Linux 2023 AMI's snapshot is 30 GiB: the root volume cannot be smaller."
  }
}

variable "ebs_kms_key_arn" {
  description = "KMS key encrypting the root volume; null uses the account's default EBS key (aws/ebs)."
  type        = string
  default     = null
}

variable "container_insights" {
  description = "Enable CloudWatch Container Insights (per-task metrics). Off by default: its metrics are custom metrics, billed beyond the free tier's 10."
  type        = bool
  default     = false
}

variable "target_capacity_percent" {
  description = "Managed scaling target: how full (by reserved CPU/memory) the instances may get before another is launched. 100 packs tasks onto as few instances as possible."
  type        = number
  default     = 100

  validation {
    condition     = var.target_capacity_percent >= 1 && var.target_capacity_percent <= 100
    error_message = "target_capacity_percent must be 1-100."
  }
}
