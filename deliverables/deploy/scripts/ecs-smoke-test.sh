#!/usr/bin/env bash
# ecs-smoke-test.sh: runs the starter's smoke test (test_docker_compose.sh,
# unchanged) against the ECS deployment.
#
#   deliverables/deploy/scripts/ecs-smoke-test.sh [--wait SECONDS]
#
# order-api is reached at the api_url output. order-processor
# has no public address by design, so the script opens a Session Manager port
# forward to one of its tasks (instance + dynamic host port, found through the
# ECS API) on 127.0.0.1:$PROCESSOR_LOCAL_PORT, and closes it afterwards.
#
# Before the starter's test it checks what only ECS can break: the ALB exposes
# the API and /health/live|ready but not the management endpoints (/metrics
# and /health answer 404: they live on MANAGEMENT_PORT, which nothing maps),
# and order-processor refuses a call without a token and accepts the first
# token of the SSM parameter ECS injected as PROCESSOR_TOKENS.
#
# Needs: the AWS CLI v2 with the Session Manager plugin
# (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html),
# curl, terraform (to read the outputs), make and Docker (to mint the token),
# and credentials for the account that may also read the token parameter
# (ssm:GetParameter on the processor_tokens_parameter_name output). Runs on
# bash 3.2 (macOS).
#
# Environment:
#   TERRAFORM_DIR           the ECS root module (default: ../ecs-ec2/terraform)
#   SERVER_ENDPOINT         order-api URL (default: the api_url output)
#   PROCESSOR_LOCAL_PORT    local end of the port forward (default 18002)
#   ORDER_API_TOKEN         a bearer token for customer CUST001 (or with the
#                           orders:admin scope). Unset: with the development issuer
#                           (the default) one is minted by `make ecs-token`; with a
#                           real issuer (auth_jwks_url) it is required, e.g. a
#                           Cognito ID token.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../../.." && pwd)
terraform_dir=${TERRAFORM_DIR:-$script_dir/../ecs-ec2/terraform}
local_port=${PROCESSOR_LOCAL_PORT:-18002}
wait_seconds=300

die() { echo "ecs-smoke-test: $*" >&2; exit 1; }

while (($# > 0)); do
  case "$1" in
    --wait) wait_seconds=${2:?--wait needs a number of seconds}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $wait_seconds =~ ^[0-9]+$ ]] || die "--wait takes whole seconds, not '$wait_seconds'"

for tool in aws curl terraform session-manager-plugin; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

output() { terraform -chdir="$terraform_dir" output -raw "$1"; }
server=${SERVER_ENDPOINT:-$(output api_url)} || die "no api_url output in $terraform_dir: run terraform apply there first"
cluster=$(output cluster_name)
region=$(output aws_region)
token_parameter=$(output processor_tokens_parameter_name)

# The customer token: given, or minted with the development key when order-api
# trusts it (the order_api_auth output says so).
if [[ -z ${ORDER_API_TOKEN:-} ]]; then
  auth=$(terraform -chdir="$terraform_dir" output -json order_api_auth) ||
    die "no order_api_auth output in $terraform_dir: apply the current configuration first"
  [[ $auth =~ \"development\":[[:space:]]*true ]] ||
    die "ORDER_API_TOKEN is not set, and order-api trusts a real issuer ($auth): set it to that issuer's token for customer CUST001"
  echo "minting a token for CUST001 with the development key (make ecs-token)"
  ORDER_API_TOKEN=$(make -C "$repo_root" --no-print-directory -s ecs-token CUSTOMER=CUST001) ||
    die "could not mint a token (make ecs-token): run make ecs-keygen, then make tf-plan tf-apply"
  export ORDER_API_TOKEN
fi

# status URL [TOKEN]: the HTTP status code of a GET, with the bearer token if
# given (passed on stdin, never on a command line other users can list).
status() {
  local args=(-s -o /dev/null -w '%{http_code}' --max-time 10)
  if [[ -n ${2:-} ]]; then
    printf 'Authorization: Bearer %s\n' "$2" | curl "${args[@]}" -H @- "$1"
  else
    curl "${args[@]}" "$1"
  fi
}

# expect_status WANT URL [TOKEN]
expect_status() {
  local got
  got=$(status "$2" "${3:-}")
  [[ $got == "$1" ]] || die "GET $2 answered $got, expected $1"
  echo "ok   GET $2 is $1${3:+ (with a token)}"
}

echo "waiting up to ${wait_seconds}s for $server/health/ready"
deadline=$((SECONDS + wait_seconds))
until [[ $(status "$server/health/ready") == 200 ]]; do
  ((SECONDS < deadline)) || die "$server/health/ready did not answer 200 in ${wait_seconds}s (check the service events: aws ecs describe-services --cluster $cluster --services order-api)"
  sleep 5
done

expect_status 200 "$server/health/live"
# The management endpoints must not be public: the ALB reaches only PORT.
expect_status 404 "$server/metrics"
expect_status 404 "$server/health"

# A running order-processor task: the instance it is on and its host port.
task=$(aws ecs list-tasks --region "$region" --cluster "$cluster" --service-name order-processor \
  --desired-status RUNNING --query 'taskArns[0]' --output text)
[[ -n $task && $task != None ]] || die "no running order-processor task in $cluster"
read -r container_instance host_port < <(aws ecs describe-tasks --region "$region" --cluster "$cluster" --tasks "$task" \
  --query 'tasks[0].[containerInstanceArn, containers[0].networkBindings[0].hostPort]' --output text)
instance=$(aws ecs describe-container-instances --region "$region" --cluster "$cluster" \
  --container-instances "$container_instance" --query 'containerInstances[0].ec2InstanceId' --output text)

echo "forwarding 127.0.0.1:$local_port to order-processor on $instance:$host_port (Session Manager)"
aws ssm start-session --region "$region" --target "$instance" \
  --document-name AWS-StartPortForwardingSession \
  --parameters "portNumber=$host_port,localPortNumber=$local_port" >/dev/null &
session=$!
trap 'kill "$session" 2>/dev/null || true' EXIT

deadline=$((SECONDS + 30))
until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$local_port/health/live"; do
  kill -0 "$session" 2>/dev/null || die "the Session Manager session ended (is the SSM agent online? aws ssm describe-instance-information)"
  ((SECONDS < deadline)) || die "the port forward to $instance:$host_port did not open in 30s"
  sleep 1
done

processor=http://127.0.0.1:$local_port
tokens=$(aws ssm get-parameter --region "$region" --name "$token_parameter" --with-decryption \
  --query Parameter.Value --output text) || die "cannot read $token_parameter (ssm:GetParameter, and kms:Decrypt through SSM)"
processor_token=${tokens%%,*}
expect_status 401 "$processor/inventory/PROD001"
expect_status 200 "$processor/inventory/PROD001" "$processor_token"

# Nothing maps the management ports on ECS: those checks are skipped.
SERVER_ENDPOINT=$server PROCESSOR_ENDPOINT=$processor PROCESSOR_TOKEN=$processor_token \
  SERVER_MANAGEMENT_ENDPOINT='' PROCESSOR_MANAGEMENT_ENDPOINT='' \
  "$repo_root/starter/apps/scripts/test_docker_compose.sh"
