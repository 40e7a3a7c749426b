#!/bin/sh
# Creates ECS's service-linked role (AWSServiceRoleForECS) in an account that
# has none, and waits until IAM returns it. Run by terraform (main.tf,
# terraform_data.ecs_service_linked_role) only when the role was missing at
# plan time; "has been taken" (someone created it since) counts as done, any
# other error stops the apply. POSIX sh: runs wherever terraform does.
set -eu

role=AWSServiceRoleForECS
if ! command -v aws >/dev/null 2>&1; then
  echo "$role is missing and the AWS CLI is not installed to create it: install AWS CLI v2, or run" >&2
  echo "  aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com" >&2
  echo "from any machine with the account's credentials, then apply again" >&2
  exit 1
fi

if out=$(aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com \
  --query Role.RoleName --output text 2>&1); then
  echo "created $out"
else
  case $out in
    *"has been taken in this account"*) echo "$role exists" ;;
    *)
      echo "could not create $role: $out" >&2
      exit 1
      ;;
  esac
fi
# IAM is eventually consistent: the role is created before GetRole returns it.
aws iam wait role-exists --role-name "$role"
