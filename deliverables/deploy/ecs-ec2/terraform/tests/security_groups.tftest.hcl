# Exactly the flows the issue allows: VPC -> internal ALB :80 behind CloudFront
# (internet -> ALB :80 without it), ALB -> instances on
# the host port range, instances <-> instances on it (order-api ->
# order-processor), instances -> internet :443. Nothing else.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name   = "order-system"
  vpc_id = "vpc-0123456789abcdef0"
}

run "only_the_alb_is_open_to_the_internet" {
  command = apply

  module {
    source = "./modules/security-groups"
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.alb_http[0].cidr_ipv4 == "0.0.0.0/0" &&
      aws_vpc_security_group_ingress_rule.alb_http[0].from_port == 80 &&
      aws_vpc_security_group_ingress_rule.alb_http[0].to_port == 80 &&
      aws_vpc_security_group_ingress_rule.alb_http[0].security_group_id == aws_security_group.alb.id
    )
    error_message = "The ALB takes HTTP on :80 from the internet, and only :80."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.alb_https) == 0
    error_message = "Without a certificate :443 stays closed."
  }

  assert {
    condition = alltrue([
      for rule in [aws_vpc_security_group_ingress_rule.instances_from_alb, aws_vpc_security_group_ingress_rule.instances_from_instances] :
      rule.cidr_ipv4 == null && rule.cidr_ipv6 == null && rule.prefix_list_id == null && rule.from_port == 32768 && rule.to_port == 65535
    ])
    error_message = "The instances accept only the ALB and each other, only on the dynamic host port range: no CIDR may be open."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.instances_from_alb.referenced_security_group_id == aws_security_group.alb.id
    error_message = "Instances must accept the ALB's security group."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.instances_from_instances.referenced_security_group_id == aws_security_group.instances.id
    error_message = "order-api -> order-processor: instances accept each other on the host ports."
  }

  assert {
    condition = (
      aws_vpc_security_group_egress_rule.alb_to_instances.referenced_security_group_id == aws_security_group.instances.id &&
      aws_vpc_security_group_egress_rule.alb_to_instances.cidr_ipv4 == null
    )
    error_message = "The ALB may send only to the instances."
  }

  assert {
    condition = (
      aws_vpc_security_group_egress_rule.instances_https.cidr_ipv4 == "0.0.0.0/0" &&
      aws_vpc_security_group_egress_rule.instances_https.from_port == 443 &&
      aws_vpc_security_group_egress_rule.instances_https.to_port == 443 &&
      aws_vpc_security_group_egress_rule.instances_https.ip_protocol == "tcp"
    )
    error_message = "The instances' only egress to the internet is HTTPS."
  }
}

run "management_port_is_open_nowhere" {
  command = apply

  module {
    source = "./modules/security-groups"
  }

  variables {
    https_enabled = true
  }

  assert {
    condition = alltrue([
      for rule in concat(
        [aws_vpc_security_group_ingress_rule.instances_from_alb, aws_vpc_security_group_ingress_rule.instances_from_instances],
        aws_vpc_security_group_ingress_rule.alb_http,
        aws_vpc_security_group_ingress_rule.alb_https,
      ) : !(rule.from_port <= 9464 && 9464 <= rule.to_port)
    ])
    error_message = "No ingress rule may cover the management port 9464 (/metrics, /health): nothing scrapes on ECS."
  }
}

run "certificate_opens_https" {
  command = apply

  module {
    source = "./modules/security-groups"
  }

  variables {
    https_enabled = true
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.alb_https) == 1 && aws_vpc_security_group_ingress_rule.alb_https[0].from_port == 443
    error_message = "With a certificate the ALB also takes :443."
  }
}

run "behind_cloudfront_the_alb_admits_only_the_vpc" {
  command = apply

  module {
    source = "./modules/security-groups"
  }

  variables {
    alb_internal  = true
    vpc_cidr      = "10.0.0.0/16"
    https_enabled = true
  }

  assert {
    condition = (
      length(aws_vpc_security_group_ingress_rule.alb_http) == 0 && length(aws_vpc_security_group_ingress_rule.alb_https) == 0 &&
      aws_vpc_security_group_ingress_rule.alb_from_vpc[0].cidr_ipv4 == "10.0.0.0/16" &&
      aws_vpc_security_group_ingress_rule.alb_from_vpc[0].from_port == 80 && aws_vpc_security_group_ingress_rule.alb_from_vpc[0].to_port == 80
    )
    error_message = "Behind CloudFront the ALB takes :80 from the VPC (the VPC origin) and nothing from the internet."
  }
}

run "internal_alb_without_the_vpc_range_is_refused" {
  command = plan

  module {
    source = "./modules/security-groups"
  }

  variables {
    alb_internal = true
  }

  expect_failures = [var.alb_internal]
}
