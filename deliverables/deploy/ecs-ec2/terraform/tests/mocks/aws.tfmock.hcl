# Values the mocked AWS provider returns for computed attributes. Without
# them it invents random strings, which the provider's own validation rejects
# where it expects an ID or ARN of a given shape (lt-..., arn:aws:...).

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/test"
  }
}

mock_data "aws_region" {
  defaults = { name = "eu-west-1", endpoint = "ec2.eu-west-1.amazonaws.com" }
}

mock_data "aws_partition" {
  defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
}

mock_data "aws_availability_zones" {
  defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], zone_ids = ["euw1-az1", "euw1-az2", "euw1-az3"] }
}

# ECS's service-linked role exists, as in any account that ran ECS before:
# an apply in a test then runs no AWS CLI (modules/ecs-cluster).
mock_data "aws_iam_roles" {
  defaults = {
    names = ["AWSServiceRoleForECS"]
    arns  = ["arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"]
  }
}

mock_data "aws_ssm_parameter" {
  defaults = { value = "ami-0123456789abcdef0", insecure_value = "ami-0123456789abcdef0", type = "String" }
}

mock_resource "aws_vpc" {
  defaults = { id = "vpc-0123456789abcdef0", arn = "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0123456789abcdef0", default_security_group_id = "sg-0000000000000default" }
}

mock_resource "aws_subnet" {
  defaults = { id = "subnet-0123456789abcdef0", arn = "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123456789abcdef0" }
}

mock_resource "aws_security_group" {
  defaults = { id = "sg-0123456789abcdef0", arn = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0" }
}

mock_resource "aws_default_security_group" {
  defaults = { id = "sg-0000000000000default" }
}

mock_resource "aws_internet_gateway" {
  defaults = { id = "igw-0123456789abcdef0" }
}

mock_resource "aws_route_table" {
  defaults = { id = "rtb-0123456789abcdef0" }
}

mock_resource "aws_eip" {
  defaults = { id = "eipalloc-0123456789abcdef0", allocation_id = "eipalloc-0123456789abcdef0" }
}

mock_resource "aws_nat_gateway" {
  defaults = { id = "nat-0123456789abcdef0" }
}

mock_resource "aws_vpc_endpoint" {
  defaults = { id = "vpce-0123456789abcdef0", prefix_list_id = "pl-0123456789abcdef0" }
}

mock_resource "aws_launch_template" {
  defaults = { id = "lt-0123456789abcdef0", arn = "arn:aws:ec2:eu-west-1:123456789012:launch-template/lt-0123456789abcdef0", latest_version = 1 }
}

mock_resource "aws_autoscaling_group" {
  defaults = { arn = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b:autoScalingGroupName/order-system-asg" }
}

mock_resource "aws_ecs_cluster" {
  defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/order-system", id = "arn:aws:ecs:eu-west-1:123456789012:cluster/order-system" }
}

mock_resource "aws_ecs_capacity_provider" {
  defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:capacity-provider/order-system" }
}

mock_resource "aws_ecs_task_definition" {
  defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/order-api:1", revision = 1 }
}

mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/order-system-role" }
}

mock_resource "aws_iam_instance_profile" {
  defaults = { arn = "arn:aws:iam::123456789012:instance-profile/order-system-instance" }
}

mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-table" }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/order-system" }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/order-system/0123456789abcdef"
    arn_suffix = "app/order-system/0123456789abcdef"
    dns_name   = "order-system-1234567890.eu-west-1.elb.amazonaws.com"
    zone_id    = "Z32O12XQLNTSW2"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-0123/0123456789abcdef"
    arn_suffix = "targetgroup/api-0123/0123456789abcdef"
  }
}

mock_resource "aws_lb_listener" {
  defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/order-system/0123456789abcdef/0123456789abcdef" }
}

mock_resource "aws_service_discovery_private_dns_namespace" {
  defaults = { id = "ns-0123456789abcdef", arn = "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-0123456789abcdef", hosted_zone = "Z0123456789ABCDEFGHIJ" }
}

mock_resource "aws_service_discovery_service" {
  defaults = { id = "srv-0123456789abcdef", arn = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-0123456789abcdef" }
}

mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:order-system-alarms" }
}

mock_resource "aws_ecr_repository" {
  defaults = { arn = "arn:aws:ecr:eu-west-1:123456789012:repository/order-system/service", registry_id = "123456789012", repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/service" }
}

mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::order-system-tfstate-123456789012" }
}
