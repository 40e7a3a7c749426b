# Cloud Map: ECS registers each task of a service here. In bridge mode a task
# has no IP of its own, so the records are SRV (instance address + dynamic
# host port); order-api resolves them in the background (SRV_ENDPOINT).

resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = var.namespace
  description = "Service discovery for ${var.namespace}"
  vpc         = var.vpc_id
}

resource "aws_service_discovery_service" "this" {
  for_each = var.services

  name         = each.key
  namespace_id = aws_service_discovery_private_dns_namespace.this.id
  # Deregisters leftover instances on destroy instead of failing with
  # ResourceInUse when ECS has not finished deregistering tasks.
  force_destroy = true

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this.id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "SRV"
      ttl  = var.dns_ttl_seconds
    }
  }

  # ECS reports task health (container health check) to Cloud Map, so
  # unhealthy tasks drop out of the answers.
  health_check_custom_config {
    failure_threshold = 1
  }
}
