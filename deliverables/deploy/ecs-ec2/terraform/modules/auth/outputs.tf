output "environment" {
  description = "order-api's AUTH_* variables."
  value       = local.environment

  precondition {
    condition     = !local.development || local.dev_jwks_usable
    error_message = local.dev_jwks_text == null ? "The development issuer's JWKS ${abspath(var.dev_jwks_file)} cannot be read: run `make ecs-keygen` from the repository root (or set auth_issuer, auth_audience and auth_jwks_url for a real issuer)." : "${abspath(var.dev_jwks_file)} is not a JWKS of public keys ({\"keys\": [...]}, none with a private \"d\"): run `make ecs-keygen` from the repository root to write it again."
  }
}

output "development" {
  description = "Whether order-api trusts the development issuer (make ecs-token mints its tokens)."
  value       = local.development
}

output "issuer" {
  description = "The iss order-api accepts."
  value       = local.environment.AUTH_ISSUER
}

output "audience" {
  description = "The aud order-api accepts (the first of a comma-separated list is what tokens should carry)."
  value       = local.environment.AUTH_AUDIENCE
}
