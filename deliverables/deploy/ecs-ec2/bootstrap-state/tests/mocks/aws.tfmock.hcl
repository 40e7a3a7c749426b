# Shapes the provider validates; without them the mock invents random strings.
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/test" }
}

mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::order-system-tfstate-123456789012-eu-west-1" }
}
