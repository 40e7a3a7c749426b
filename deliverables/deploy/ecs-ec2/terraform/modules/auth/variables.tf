variable "issuer" {
  description = "A real issuer's iss (AUTH_ISSUER); null with jwks_url null: the development issuer."
  type        = string
  default     = null
}

variable "audience" {
  description = "A real issuer's audience(s), comma-separated (AUTH_AUDIENCE); null for the development issuer."
  type        = string
  default     = null
}

variable "jwks_url" {
  description = "A real issuer's JWKS URL (AUTH_JWKS_URL); null turns the development issuer on."
  type        = string
  default     = null

  validation {
    condition     = (var.jwks_url == null) == (var.issuer == null) && (var.jwks_url == null) == (var.audience == null)
    error_message = "auth_issuer, auth_audience and auth_jwks_url go together: all three for a real issuer, none for the development issuer."
  }
}

variable "subject_claim" {
  description = "The claim naming the customer (AUTH_SUBJECT_CLAIM)."
  type        = string
  default     = "sub"
}

variable "dev_jwks_file" {
  description = "The development issuer's public JWKS, as orderctl keygen writes it (jwks.json)."
  type        = string
}

variable "dev_issuer" {
  description = "The development tokens' iss: orderctl token's default."
  type        = string
  default     = "urn:order-system:dev"
}

variable "dev_audience" {
  description = "The development tokens' aud: orderctl token's default."
  type        = string
  default     = "order-api"
}
