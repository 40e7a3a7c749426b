# The ALB: HTTP on :80 forwarding to order-api's readiness-checked targets;
# internal (behind CloudFront) in subnets of its own with no route out, or
# internet-facing, where a certificate makes :80 only redirect to :443.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "order-system"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-aaaa", "subnet-bbbb"]
  security_group_ids = ["sg-alb"]
}

run "http_forwards_to_ready_targets" {
  command = apply

  module {
    source = "./modules/alb"
  }

  assert {
    condition     = aws_lb_target_group.api.health_check[0].path == "/health/ready" && aws_lb_target_group.api.health_check[0].matcher == "200" && aws_lb_target_group.api.health_check[0].port == "traffic-port"
    error_message = "Targets are checked on the readiness endpoint, on the dynamic host port, expecting 200."
  }

  assert {
    condition     = aws_lb_target_group.api.port == 8000 && aws_lb_target_group.api.health_check[0].port == "traffic-port"
    error_message = "The target group carries the API port alone: the management port (9464) is neither a target nor the health check's port."
  }

  assert {
    condition     = aws_lb_target_group.api.target_type == "instance" && aws_lb_target_group.api.deregistration_delay == "15"
    error_message = "Bridge-mode targets are instances; deregistration is short so deploys and destroy do not wait 300 s."
  }

  assert {
    condition     = aws_lb_listener.http.port == 80 && aws_lb_listener.http.default_action[0].type == "forward" && length(aws_lb_listener.https) == 0
    error_message = "Without a certificate, :80 forwards and there is no :443 listener."
  }

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields && !aws_lb.this.internal && !aws_lb.this.enable_deletion_protection
    error_message = "Public ALB dropping invalid headers, deletable by terraform destroy."
  }

  assert {
    condition     = output.url == "http://order-system-1234567890.eu-west-1.elb.amazonaws.com"
    error_message = "The URL output is the ALB's HTTP address."
  }
}

run "certificate_turns_http_into_a_redirect" {
  command = apply

  module {
    source = "./modules/alb"
  }

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }

  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect" && aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS"
    error_message = "With a certificate, :80 redirects to HTTPS."
  }

  assert {
    condition     = aws_lb_listener.https[0].port == 443 && startswith(aws_lb_listener.https[0].ssl_policy, "ELBSecurityPolicy-TLS13")
    error_message = "The HTTPS listener uses a TLS 1.3 policy."
  }
}

run "internal_alb_gets_subnets_with_no_route_out" {
  command = apply

  module {
    source = "./modules/alb"
  }

  variables {
    internal           = true
    vpc_cidr           = "10.0.0.0/16"
    availability_zones = ["eu-west-1a", "eu-west-1b"]
  }

  assert {
    condition     = aws_lb.this.internal && length(aws_subnet.internal) == 2 && [for subnet in aws_subnet.internal : subnet.cidr_block] == ["10.0.200.0/24", "10.0.201.0/24"]
    error_message = "Behind CloudFront the ALB is internal, in one /24 per AZ from the 200th on (clear of the network module's public 0-99 and private 100-199)."
  }

  assert {
    condition     = [for subnet in aws_subnet.internal : subnet.map_public_ip_on_launch] == [false, false] && aws_lb_listener.http.default_action[0].type == "forward"
    error_message = "Its subnets hand out no public addresses; :80 forwards to order-api."
  }
}

run "internal_alb_without_a_vpc_range_is_refused" {
  command = plan

  module {
    source = "./modules/alb"
  }

  variables {
    internal = true
  }

  expect_failures = [var.internal]
}

run "one_subnet_is_refused" {
  command = plan

  module {
    source = "./modules/alb"
  }

  variables {
    subnet_ids = ["subnet-aaaa"]
  }

  expect_failures = [var.subnet_ids]
}

run "health_check_on_the_management_endpoints_is_refused" {
  command = plan

  module {
    source = "./modules/alb"
  }

  variables {
    health_check_path = "/health"
  }

  expect_failures = [var.health_check_path]
}
