# See provider_override.tf.
variable "moto_endpoint" {
  description = "Base URL of the moto server, e.g. http://127.0.0.1:15000."
  type        = string
}
