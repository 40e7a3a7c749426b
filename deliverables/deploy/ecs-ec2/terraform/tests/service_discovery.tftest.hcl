# Cloud Map SRV records for bridge-mode tasks, and a namespace name the
# resolver handles.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  namespace = "order-system.internal"
  vpc_id    = "vpc-0123456789abcdef0"
  services  = ["order-processor"]
}

run "processor_gets_srv_records" {
  command = apply

  module {
    source = "./modules/service-discovery"
  }

  assert {
    condition     = one(aws_service_discovery_service.this["order-processor"].dns_config[0].dns_records).type == "SRV"
    error_message = "Bridge-mode tasks have no own IP: the records must be SRV (address + host port)."
  }

  assert {
    condition     = aws_service_discovery_service.this["order-processor"].force_destroy
    error_message = "force_destroy keeps destroy from failing on instances ECS has not yet deregistered."
  }

  assert {
    condition     = output.srv_names["order-processor"] == "order-processor.order-system.internal"
    error_message = "The SRV name (order-api's SRV_ENDPOINT) is <service>.<namespace>."
  }
}

run "dot_local_namespace_is_refused" {
  command = plan

  module {
    source = "./modules/service-discovery"
  }

  variables {
    namespace = "orders.local"
  }

  expect_failures = [var.namespace]
}
