# Every rule of the deployment, in one place:
#   VPC       -> ALB        :80 when alb_internal (CloudFront's VPC origin: its
#                           network interfaces sit in the VPC; the ALB has no public address)
#   internet  -> ALB        :80 (and :443 when https_enabled) otherwise
#   ALB       -> instances  host port range (dynamic host ports of order-api)
#   instances -> instances  host port range (order-api -> order-processor via its SRV record)
#   instances -> internet   :443 only (ECR, ECS, SSM, CloudWatch Logs; DynamoDB and S3 go
#                           through the gateway endpoints but are HTTPS too)
# Nothing else: no SSH, no inbound to the instances from anywhere but these.
# In bridge mode tasks share their instance's network interface, so "order-api
# -> order-processor" is expressed as instance -> instance on the host ports.

resource "aws_security_group" "alb" {
  # checkov:skip=CKV2_AWS_5:Attached in another module (the ALB's security_groups); checkov does not follow module outputs.
  name        = "${var.name}-alb"
  description = var.alb_internal ? "Internal ALB: HTTP in from CloudFront's VPC origin inside the VPC, out only to the container instances." : "Public ALB: HTTP(S) in from the internet, out only to the container instances."
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-alb" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "instances" {
  # checkov:skip=CKV2_AWS_5:Attached in another module (the launch template's network interface); checkov does not follow module outputs.
  name        = "${var.name}-instances"
  description = "ECS container instances: in only from the ALB and each other on host ports."
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-instances" }

  lifecycle {
    create_before_destroy = true
  }
}

# The VPC's range rather than CloudFront's origin-facing prefix list: VPC
# origin traffic arrives from network interfaces inside the VPC, and that
# prefix list would weigh about 55 entries against the 60-rule quota of the group.
resource "aws_vpc_security_group_ingress_rule" "alb_from_vpc" {
  count = var.alb_internal ? 1 : 0

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from CloudFront's VPC origin (inside the VPC)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  # checkov:skip=CKV_AWS_260:Only without CloudFront (alb_internal false): the ALB is then the public entry point and :80 open to the internet is its job. Set certificate_arn to make :80 a redirect to :443.
  count = var.alb_internal ? 0 : 1

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the internet"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  count = var.https_enabled && !var.alb_internal ? 1 : 0

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_instances" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To order-api tasks on their dynamic host ports"
  ip_protocol                  = "tcp"
  from_port                    = var.host_port_range.from
  to_port                      = var.host_port_range.to
  referenced_security_group_id = aws_security_group.instances.id
}

resource "aws_vpc_security_group_ingress_rule" "instances_from_alb" {
  security_group_id            = aws_security_group.instances.id
  description                  = "From the ALB to order-api tasks on their dynamic host ports"
  ip_protocol                  = "tcp"
  from_port                    = var.host_port_range.from
  to_port                      = var.host_port_range.to
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_ingress_rule" "instances_from_instances" {
  security_group_id            = aws_security_group.instances.id
  description                  = "order-api to order-processor tasks on another instance"
  ip_protocol                  = "tcp"
  from_port                    = var.host_port_range.from
  to_port                      = var.host_port_range.to
  referenced_security_group_id = aws_security_group.instances.id
}

resource "aws_vpc_security_group_egress_rule" "instances_to_instances" {
  security_group_id            = aws_security_group.instances.id
  description                  = "order-api to order-processor tasks on another instance"
  ip_protocol                  = "tcp"
  from_port                    = var.host_port_range.from
  to_port                      = var.host_port_range.to
  referenced_security_group_id = aws_security_group.instances.id
}

# AWS APIs have no fixed addresses (except S3 and DynamoDB, whose prefix lists
# the gateway endpoints cover), so HTTPS egress has to be open; nothing but 443.
resource "aws_vpc_security_group_egress_rule" "instances_https" {
  security_group_id = aws_security_group.instances.id
  description       = "HTTPS to AWS APIs (ECR, ECS, SSM, CloudWatch Logs, DynamoDB) and the token issuer's JWKS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
