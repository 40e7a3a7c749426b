#!/usr/bin/env bash
# api-contract.sh: the services against their own OpenAPI documents.
# Starts a private native stack on free ports and runs schemathesis (every
# check) against order-api and order-processor: a request the document allows
# must be accepted, one it forbids refused, and every answer must be one the
# document lists. Fixed seed and bounded examples and time (about 75 s per
# service), so a run is repeatable and fits make test. Exits non-zero on any
# failure.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
stack="$root/starter/apps/scripts/native-stack.sh"
# Per service: examples per operation and seconds in all.
max_examples=${API_CONTRACT_MAX_EXAMPLES:-50}
max_time=${API_CONTRACT_MAX_TIME:-75}

python_venv "$root/.tools/schemathesis" "schemathesis==$SCHEMATHESIS_VERSION"
schemathesis="$root/.tools/schemathesis/bin/schemathesis"

# Free ports (DynamoDB, the two services, their management ports), so this
# never meets `make dev` or another run.
read -r ddb_port api_port processor_port api_management_port processor_management_port < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(5)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
')
run_dir=$(mktemp -d)
export NATIVE_STACK_DIR="$run_dir" DYNAMODB_PORT="$ddb_port" ORDER_API_PORT="$api_port" ORDER_PROCESSOR_PORT="$processor_port"
export ORDER_API_MANAGEMENT_PORT="$api_management_port" ORDER_PROCESSOR_MANAGEMENT_PORT="$processor_management_port"
trap '"$stack" down >/dev/null || true; rm -rf "$run_dir"' EXIT
"$stack" up >/dev/null

# Seeded products drawn too, and the one forgiven refusal: see the hooks.
export SCHEMATHESIS_HOOKS="$root/scripts/api_contract_hooks.py"
# schemathesis keeps its caches in the working directory.
cd "$run_dir"

# order-api's routes need a token: an admin's (any customer's orders), from
# the stack's development key; order-processor's, the stack's service
# credential. Schemathesis also sends requests without them (its
# `ignored_auth` check expects them refused).
token=$("$root/starter/apps/target/debug/orderctl" token --admin --customer SCHEMATHESIS \
  --signing-key "$run_dir/auth/signing-key.pem")
service_token=$(head -n 1 "$run_dir/auth/processor-tokens")

status=0
for service in "order-api $api_port" "order-processor $processor_port"; do
  read -r name port <<<"$service"
  auth=(--header "Authorization: Bearer $service_token")
  [[ $name == order-api ]] && auth=(--header "Authorization: Bearer $token")
  echo "==> schemathesis: $name"
  "$schemathesis" --no-color run "http://127.0.0.1:$port/openapi.json" "${auth[@]}" \
    --checks all --seed 1 --max-examples "$max_examples" --max-time "$max_time" || status=1
done
exit "$status"
