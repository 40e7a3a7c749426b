# Least privilege: each service's task role holds exactly the DynamoDB
# actions its code performs, on its own tables; each execution role pulls
# only its own image and writes only its own logs; the instance role can join
# only this cluster and carries no ECR or CloudWatch Logs rights.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name         = "order-system"
  cluster_name = "order-system"
  services = {
    order-api = {
      image                 = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:3f2c1e9a7b4d"
      log_group_name        = "/ecs/order-system/order-api"
      secret_parameter_arns = ["arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens"]
      dynamodb_access = [{
        table_arn       = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders"
        actions         = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        include_indexes = true
      }]
    }
    order-processor = {
      image          = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-processor@sha256:0000000000000000000000000000000000000000000000000000000000000000"
      log_group_name = "/ecs/order-system/order-processor"
      dynamodb_access = [
        {
          table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-inventory"
          actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"]
        },
        {
          table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-reservations"
          actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        },
      ]
    }
  }
}

run "roles_are_least_privilege" {
  command = apply

  module {
    source = "./modules/iam"
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.task_dynamodb["order-api"].policy).Statement == [{
      Sid      = "Table0"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
      Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders", "arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-orders/index/*"]
    }]
    error_message = "order-api's task role: exactly its five actions on the orders table and its indexes, nothing else."
  }

  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.task_dynamodb["order-processor"].policy).Statement : statement.Resource] == [
      ["arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-inventory"],
      ["arn:aws:dynamodb:eu-west-1:123456789012:table/order-system-reservations"],
    ]
    error_message = "order-processor's task role reaches the inventory and reservations tables only (not orders, no indexes)."
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.task_dynamodb["order-processor"].policy, "DeleteItem") && !strcontains(aws_iam_role_policy.task_dynamodb["order-processor"].policy, "dynamodb:*")
    error_message = "order-processor never deletes items and gets no wildcard."
  }

  assert {
    condition     = aws_iam_role.task["order-api"].name != aws_iam_role.task["order-processor"].name && length(aws_iam_role.execution) == 2
    error_message = "Each service has its own task role and its own execution role (the starter shared one task role)."
  }

  assert {
    condition     = jsondecode(aws_iam_role.task["order-api"].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "Task roles must guard against the confused deputy (aws:SourceAccount)."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.execution["order-api"].policy).Statement : statement.Resource if statement.Sid == "PullOwnImage"
    ] == ["arn:aws:ecr:eu-west-1:123456789012:repository/order-system/order-api"]
    error_message = "order-api's execution role pulls from its own repository only."
  }

  assert {
    condition     = output.ecr_repository_arns["order-processor"] == "arn:aws:ecr:eu-west-1:123456789012:repository/order-system/order-processor"
    error_message = "An image pinned by digest must still map to its repository."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.execution["order-processor"].policy).Statement : statement.Resource if statement.Sid == "WriteOwnLogs"
    ] == ["arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/order-system/order-processor:log-stream:*"]
    error_message = "order-processor's execution role writes to its own log group only."
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.execution_secrets["order-api"].policy).Statement == [{
      Sid      = "ReadOwnSecretParameters"
      Effect   = "Allow"
      Action   = ["ssm:GetParameters"]
      Resource = ["arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/processor-tokens"]
    }]
    error_message = "order-api's execution role reads exactly its secret's parameter (ssm:GetParameters on that ARN), with no kms:Decrypt (the AWS managed key needs none)."
  }

  assert {
    condition     = keys(aws_iam_role_policy.execution_secrets) == ["order-api"] && !strcontains(aws_iam_role_policy.execution["order-api"].policy, "ssm:")
    error_message = "A service without secrets gets no SSM policy, and the pull/logs policy holds no SSM right."
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.instance_ecs_agent.policy, "ecr:") && !strcontains(aws_iam_role_policy.instance_ecs_agent.policy, "logs:") && !strcontains(aws_iam_role_policy.instance_ecs_agent.policy, "\"ecs:*\"")
    error_message = "The instance role needs no ECR or log rights (execution roles have them) and no ecs:*."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.instance_ecs_agent.policy).Statement : statement.Resource if statement.Sid == "JoinThisClusterOnly"
    ] == ["arn:aws:ecs:eu-west-1:123456789012:cluster/order-system"]
    error_message = "Instances may register with this cluster only."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.instance_session_manager.policy).Statement[0].Action == ["ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
    error_message = "Session Manager access is the documented minimal set."
  }
}

run "images_outside_ecr_get_no_ecr_rights" {
  command = apply

  module {
    source = "./modules/iam"
  }

  variables {
    services = {
      order-api = {
        image           = "ghcr.io/example/order-api:1.0.0"
        log_group_name  = "/ecs/order-system/order-api"
        dynamodb_access = []
      }
    }
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.execution["order-api"].policy, "ecr:") && length(aws_iam_role_policy.task_dynamodb) == 0
    error_message = "No ECR statement for an image outside ECR, and no DynamoDB policy for a service without tables."
  }
}

run "wildcard_actions_are_refused" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    services = {
      order-api = {
        image           = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:abc"
        log_group_name  = "/ecs/order-system/order-api"
        dynamodb_access = [{ table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/t", actions = ["dynamodb:*"] }]
      }
    }
  }

  expect_failures = [var.services]
}

run "wildcard_secret_parameters_are_refused" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    services = {
      order-api = {
        image                 = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-system/order-api:abc"
        log_group_name        = "/ecs/order-system/order-api"
        secret_parameter_arns = ["arn:aws:ssm:eu-west-1:123456789012:parameter/order-system/*"]
        dynamodb_access       = []
      }
    }
  }

  expect_failures = [var.services]
}
