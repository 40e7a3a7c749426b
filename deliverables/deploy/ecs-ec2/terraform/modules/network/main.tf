# The starter looked AZs up with a data source it never declared; this one is
# declared, and limited to zones that need no opt-in (Local/Wavelength zones
# have no free-tier instance types and no ALB support).
data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394:The zones used are the first az_count of the sorted list; set availability_zones to pin them explicitly.
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_region" "current" {}

locals {
  azs = var.availability_zones == null ? slice(sort(data.aws_availability_zones.available.names), 0, var.az_count) : var.availability_zones
  # Public subnets take the first /24s, private ones start at the 100th so the
  # NAT switch can be flipped without renumbering the public side.
  public_cidrs  = [for index in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), index)]
  private_cidrs = [for index in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), 100 + index)]
}

resource "aws_vpc" "this" {
  # checkov:skip=CKV2_AWS_11:Flow logs to CloudWatch Logs are billed per GB ingested and stored, outside the free tier; enable them for production.
  cidr_block = var.vpc_cidr
  # Both are needed for the Cloud Map private DNS namespace to resolve.
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

# The VPC's default security group is attached to anything launched without
# one: strip every rule so a mistake fails closed.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-default-deny-all" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_subnet" "public" {
  count = length(local.azs)

  vpc_id            = aws_vpc.this.id
  cidr_block        = local.public_cidrs[count.index]
  availability_zone = local.azs[count.index]
  # Addresses are asked for explicitly by the launch template, never handed
  # out to whatever else lands in the subnet.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-public-${local.azs[count.index]}", Tier = "public" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = length(local.azs)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# ---- optional: private subnets behind one NAT gateway (not free) ----------

resource "aws_subnet" "private" {
  count = var.enable_nat_gateway ? length(local.azs) : 0

  vpc_id                  = aws_vpc.this.id
  cidr_block              = local.private_cidrs[count.index]
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-private-${local.azs[count.index]}", Tier = "private" }
}

resource "aws_eip" "nat" {
  count = var.enable_nat_gateway ? 1 : 0

  domain = "vpc"

  tags = { Name = "${var.name}-nat" }

  depends_on = [aws_internet_gateway.this]
}

# One NAT gateway, not one per AZ: the starter's three NAT gateways cost about
# 100 USD a month before any traffic. An AZ outage takes private egress down;
# that is the documented trade-off of this switch.
resource "aws_nat_gateway" "this" {
  count = var.enable_nat_gateway ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id

  tags = { Name = var.name }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-private" }
}

resource "aws_route" "private_nat" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.private[0].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

resource "aws_route_table_association" "private" {
  count = var.enable_nat_gateway ? length(local.azs) : 0

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

# ---- gateway endpoints: free, unlike the starter's nine interface endpoints --

locals {
  route_table_ids = concat([aws_route_table.public.id], aws_route_table.private[*].id)
}

# DynamoDB traffic stays on the AWS network and, with NAT on, skips the NAT
# data charge. The policy keeps the endpoint to this account's tables.
resource "aws_vpc_endpoint" "dynamodb" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.route_table_ids

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ThisAccountsTablesOnly"
      Effect    = "Allow"
      Principal = "*"
      Action    = "dynamodb:*"
      Resource  = "*"
      Condition = {
        StringEquals = { "aws:ResourceAccount" = "$${aws:PrincipalAccount}" }
      }
    }]
  })

  tags = { Name = "${var.name}-dynamodb" }
}

# ECR stores image layers in S3: pulls go through this free endpoint instead
# of the NAT gateway when the private-subnet switch is on.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.route_table_ids

  tags = { Name = "${var.name}-s3" }
}
