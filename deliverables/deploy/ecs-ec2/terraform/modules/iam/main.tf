# Five roles, each with only what its holder does:
#   <name>-instance            the ECS agent on the EC2 hosts: join this cluster, Session Manager
#   <name>-<service>-execution ECS pulling the service's image, shipping its logs
#                              and reading its container secrets (SSM parameters)
#   <name>-<service>-task      the service itself: its own DynamoDB tables and actions
# The starter gave both services one task role. Policies are built with
# jsonencode, not aws_iam_policy_document, so `terraform test` with a mocked
# provider can assert on their exact content.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.name
  account_id  = data.aws_caller_identity.current.account_id
  cluster_arn = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/${var.cluster_name}"

  # 123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:abc1234
  # -> the repository ARN, so each execution role can pull only its own image.
  ecr_image_pattern = "^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^:@]+)"
  ecr_repository_arns = {
    for service, config in var.services : service => (
      can(regex(local.ecr_image_pattern, config.image))
      ? format("arn:%s:ecr:%s:%s:repository/%s", local.partition, regex(local.ecr_image_pattern, config.image)[1], regex(local.ecr_image_pattern, config.image)[0], regex(local.ecr_image_pattern, config.image)[2])
      : null
    )
  }
}

# ---- container instances ---------------------------------------------------

resource "aws_iam_role" "instance" {
  name        = "${var.name}-instance"
  description = "ECS container instances of ${var.cluster_name}: ECS agent and Session Manager only."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# AmazonEC2ContainerServiceforEC2Role minus what the execution roles do (ECR
# pulls, log writes): with IMDSv2 at hop limit 1 no container can reach these
# credentials anyway, but the host gets no more than the agent needs, and can
# register with this cluster only.
resource "aws_iam_role_policy" "instance_ecs_agent" {
  # checkov:skip=CKV_AWS_290:Registration is bound to this cluster's ARN; the rest are agent-only calls (DiscoverPollEndpoint, Poll, Submit*) that AWS's own instance policy also grants on "*".
  # checkov:skip=CKV_AWS_355:Same statement: the agent's control-plane calls are granted on "*" as in AmazonEC2ContainerServiceforEC2Role; registration itself is bound to this cluster.
  name = "ecs-agent"
  role = aws_iam_role.instance.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "JoinThisClusterOnly"
        Effect   = "Allow"
        Action   = ["ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance"]
        Resource = local.cluster_arn
      },
      {
        # The agent's control plane: these take the container instance or no
        # resource at all, so they cannot be narrowed further.
        Sid    = "AgentControlPlane"
        Effect = "Allow"
        Action = [
          "ecs:DiscoverPollEndpoint",
          "ecs:Poll",
          "ecs:StartTelemetrySession",
          "ecs:UpdateContainerInstancesState",
          "ecs:SubmitAttachmentStateChanges",
          "ecs:SubmitContainerStateChange",
          "ecs:SubmitTaskStateChange",
        ]
        Resource = "*"
      },
      {
        Sid       = "TagOnRegistrationOnly"
        Effect    = "Allow"
        Action    = "ecs:TagResource"
        Resource  = "*"
        Condition = { StringEquals = { "ecs:CreateAction" = "RegisterContainerInstance" } }
      },
    ]
  })
}

# Session Manager shell access instead of SSH (no key pair, no port 22): the
# minimal policy from the Session Manager documentation, not the broader
# AmazonSSMManagedInstanceCore.
resource "aws_iam_role_policy" "instance_session_manager" {
  # checkov:skip=CKV_AWS_290:ssmmessages:* calls have no resource-level permissions; this is the minimal Session Manager policy AWS documents.
  # checkov:skip=CKV_AWS_355:Same: Session Manager's channel actions cannot be scoped to a resource.
  name = "session-manager"
  role = aws_iam_role.instance.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "SessionManager"
      Effect = "Allow"
      Action = [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ]
      Resource = "*"
    }]
  })
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.name}-instance"
  role = aws_iam_role.instance.name
}

# ---- per service: execution role and task role ------------------------------

locals {
  execution_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  # Confused-deputy guard documented for task roles: only ECS acting for this
  # account, in this Region, may assume them.
  task_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:*" }
      }
    }]
  })
}

resource "aws_iam_role" "execution" {
  for_each = var.services

  name               = "${var.name}-${each.key}-execution"
  description        = "ECS pulls the ${each.key} image and writes its log group."
  assume_role_policy = local.execution_trust
}

resource "aws_iam_role_policy" "execution" {
  for_each = var.services

  name = "pull-image-write-logs"
  role = aws_iam_role.execution[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        for statement in [
          {
            # GetAuthorizationToken is account-wide by design: it has no resource.
            Sid      = "EcrLogin"
            Effect   = "Allow"
            Action   = ["ecr:GetAuthorizationToken"]
            Resource = "*"
          },
          {
            Sid      = "PullOwnImage"
            Effect   = "Allow"
            Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
            Resource = local.ecr_repository_arns[each.key]
          },
        ] : statement if local.ecr_repository_arns[each.key] != null
      ],
      [{
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${each.value.log_group_name}:log-stream:*"
      }],
    )
  })
}

# The container secrets: ECS reads the parameters with the execution role when
# it starts a task. ssm:GetParameters alone, on exactly these ARNs: SecureString
# parameters under the AWS managed key (alias/aws/ssm) need no kms:Decrypt
# grant, which only a customer managed key would.
resource "aws_iam_role_policy" "execution_secrets" {
  for_each = { for service, config in var.services : service => config if length(config.secret_parameter_arns) > 0 }

  name = "read-secrets"
  role = aws_iam_role.execution[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadOwnSecretParameters"
      Effect   = "Allow"
      Action   = ["ssm:GetParameters"]
      Resource = sort(each.value.secret_parameter_arns)
    }]
  })
}

resource "aws_iam_role" "task" {
  for_each = var.services

  name               = "${var.name}-${each.key}-task"
  description        = "What ${each.key} itself may do: its own DynamoDB tables, nothing else."
  assume_role_policy = local.task_trust
}

# TransactWriteItems has no IAM action of its own: IAM checks each item's
# action (UpdateItem, PutItem, ...) on its table, which the lists already hold.
resource "aws_iam_role_policy" "task_dynamodb" {
  for_each = { for service, config in var.services : service => config if length(config.dynamodb_access) > 0 }

  name = "dynamodb"
  role = aws_iam_role.task[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      for index, access in each.value.dynamodb_access : {
        Sid      = "Table${index}"
        Effect   = "Allow"
        Action   = sort(access.actions)
        Resource = access.include_indexes ? [access.table_arn, "${access.table_arn}/index/*"] : [access.table_arn]
      }
    ]
  })
}
