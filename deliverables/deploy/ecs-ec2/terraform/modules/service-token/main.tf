# A bearer token shared by services, kept in SSM Parameter Store as a
# SecureString. Terraform generates it (Secrets Manager's GetRandomPassword,
# as an ephemeral resource) and writes it through a write-only argument, so
# neither the plan nor the state ever holds it: reading it takes
# ssm:GetParameter on this parameter, not access to the state bucket.
#
# Terraform writes the value only when it creates the parameter or when
# value_version changes. Whatever an operator puts there in between
# (aws ssm put-parameter --overwrite, e.g. a two-token list during a
# rotation) stays: Terraform never reads the value back.

locals {
  # Refused by the services (shorter than 32 characters, and spaces), so no
  # task starts with it: an operator must write the real list first.
  placeholder = "UNSET (aws ssm put-parameter)"
}

ephemeral "aws_secretsmanager_random_password" "token" {
  count = var.generate ? 1 : 0

  password_length = var.token_length
  # Letters and digits only: a subset of what the services accept in a token
  # ([A-Za-z0-9-._~+/=]), and never a comma, the list separator.
  exclude_punctuation = true
}

resource "aws_ssm_parameter" "this" {
  name        = var.name
  description = var.description
  type        = "SecureString"
  # Standard tier: free. Advanced (0.05 USD/month) buys nothing a token list
  # of at most two 512-character tokens needs.
  tier = "Standard"
  # The AWS managed key costs nothing (a customer managed one about 1 USD a
  # month) and its key policy lets any principal of the account decrypt
  # through SSM, so ssm:GetParameters on this ARN is the whole access control,
  # and the execution roles need no kms:Decrypt grant.
  key_id = "alias/aws/ssm"

  value_wo         = var.generate ? one(ephemeral.aws_secretsmanager_random_password.token[*].random_password) : local.placeholder
  value_wo_version = var.value_version
}
