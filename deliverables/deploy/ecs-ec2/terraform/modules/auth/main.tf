# Whose bearer tokens order-api accepts: its AUTH_* environment.
#
# By default (no jwks_url) the development issuer: a key made on the
# operator's machine (`make ecs-keygen`, the orderctl image), whose public
# JWKS goes into the task definition inline (AUTH_JWKS; public, a few hundred
# bytes of the 64 KiB a task definition may hold), and `make ecs-token` mints
# tokens with the private half, which never leaves that machine. With
# issuer, audience and jwks_url set, a real OIDC issuer instead (e.g. an
# Amazon Cognito user pool), and the development issuer is off.

locals {
  development = var.jwks_url == null

  # The development JWKS, minified; null when unreadable or not JSON (the
  # precondition on output.environment says what to do).
  dev_jwks_text = local.development ? try(file(var.dev_jwks_file), null) : null
  dev_jwks      = try(jsondecode(local.dev_jwks_text), null)
  # Every key public (no "d": a private key must never reach a task
  # definition) and at least one of them.
  dev_jwks_usable = try(length(local.dev_jwks.keys) > 0 && alltrue([for key in local.dev_jwks.keys : can(key.kty) && !can(key.d)]), false)

  environment = local.development ? {
    AUTH_ISSUER        = var.dev_issuer
    AUTH_AUDIENCE      = var.dev_audience
    AUTH_JWKS          = local.dev_jwks_usable ? jsonencode(local.dev_jwks) : ""
    AUTH_SUBJECT_CLAIM = var.subject_claim
    } : {
    AUTH_ISSUER        = var.issuer
    AUTH_AUDIENCE      = var.audience
    AUTH_JWKS_URL      = var.jwks_url
    AUTH_SUBJECT_CLAIM = var.subject_claim
  }
}
