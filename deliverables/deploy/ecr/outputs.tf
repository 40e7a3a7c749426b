output "registry" {
  description = "Registry host to log in to and push to (<account>.dkr.ecr.<region>.amazonaws.com)."
  value       = split("/", values(aws_ecr_repository.this)[0].repository_url)[0]
}

output "repository_urls" {
  description = "Repository URL per image name."
  value       = { for image, repository in aws_ecr_repository.this : image => repository.repository_url }
}

output "repository_arns" {
  description = "Repository ARN per image name."
  value       = { for image, repository in aws_ecr_repository.this : image => repository.arn }
}
