# The container instances: IMDSv2, encryption, no SSH, a destroy that
# cannot hang on the capacity provider, and ECS's service-linked role made
# when the account lacks it.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                  = "order-system"
  subnet_ids            = ["subnet-aaaa", "subnet-bbbb"]
  security_group_ids    = ["sg-instances"]
  assign_public_ip      = true
  instance_profile_name = "order-system-instance"
}

# First, before any apply: runs share their state, and a terraform_data
# already created keeps its input (ignore_changes). A plan only: an apply
# would run the AWS CLI. The cluster and the capacity provider wait for
# terraform_data.ecs_service_linked_role (depends_on).
run "a_missing_service_linked_role_is_created" {
  command = plan

  module {
    source = "./modules/ecs-cluster"
  }

  override_data {
    target = data.aws_iam_roles.ecs_service_linked
    values = { names = [], arns = [] }
  }

  assert {
    condition     = terraform_data.ecs_service_linked_role.input.create == true
    error_message = "An account without ECS's service-linked role must have it created before the cluster."
  }
}

run "instances_are_locked_down" {
  command = apply

  module {
    source = "./modules/ecs-cluster"
  }

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required"
    error_message = "IMDSv1 must be off (http_tokens = required)."
  }

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "The IMDS hop limit must be 1 so bridge-mode containers cannot reach the instance role."
  }

  assert {
    condition     = aws_launch_template.this.metadata_options[0].instance_metadata_tags == "disabled"
    error_message = "Instance tags must not be exposed through IMDS."
  }

  assert {
    condition     = alltrue([for device in aws_launch_template.this.block_device_mappings : device.ebs[0].encrypted == "true" && device.ebs[0].volume_type == "gp3"])
    error_message = "Every EBS volume must be encrypted gp3."
  }

  assert {
    condition     = aws_launch_template.this.key_name == null
    error_message = "No SSH key pair: Session Manager is the way in."
  }

  assert {
    condition     = aws_launch_template.this.credit_specification[0].cpu_credits == "standard"
    error_message = "Burstable instances must use standard credits: unlimited can bill beyond the free tier."
  }

  assert {
    condition     = data.aws_ssm_parameter.ecs_ami.name == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id" && aws_launch_template.this.image_id == "ami-0123456789abcdef0"
    error_message = "The AMI must come from the public ECS-optimized AL2023 x86_64 parameter."
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "ECS_CLUSTER=order-system\n")
    error_message = "The user data must join the instances to this cluster."
  }

  assert {
    condition     = aws_ecs_capacity_provider.this.auto_scaling_group_provider[0].managed_termination_protection == "DISABLED"
    error_message = "Managed termination protection blocks the ASG's deletion: it must be off."
  }

  assert {
    condition     = aws_ecs_capacity_provider.this.auto_scaling_group_provider[0].managed_scaling[0].status == "ENABLED"
    error_message = "The capacity provider must scale the ASG (managed scaling)."
  }

  assert {
    condition     = aws_autoscaling_group.this.force_delete && !aws_autoscaling_group.this.protect_from_scale_in
    error_message = "The ASG must be force-deleted and unprotected so destroy does not hang."
  }

  assert {
    condition     = anytrue([for tag in aws_autoscaling_group.this.tag : tag.key == "AmazonECSManaged" && tag.propagate_at_launch])
    error_message = "ECS managed scaling needs the AmazonECSManaged tag on the ASG."
  }

  assert {
    condition     = aws_ecs_cluster.this.setting == toset([{ name = "containerInsights", value = "disabled" }])
    error_message = "Container Insights (billed custom metrics) must be off by default."
  }

  assert {
    condition     = output.architecture == "x86_64"
    error_message = "t3.micro is x86_64."
  }

  assert {
    condition     = data.aws_iam_roles.ecs_service_linked.path_prefix == "/aws-service-role/ecs.amazonaws.com/" && data.aws_iam_roles.ecs_service_linked.name_regex == "^AWSServiceRoleForECS$"
    error_message = "The role looked up must be ECS's service-linked role, AWSServiceRoleForECS."
  }

  assert {
    condition     = terraform_data.ecs_service_linked_role.input.create == false
    error_message = "An account that has ECS's service-linked role must not have it created again."
  }
}

run "graviton_instances_get_the_arm64_ami" {
  command = apply

  module {
    source = "./modules/ecs-cluster"
  }

  variables {
    instance_type = "t4g.micro"
  }

  assert {
    condition     = data.aws_ssm_parameter.ecs_ami.name == "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id" && output.architecture == "arm64"
    error_message = "A Graviton instance type must use the arm64 ECS-optimized AMI."
  }
}

run "root_volume_smaller_than_the_ami_is_refused" {
  command = plan

  module {
    source = "./modules/ecs-cluster"
  }

  variables {
    root_volume_size_gib = 8
  }

  expect_failures = [var.root_volume_size_gib]
}
