output "url" {
  description = "Base URL of order-api: HTTPS on the distribution's cloudfront.net name."
  value       = "https://${aws_cloudfront_distribution.api.domain_name}"
}

output "distribution_id" {
  description = "CloudFront distribution ID."
  value       = aws_cloudfront_distribution.api.id
}
