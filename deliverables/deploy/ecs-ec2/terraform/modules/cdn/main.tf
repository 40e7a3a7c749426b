# HTTPS for order-api with no domain: CloudFront's default certificate
# (https://<id>.cloudfront.net) in front of the internal ALB, reached through a
# VPC origin, so the hop to the ALB never leaves AWS's network either.
#
#   viewer -HTTPS-> CloudFront -VPC origin, HTTP inside the VPC-> internal ALB :80
#
# Nothing is cached: every request reaches order-api. Managed policies only
# (no quota, nothing to maintain):
#   CachingDisabled             TTL 0, so nothing in the cache key either.
#   AllViewerExceptHostHeader   every viewer header, cookie and query string
#                               (Authorization, Idempotency-Key, Content-Type,
#                               ?customer_id=...) except Host, which becomes the
#                               ALB's name. A custom origin request policy cannot
#                               list Authorization (CloudFront answers 400: it
#                               belongs in the cache key, which CachingDisabled
#                               has none of); "all viewer headers" does forward it.
#   SecurityHeadersPolicy       HSTS, nosniff, frame and referrer headers on answers.
# Their IDs are the same in every account (CloudFront's "Use managed ... policies"
# pages): constants, so planning needs no CloudFront API call.
locals {
  managed_policy_ids = {
    caching_disabled              = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    all_viewer_except_host_header = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    security_headers              = "67f7725c-6f97-4210-82d7-5512b31e9d03"
  }
}

resource "aws_cloudfront_vpc_origin" "alb" {
  vpc_origin_endpoint_config {
    name                   = var.name
    arn                    = var.alb_arn
    http_port              = 80
    https_port             = 443
    origin_protocol_policy = "http-only"

    origin_ssl_protocols {
      items    = ["TLSv1.2"]
      quantity = 1
    }
  }

  # A VPC origin deploys (and is deleted) in about 10 minutes.
  timeouts {
    create = "30m"
    update = "30m"
    delete = "30m"
  }
}

resource "aws_cloudfront_distribution" "api" {
  # checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate fixes the minimum viewer protocol (TLSv1); TLSv1.2_2021 needs a certificate of your own, i.e. a domain (certificate_arn is that path).
  # checkov:skip=CKV2_AWS_42:A custom certificate needs a domain; HTTPS with no domain is the point of the default certificate.
  # checkov:skip=CKV_AWS_86:Access logs need an S3 bucket and its storage; the ALB and the services log every request already.
  # checkov:skip=CKV_AWS_68:AWS WAF is billed per web ACL and rule (about 6 USD/month minimum): outside the free tier. order-api rate-limits per client and per customer itself.
  # checkov:skip=CKV2_AWS_47:Same: no WAF web ACL (billed), so no Log4j rule set; the services are Rust, not Java.
  # checkov:skip=CKV_AWS_310:One origin: there is no second ALB to fail over to.
  # checkov:skip=CKV_AWS_305:An API, not a website: / has no default object to serve.
  # checkov:skip=CKV2_AWS_32:The AWS managed SecurityHeadersPolicy is attached by its ID (response_headers_policy_id); checkov only follows a policy resource defined here.
  # checkov:skip=CKV_AWS_374:No geo restriction: the API serves customers wherever they are; limits are per client and per customer in order-api.
  enabled         = true
  comment         = "${var.name}: order-api over HTTPS"
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = var.price_class

  origin {
    origin_id   = "alb"
    domain_name = var.alb_dns_name

    vpc_origin_config {
      vpc_origin_id            = aws_cloudfront_vpc_origin.alb.id
      origin_read_timeout      = var.origin_read_timeout_seconds
      origin_keepalive_timeout = 5
    }
  }

  default_cache_behavior {
    target_origin_id = "alb"
    # https-only, not redirect-to-https: a redirect would answer a request whose
    # token already crossed in clear, and teach clients that http works.
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.managed_policy_ids.caching_disabled
    origin_request_policy_id   = local.managed_policy_ids.all_viewer_except_host_header
    response_headers_policy_id = local.managed_policy_ids.security_headers
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }

  tags = { Name = var.name }
}
