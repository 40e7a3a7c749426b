variable "aws_region" {
  description = "AWS Region to deploy to, e.g. eu-west-1. Also passed to the services as AWS_REGION: with IMDSv2 at hop limit 1, containers cannot ask the instance metadata for it."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a Region code such as eu-west-1."
  }
}

variable "name" {
  description = "Name of the deployment: prefixes every resource (cluster, tables, roles, ALB)."
  type        = string
  default     = "order-system"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name))
    error_message = "name must be 3-20 lowercase letters, digits and hyphens, starting with a letter (it prefixes names AWS limits to 32 characters)."
  }
}

variable "images" {
  description = "Images of the two services, tagged with the git revision by deliverables/deploy/ecr/scripts/upload.sh (never :latest), e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:3f2c1e9a7b4d."
  type = object({
    order_api       = string
    order_processor = string
  })

  validation {
    condition     = alltrue([for image in values(var.images) : can(regex("^[^\\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$", image)) && !endswith(image, ":latest")])
    error_message = "Each image must carry an explicit tag or digest, and not :latest (the ECR repositories are immutable: push with ecr/scripts/upload.sh and use the tag it prints)."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC."
  type        = string
  default     = "10.42.0.0/16"
}

variable "az_count" {
  description = "Availability Zones to use (2-4). Two is the ALB's minimum and costs nothing more."
  type        = number
  default     = 2
}

variable "availability_zones" {
  description = "Pin the Availability Zones by name (e.g. [\"eu-west-1a\", \"eu-west-1b\"]); null takes the first az_count of the Region."
  type        = list(string)
  default     = null
}

variable "enable_nat_gateway" {
  description = "false (free tier): instances in public subnets with a public IPv4 address and no inbound except from the ALB. true: private subnets and one NAT gateway (about 32 USD/month plus data processing)."
  type        = bool
  default     = false
}

variable "instance_type" {
  description = "Container instance type. t3.micro is free-tier eligible for accounts on the 2025 Free plan and, in Regions without t2, on the legacy 12-month free tier; legacy accounts elsewhere should use t2.micro. t4g.micro (arm64) works too: the images are multi-arch."
  type        = string
  default     = "t3.micro"
}

variable "instance_count" {
  description = "Bounds of the Auto Scaling group. ECS managed scaling adds an instance only when tasks do not fit; a second micro instance running all month exceeds the 750 free hours."
  type = object({
    min = number
    max = number
  })
  default = { min = 1, max = 2 }

  validation {
    condition     = var.instance_count.min >= 0 && var.instance_count.max >= 1 && var.instance_count.max >= var.instance_count.min
    error_message = "instance_count needs 0 <= min <= max and max >= 1."
  }
}

variable "service_task_count" {
  description = "Service auto scaling bounds, the same for both services. Three tasks of each (64 MiB reserved apiece) still fit one micro instance."
  type = object({
    min = number
    max = number
  })
  default = { min = 1, max = 3 }

  validation {
    condition     = var.service_task_count.min >= 1 && var.service_task_count.max >= var.service_task_count.min
    error_message = "service_task_count needs 1 <= min <= max."
  }
}

variable "task_memory_mib" {
  description = "Per task: memory reserved for placement (soft) and the hard limit. The services idle at a few MiB RSS; 64/128 leaves room for bursts while two services, a rolling deploy of each and the ECS agent fit one 1 GiB micro instance."
  type = object({
    reservation = number
    limit       = number
  })
  default = { reservation = 64, limit = 128 }

  validation {
    condition     = var.task_memory_mib.reservation >= 6 && var.task_memory_mib.limit >= var.task_memory_mib.reservation
    error_message = "task_memory_mib needs 6 <= reservation <= limit."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of both services (a tracing filter such as info or info,order_api=debug)."
  type        = string
  default     = "info"
}

variable "reconciler" {
  description = "order-api's reconciler, which finishes orders left pending: how often it runs (RECONCILER_INTERVAL_SECONDS, 0 turns it off), how old an order must be before it takes it (RECONCILER_GRACE_SECONDS), and when it gives up on an order it cannot decide, rejecting it with processing_timeout and releasing its stock (RECONCILER_MAX_ATTEMPTS attempts, RECONCILER_MAX_AGE_SECONDS of age)."
  type = object({
    interval_seconds = optional(number, 5)
    grace_seconds    = optional(number, 10)
    max_attempts     = optional(number, 10)
    max_age_seconds  = optional(number, 3600)
  })
  default = {}

  validation {
    condition = alltrue([
      var.reconciler.interval_seconds >= 0 && var.reconciler.interval_seconds <= 3600,
      var.reconciler.grace_seconds >= 0 && var.reconciler.grace_seconds <= 3600,
      var.reconciler.max_attempts >= 1 && var.reconciler.max_attempts <= 1000,
      var.reconciler.max_age_seconds >= 1 && var.reconciler.max_age_seconds <= 604800,
      alltrue([for value in values(var.reconciler) : floor(value) == value]),
    ])
    error_message = "reconciler needs whole numbers: interval_seconds and grace_seconds 0-3600, max_attempts 1-1000, max_age_seconds 1-604800 (the ranges order-api accepts)."
  }
}

variable "http_limits" {
  description = "Server limits of both services (README \"Configuration\"): HTTP_HEADER_TIMEOUT_SECONDS, HTTP_IDLE_TIMEOUT_SECONDS (must outlast the ALB's idle timeout, 30 s here, so the ALB never reuses a connection the service closed), HTTP_REQUEST_TIMEOUT_SECONDS, HTTP_MAX_CONNECTIONS, HTTP_MAX_IN_FLIGHT, HTTP_MAX_HEADER_BYTES and the per-client rate limit (rate_limit_per_second 0 turns it off)."
  type = object({
    header_timeout_seconds  = optional(number, 10)
    idle_timeout_seconds    = optional(number, 75)
    request_timeout_seconds = optional(number, 25)
    max_connections         = optional(number, 1024)
    max_in_flight           = optional(number, 128)
    max_header_bytes        = optional(number, 16384)
    rate_limit_per_second   = optional(number, 1000)
    rate_limit_burst        = optional(number, 2000)
  })
  default = {}

  validation {
    condition     = var.http_limits.idle_timeout_seconds > 30 && var.http_limits.idle_timeout_seconds <= 3600
    error_message = "http_limits.idle_timeout_seconds must exceed the ALB's idle timeout (30 s) and be at most 3600."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps service logs."
  type        = number
  default     = 14
}

variable "dynamodb_billing_mode" {
  description = "PROVISIONED (default; free within 25 RCU/WCU) or PAY_PER_REQUEST (billed per request; use it for load tests)."
  type        = string
  default     = "PROVISIONED"
}

variable "dynamodb_provisioned_capacity" {
  description = "Capacity per table and index with PROVISIONED billing; null keeps the module's default (20 RCU / 20 WCU in total). See modules/dynamodb."
  type = object({
    orders                   = object({ read = number, write = number })
    orders_by_customer_index = object({ read = number, write = number })
    orders_pending_index     = object({ read = number, write = number })
    inventory                = object({ read = number, write = number })
    reservations             = object({ read = number, write = number })
  })
  default = null
}

variable "dynamodb_point_in_time_recovery" {
  description = "Point-in-time recovery on the three tables: 35 days of restore points, billed per GB-month (not in the free tier; fractions of a cent at this size). Off by default for a demo that is destroyed the same day; turn it on for anything that keeps data."
  type        = bool
  default     = false
}

variable "dynamodb_deletion_protection" {
  description = "Deletion protection on the three tables. Off so `terraform destroy` can remove a demo; turn on for data you keep."
  type        = bool
  default     = false
}

variable "seed_products" {
  description = "Inventory Terraform writes once (null: the starter's PROD001 and PROD002). Never rewritten afterwards, so orders' stock changes stand."
  type = map(object({
    name  = string
    price = number
    stock = number
  }))
  default = null
}

variable "service_discovery_namespace" {
  description = "Private DNS namespace for Cloud Map; null means \"<name>.internal\"."
  type        = string
  default     = null
}

variable "cloudfront_enabled" {
  description = "HTTPS with no domain: CloudFront (default certificate, https://<id>.cloudfront.net) in front of an internal ALB reached through a VPC origin. Always free up to 1 TB out and 10 million requests a month. false: an internet-facing ALB, HTTP on :80 unless certificate_arn is set (tokens then cross in clear): for a domain of your own, or emulators without CloudFront."
  type        = bool
  default     = true

  validation {
    condition     = !(var.cloudfront_enabled && var.certificate_arn != null)
    error_message = "certificate_arn puts HTTPS on an internet-facing ALB instead of CloudFront: set cloudfront_enabled = false with it."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS on an internet-facing ALB (needs a domain and cloudfront_enabled = false): :443 serves, :80 redirects. null (default): CloudFront provides HTTPS."
  type        = string
  default     = null
}

variable "extra_alarms" {
  description = "Also alarm on order-api's p99 latency and the orders table's write throttles: 2 alarm metrics beyond the free tier's 10 (0.10 USD per alarm metric-month each)."
  type        = bool
  default     = false
}

variable "alarm_email" {
  description = "E-mail address for CloudWatch alarm notifications (SNS); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource (besides Project, ManagedBy and Source)."
  type        = map(string)
  default     = {}
}

variable "auth_issuer" {
  description = "A real OIDC issuer for order-api (AUTH_ISSUER), exactly as in its tokens' iss claim; set it with auth_audience and auth_jwks_url. null (default): the development issuer (see auth_dev_jwks_file). Amazon Cognito: https://cognito-idp.<region>.amazonaws.com/<user pool id>."
  type        = string
  default     = null

  validation {
    condition     = var.auth_issuer == null || try(length(var.auth_issuer) <= 1024 && can(regex("^\\S+$", var.auth_issuer)), false)
    error_message = "auth_issuer must be 1 to 1024 characters without spaces, such as https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123."
  }
}

variable "auth_audience" {
  description = "With a real issuer: the aud a token must name (AUTH_AUDIENCE); several, comma-separated, are each accepted. Amazon Cognito: the app client id (its ID tokens carry it in aud; its access tokens carry no aud)."
  type        = string
  default     = null

  validation {
    condition     = var.auth_audience == null || can(regex("^[^\\s,]+(,[^\\s,]+)*$", var.auth_audience))
    error_message = "auth_audience must be one or more comma-separated audiences without spaces."
  }
}

variable "auth_jwks_url" {
  description = "With a real issuer: its public keys (AUTH_JWKS_URL), fetched over HTTPS through the instances' port-443 egress. Setting it (with auth_issuer and auth_audience) turns the development issuer off. Amazon Cognito: <issuer>/.well-known/jwks.json."
  type        = string
  default     = null

  validation {
    condition     = var.auth_jwks_url == null || can(regex("^https://[^\\s/]+(/\\S*)?$", var.auth_jwks_url))
    error_message = "auth_jwks_url must be an https:// URL, such as https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json."
  }

  # That all three go together, modules/auth checks: a validation here that
  # read the other two would be skipped whenever one of them is invalid.
}

variable "auth_dev_jwks_file" {
  description = "The development issuer's public JWKS (used while auth_jwks_url is null), passed to order-api inline as AUTH_JWKS. null: .run/ecs-auth/jwks.json at the repository root, which `make ecs-keygen` writes (the private key beside it never leaves this machine; `make ecs-token` signs with it)."
  type        = string
  default     = null
}

variable "auth_subject_claim" {
  description = "AUTH_SUBJECT_CLAIM of order-api: the token claim that names the customer (its value must be 1-64 of A-Z a-z 0-9 _ . : -)."
  type        = string
  default     = "sub"

  validation {
    condition     = length(var.auth_subject_claim) <= 256 && can(regex("^[!-~]+$", var.auth_subject_claim))
    error_message = "auth_subject_claim must be a claim name of 1 to 256 printable ASCII characters, such as sub."
  }
}

variable "customer_rate_limit" {
  description = "order-api's per-customer rate limit (CUSTOMER_RATE_LIMIT_PER_SECOND, CUSTOMER_RATE_LIMIT_BURST): requests per customer (the token's subject) from any address; per_second 0 turns it off."
  type = object({
    per_second = optional(number, 1000)
    burst      = optional(number, 2000)
  })
  default = {}

  validation {
    condition = alltrue([
      var.customer_rate_limit.per_second >= 0 && var.customer_rate_limit.per_second <= 1000000,
      var.customer_rate_limit.burst >= 1 && var.customer_rate_limit.burst <= 1000000,
      floor(var.customer_rate_limit.per_second) == var.customer_rate_limit.per_second,
      floor(var.customer_rate_limit.burst) == var.customer_rate_limit.burst,
    ])
    error_message = "customer_rate_limit needs whole numbers: per_second 0-1000000 (0: off), burst 1-1000000 (the ranges order-api accepts)."
  }
}

variable "processor_tokens_version" {
  description = "Version of the processor token list (SSM parameter /<name>/processor-tokens, output processor_tokens_parameter_name). Terraform writes one fresh random token when it creates the parameter and whenever this number changes, and never keeps the value in its state. Raising it replaces the whole list at once: calls fail until both services have rolled (make ecs-redeploy), so use it to revoke a leaked token; rotate without failed calls with aws ssm put-parameter (old -> old,new -> new,old -> new, both services rolled after each step)."
  type        = number
  default     = 1

  validation {
    condition     = var.processor_tokens_version >= 1 && floor(var.processor_tokens_version) == var.processor_tokens_version
    error_message = "processor_tokens_version must be a whole number of at least 1; raise it by one to have Terraform write a new token."
  }
}

variable "generate_processor_token" {
  description = "true (default): Terraform generates the processor token with Secrets Manager's GetRandomPassword (free of charge beyond the API call; you need secretsmanager:GetRandomPassword). false: it writes a placeholder the services refuse, and you put the token list in yourself (aws ssm put-parameter, e.g. with orderctl service-token) before the services can start."
  type        = bool
  default     = true
}
