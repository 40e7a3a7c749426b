output "bucket_name" {
  description = "Name of the state bucket."
  value       = aws_s3_bucket.state.bucket
}

output "backend_config" {
  description = "Contents for ../terraform/backend.hcl: `terraform output -raw backend_config > ../terraform/backend.hcl`."
  value       = <<-EOT
    bucket       = "${aws_s3_bucket.state.bucket}"
    key          = "${var.name}/ecs-ec2/terraform.tfstate"
    region       = "${var.aws_region}"
    encrypt      = true
    use_lockfile = true
  EOT
}
