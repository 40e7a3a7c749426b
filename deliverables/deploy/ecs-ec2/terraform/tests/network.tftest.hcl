# Free-tier network: no NAT gateway and no interface endpoints unless asked,
# the free DynamoDB (and S3) gateway endpoints, a default security group that
# allows nothing.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name = "order-system"
}

run "default_network_is_free_tier" {
  command = apply

  module {
    source = "./modules/network"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_eip.nat) == 0 && output.nat_gateway_count == 0
    error_message = "No NAT gateway (nor its Elastic IP) by default: NAT is not free."
  }

  assert {
    condition     = length(aws_subnet.private) == 0 && tolist(output.instance_subnet_ids) == tolist(output.public_subnet_ids) && output.instances_need_public_ip
    error_message = "Without NAT the instances must use the public subnets with a public address."
  }

  assert {
    condition     = length(aws_subnet.public) == 2 && length(distinct(aws_subnet.public[*].availability_zone)) == 2
    error_message = "Two public subnets in two different AZs (the ALB's minimum)."
  }

  assert {
    condition     = alltrue([for subnet in aws_subnet.public : !subnet.map_public_ip_on_launch])
    error_message = "Subnets must not hand out public IPs to whatever is launched in them."
  }

  assert {
    condition     = aws_vpc_endpoint.dynamodb.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.dynamodb.service_name == "com.amazonaws.eu-west-1.dynamodb"
    error_message = "DynamoDB must be reached through a (free) gateway endpoint."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway"
    error_message = "The S3 endpoint (ECR layers) must be a gateway endpoint, not a billed interface endpoint."
  }

  assert {
    condition     = jsondecode(aws_vpc_endpoint.dynamodb.policy).Statement[0].Condition.StringEquals["aws:ResourceAccount"] == "$${aws:PrincipalAccount}"
    error_message = "The DynamoDB endpoint must only reach this account's tables."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The VPC's default security group must allow nothing."
  }

  assert {
    condition     = aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames
    error_message = "DNS support and hostnames are needed by the Cloud Map private namespace."
  }
}

run "nat_switch_moves_instances_to_private_subnets" {
  command = apply

  module {
    source = "./modules/network"
  }

  variables {
    enable_nat_gateway = true
    az_count           = 3
  }

  override_resource {
    target = aws_route_table.private
    values = { id = "rtb-0000000000private" }
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && output.nat_gateway_count == 1
    error_message = "The NAT switch creates exactly one NAT gateway, not one per AZ."
  }

  assert {
    condition     = length(aws_subnet.private) == 3 && !output.instances_need_public_ip
    error_message = "With NAT, instances go to one private subnet per AZ, without public addresses."
  }

  assert {
    condition     = length(aws_vpc_endpoint.dynamodb.route_table_ids) == 2
    error_message = "The DynamoDB endpoint must serve the private route table too."
  }
}

run "one_availability_zone_is_refused" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    az_count = 1
  }

  expect_failures = [var.az_count]
}
