# CloudFront in front of the internal ALB: HTTPS on the default certificate,
# never plain HTTP for viewers, nothing cached, every header the API needs
# forwarded (managed policies), and the ALB reached only through a VPC origin.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name         = "order-system"
  alb_arn      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/order-system/0123456789abcdef"
  alb_dns_name = "internal-order-system-1234567890.eu-west-1.elb.amazonaws.com"
}

run "https_on_the_default_certificate_to_a_vpc_origin" {
  command = apply

  module {
    source = "./modules/cdn"
  }

  assert {
    condition     = aws_cloudfront_distribution.api.viewer_certificate[0].cloudfront_default_certificate && aws_cloudfront_distribution.api.viewer_certificate[0].acm_certificate_arn == null
    error_message = "HTTPS with no domain: CloudFront's default certificate."
  }

  assert {
    condition = alltrue(concat(
      [aws_cloudfront_distribution.api.default_cache_behavior[0].viewer_protocol_policy == "https-only"],
      [for behavior in aws_cloudfront_distribution.api.ordered_cache_behavior : behavior.viewer_protocol_policy == "https-only"],
    ))
    error_message = "Viewers get HTTPS only: never allow-all, and no redirect that would follow a token sent in clear."
  }

  assert {
    condition = (
      aws_cloudfront_distribution.api.default_cache_behavior[0].cache_policy_id == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" &&
      aws_cloudfront_distribution.api.default_cache_behavior[0].origin_request_policy_id == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    )
    error_message = "Managed-CachingDisabled and Managed-AllViewerExceptHostHeader: nothing cached, and every viewer header (Authorization, Idempotency-Key, Content-Type), cookie and query string forwarded but Host."
  }

  assert {
    condition     = toset(aws_cloudfront_distribution.api.default_cache_behavior[0].allowed_methods) == toset(["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"])
    error_message = "Every method reaches the API (POST /orders, POST /orders/{id}/cancel)."
  }

  assert {
    condition = (
      one(aws_cloudfront_distribution.api.origin).domain_name == var.alb_dns_name &&
      one(one(aws_cloudfront_distribution.api.origin).vpc_origin_config).vpc_origin_id == aws_cloudfront_vpc_origin.alb.id &&
      length(one(aws_cloudfront_distribution.api.origin).custom_origin_config) == 0 &&
      aws_cloudfront_vpc_origin.alb.vpc_origin_endpoint_config[0].arn == var.alb_arn
    )
    error_message = "The one origin is the ALB through the VPC origin: no custom (internet) origin."
  }

  assert {
    condition     = output.url == "https://${aws_cloudfront_distribution.api.domain_name}"
    error_message = "The URL is the distribution's HTTPS name."
  }
}

run "unknown_price_class_is_refused" {
  command = plan

  module {
    source = "./modules/cdn"
  }

  variables {
    price_class = "PriceClass_Cheap"
  }

  expect_failures = [var.price_class]
}
