# Behind CloudFront (internal = true) the ALB has no public address and sits
# in subnets of its own whose only route is the VPC's: CloudFront reaches it
# through a VPC origin, so nothing, tokens included, crosses the internet in
# clear. The subnets take /24s from the 200th on (the network module uses the
# first for public subnets and the 100th on for private ones) and use the
# VPC's main route table, which routes nothing outside the VPC.
resource "aws_subnet" "internal" {
  count = var.internal ? length(var.availability_zones) : 0

  vpc_id            = var.vpc_id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), 200 + count.index)
  # Only the ALB's private addresses live here.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-alb-${var.availability_zones[count.index]}", Tier = "alb-internal" }
}

resource "aws_lb" "this" {
  # checkov:skip=CKV_AWS_91:Access logs need an S3 bucket and its storage; not free-tier. Enable with an access_logs block for production.
  # checkov:skip=CKV2_AWS_28:AWS WAF is billed per web ACL and rule (about 6 USD/month minimum): outside the free tier.
  # checkov:skip=CKV_AWS_150:Deletion protection is a variable (deletion_protection), off so `terraform destroy` works.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.internal ? aws_subnet.internal[*].id : var.subnet_ids
  security_groups            = var.security_group_ids
  idle_timeout               = var.idle_timeout_seconds
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  enable_deletion_protection = var.deletion_protection
}

resource "aws_lb_target_group" "api" {
  # checkov:skip=CKV_AWS_378:TLS ends at CloudFront (or at the ALB with certificate_arn); the hop to the tasks stays inside the VPC, restricted by security groups, and the services speak plain HTTP.
  name_prefix = "api-"
  # Bridge mode: targets are instances, on the host port Docker picked.
  target_type          = "instance"
  protocol             = "HTTP"
  port                 = 8000
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay_seconds

  health_check {
    path                = var.health_check_path
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = { Name = "${var.name}-api" }

  # A replaced target group (new port, protocol, ...) must exist before the
  # listener lets go of the old one.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2:By default the ALB is internal and only CloudFront's VPC origin reaches :80 inside the VPC (viewers use HTTPS at CloudFront); with certificate_arn set this listener only redirects to HTTPS.
  # checkov:skip=CKV_AWS_103:Same listener: TLS applies to CloudFront's viewers, or to the HTTPS listener that exists when certificate_arn is set.
  # checkov:skip=CKV2_AWS_20:The redirect to HTTPS is conditional on certificate_arn (see default_action below); behind CloudFront no viewer reaches this listener.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = var.certificate_arn == null ? "forward" : "redirect"
    target_group_arn = var.certificate_arn == null ? aws_lb_target_group.api.arn : null

    dynamic "redirect" {
      for_each = var.certificate_arn == null ? [] : [1]
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count = var.certificate_arn == null ? 0 : 1

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
}
