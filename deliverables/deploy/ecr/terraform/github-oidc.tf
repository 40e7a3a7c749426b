# Optional: the role GitHub Actions assumes through OpenID Connect to push
# images (.github/workflows/release.yml), so no long-lived AWS keys are stored
# in GitHub. Created only when github_repository is set.

locals {
  github_oidc_enabled = var.github_repository != null
  github_oidc_host    = "token.actions.githubusercontent.com"
  github_provider_arn = local.github_oidc_enabled ? (
    var.create_github_oidc_provider
    ? aws_iam_openid_connect_provider.github[0].arn
    : "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.github_oidc_host}"
  ) : null
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# One per account: set create_github_oidc_provider = false if it exists already.
resource "aws_iam_openid_connect_provider" "github" {
  count = local.github_oidc_enabled && var.create_github_oidc_provider ? 1 : 0

  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate against its own trust store and no
  # longer uses these, but the API still requires a value.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
  tags            = var.tags
}

resource "aws_iam_role" "github_push" {
  count = local.github_oidc_enabled ? 1 : 0

  name_prefix = "order-system-github-push-"
  description = "GitHub Actions (${var.github_repository}) pushes images to the order-system ECR repositories"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.github_provider_arn }
      Condition = {
        StringEquals = { "${local.github_oidc_host}:aud" = "sts.amazonaws.com" }
        # Only this repository, and only the refs that release (tags by default).
        StringLike = { "${local.github_oidc_host}:sub" = "repo:${var.github_repository}:ref:${var.github_release_ref}" }
      }
    }]
  })
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "github_push" {
  count = local.github_oidc_enabled ? 1 : 0

  name = "push-images"
  role = aws_iam_role.github_push[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # GetAuthorizationToken has no resource-level permissions.
      {
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
      {
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:DescribeImages",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ]
        Resource = [for repository in aws_ecr_repository.this : repository.arn]
      },
    ]
  })
}
