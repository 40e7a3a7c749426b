# An ECS cluster whose capacity is an Auto Scaling group of micro instances,
# scaled by an ECS capacity provider (managed scaling). Written so `terraform
# destroy` finishes: services go first (they depend on the cluster's capacity
# provider association), the capacity provider does not protect instances
# from scale-in, and the ASG is force-deleted. On an account that never used
# ECS, the service-linked role is created first (below).

locals {
  # Graviton instance families carry a "g" after the generation number
  # (t4g, c7g, m7gd): they need the arm64 AMI.
  architecture = can(regex("^[a-z]+[0-9]+g", var.instance_type)) ? "arm64" : "x86_64"
  ami_parameter = {
    x86_64 = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    arm64  = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
  }
}

# The public parameter AWS updates with each ECS-optimized AMI release. A new
# value changes the launch template, and the ASG's instance refresh rolls it.
data "aws_ssm_parameter" "ecs_ami" {
  name = local.ami_parameter[local.architecture]
}

# ECS's service-linked role (AWSServiceRoleForECS, one per account) must
# exist before the cluster and the capacity provider: CreateCapacityProvider
# fails without it ("ECS Service Linked Role does not exist"), and the role
# CreateCluster makes on its own may not be usable yet when the capacity
# provider is created beside it.
#
# aws_iam_service_linked_role cannot do this: it fails where the role exists
# (any account that ran ECS before), and managing it would make `terraform
# destroy` delete a role the whole account shares. So the account is asked
# whether the role exists; if not, the AWS CLI creates it once, when this
# terraform_data is created (create-service-linked-role.sh), and nothing ever
# deletes it. input is fixed after creation (ignore_changes), so the role
# existing on the next plan changes nothing.
data "aws_iam_roles" "ecs_service_linked" {
  path_prefix = "/aws-service-role/ecs.amazonaws.com/"
  name_regex  = "^AWSServiceRoleForECS$"
}

resource "terraform_data" "ecs_service_linked_role" {
  input = {
    create = length(data.aws_iam_roles.ecs_service_linked.names) == 0
  }

  provisioner "local-exec" {
    command     = self.input.create ? "sh ${path.module}/create-service-linked-role.sh" : "echo 'AWSServiceRoleForECS exists'"
    environment = { AWS_PAGER = "" }
  }

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_ecs_cluster" "this" {
  # checkov:skip=CKV_AWS_65:Container Insights is a variable (container_insights), off by default: its per-task metrics are billed custom metrics, outside the free tier.
  name = var.name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }

  depends_on = [terraform_data.ecs_service_linked_role]
}

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-"
  description            = "ECS container instances of ${var.name}"
  image_id               = nonsensitive(data.aws_ssm_parameter.ecs_ami.value)
  instance_type          = var.instance_type
  update_default_version = true

  iam_instance_profile {
    name = var.instance_profile_name
  }

  # IMDSv2 only, one hop: the ECS agent (host network) reaches it; containers
  # in bridge mode are one hop further and cannot, so they cannot borrow the
  # instance role. Tasks get their own role's credentials from the ECS agent.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size_gib
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  network_interfaces {
    associate_public_ip_address = var.assign_public_ip
    security_groups             = var.security_group_ids
    delete_on_termination       = true
  }

  # T3/T4g default to "unlimited" CPU credits, billed when the baseline is
  # exceeded for long; "standard" throttles instead and can never cost extra.
  credit_specification {
    cpu_credits = "standard"
  }

  monitoring {
    # Detailed (1-minute) monitoring is billed; 5-minute metrics are free.
    enabled = false
  }

  user_data = base64encode(templatefile("${path.module}/user-data.sh.tftpl", {
    cluster_name = var.name
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-instance" }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "${var.name}-instance" }
  }
}

resource "aws_autoscaling_group" "this" {
  name_prefix         = "${var.name}-"
  vpc_zone_identifier = var.subnet_ids
  min_size            = var.min_size
  max_size            = var.max_size
  # No key pair and no SSH: Session Manager is the way in.
  health_check_type         = "EC2"
  health_check_grace_period = 60
  default_instance_warmup   = 60
  # Terminates the instances with the group: destroy does not wait for ECS to
  # drain tasks the services already stopped.
  force_delete          = true
  protect_from_scale_in = false

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # A new AMI or launch template rolls the instances, launching before
  # terminating so tasks always have somewhere to go.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 100
      max_healthy_percentage = 200
      instance_warmup        = 60
    }
  }

  # Required by ECS managed scaling.
  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  lifecycle {
    # The capacity provider owns the desired count.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "this" {
  name = var.name

  auto_scaling_group_provider {
    auto_scaling_group_arn = aws_autoscaling_group.this.arn
    # ENABLED would block scale-in of instances with tasks, and with it the
    # ASG's deletion: the usual reason `terraform destroy` hangs.
    managed_termination_protection = "DISABLED"
    # ECS drains an instance (moves its tasks) before the ASG terminates it.
    managed_draining = "ENABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = var.target_capacity_percent
      minimum_scaling_step_size = 1
      maximum_scaling_step_size = 1
      instance_warmup_period    = 60
    }
  }

  depends_on = [terraform_data.ecs_service_linked_role]
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = [aws_ecs_capacity_provider.this.name]

  default_capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.this.name
    weight            = 1
    base              = 0
  }
}
