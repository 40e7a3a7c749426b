variable "name" {
  description = "Name of the VPC origin and comment of the distribution."
  type        = string
}

variable "alb_arn" {
  description = "ARN of the internal ALB the VPC origin points at."
  type        = string
}

variable "alb_dns_name" {
  description = "DNS name of that ALB (the origin's domain name)."
  type        = string
}

variable "price_class" {
  description = "Edge locations used: PriceClass_100 (North America, Europe) is the cheapest; the always-free tier (1 TB out, 10 million requests a month) applies to every class."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "origin_read_timeout_seconds" {
  description = "How long CloudFront waits for order-api's answer. Above the services' own request timeout, so their 503/504 problem answer arrives instead of CloudFront's."
  type        = number
  default     = 30

  validation {
    condition     = var.origin_read_timeout_seconds >= 1 && var.origin_read_timeout_seconds <= 60
    error_message = "origin_read_timeout_seconds must be 1-60 (CloudFront's limit without a quota increase)."
  }
}
