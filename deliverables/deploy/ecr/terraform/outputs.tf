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

output "github_push_role_arn" {
  description = "Role for .github/workflows/release.yml (repository variable AWS_RELEASE_ROLE_ARN); null without github_repository."
  value       = try(aws_iam_role.github_push[0].arn, null)
}
