#!/usr/bin/env bash
# Checks a running stack end to end: the Compose stack (`docker compose up -d
# --wait`) or the native one (`make dev`). Needs only bash and curl.
#
#   SERVER_ENDPOINT   order-api base URL (default http://localhost:8001)
#   PROCESSOR_ENDPOINT order-processor base URL (default http://localhost:8002)
#   SERVER_MANAGEMENT_ENDPOINT    order-api's management port (/metrics, the
#                                 detailed /health; default http://localhost:9464)
#   PROCESSOR_MANAGEMENT_ENDPOINT order-processor's (default http://localhost:9465)
#                                 Set either empty where that port cannot be
#                                 reached (ECS maps none): its checks are skipped.
#   PROCESSOR_TOKEN   the service credential order-processor accepts, or
#   PROCESSOR_TOKENS_FILE a file whose first token is it.
#   ORDER_API_TOKEN   a bearer token for customer CUST001 (or an admin), from
#                     whatever issuer order-api trusts (needed against AWS), or
#   ORDER_API_SIGNING_KEY a development key to mint one with orderctl
#                     (ORDERCTL, on the PATH, or built in target/).
#   READY_TIMEOUT_SECONDS how long to wait for both services to answer ready
#                     first (default 60: `docker compose up -d` returns before).
#
# Without them, the credentials of the local stack that serves SERVER_ENDPOINT
# (a loopback address), never a leftover key of another one: the Compose
# stack's (docker compose or docker-compose) when its order-api runs published
# on that port, else the native stack's (.run/auth, or NATIVE_STACK_DIR/auth)
# when its order-api runs (`make down` leaves the keys but not the pid file).
#
# Exits non-zero, naming the failed check, if anything is wrong.
set -uo pipefail

SERVER_ENDPOINT=${SERVER_ENDPOINT:-http://localhost:8001}
PROCESSOR_ENDPOINT=${PROCESSOR_ENDPOINT:-http://localhost:8002}
SERVER_MANAGEMENT_ENDPOINT=${SERVER_MANAGEMENT_ENDPOINT-http://localhost:9464}
PROCESSOR_MANAGEMENT_ENDPOINT=${PROCESSOR_MANAGEMENT_ENDPOINT-http://localhost:9465}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-60}
# Arrays are expanded as ${a[@]+"${a[@]}"}: bash 3.2 (macOS) calls an empty
# "${a[@]}" unbound under set -u.
management_endpoints=()
for endpoint in "$SERVER_MANAGEMENT_ENDPOINT" "$PROCESSOR_MANAGEMENT_ENDPOINT"; do
  [[ -n $endpoint ]] && management_endpoints+=("$endpoint")
done
[[ $READY_TIMEOUT_SECONDS =~ ^[0-9]+$ ]] || {
  echo "test_docker_compose: READY_TIMEOUT_SECONDS must be whole seconds, not '$READY_TIMEOUT_SECONDS'" >&2
  exit 1
}
apps=$(cd "$(dirname "$0")/.." && pwd)
compose_file=$apps/docker-compose.yaml
native_dir=${NATIVE_STACK_DIR:-$apps/../../.run}
passed=0
failed=0

die() { echo "test_docker_compose: $*" >&2; exit 1; }

# ---- whose credentials -------------------------------------------------------

# compose ARGS...: Compose (compose_command: the docker compose plugin, or
# docker-compose, which Docker Desktop also ships) on this stack's file.
compose_command=
compose() {
  if [[ $compose_command == docker-compose ]]; then
    docker-compose -f "$compose_file" "$@"
  else
    docker compose -f "$compose_file" "$@"
  fi
}

# compose_serves: Compose (compose_command) runs this stack with order-api up
# and published on SERVER_ENDPOINT's port.
compose_serves() {
  local services published
  services=$(compose ps --services --filter status=running 2>/dev/null) || return 1
  [[ $'\n'$services$'\n' == *$'\n'order-api$'\n'* ]] || return 1
  published=$(compose port order-api 8000 2>/dev/null) || return 1
  [[ ${published##*:} == "$endpoint_port" ]]
}

native_serves() {
  local pid
  pid=$(cat "$native_dir/order-api.pid" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# find_stack: sets stack to compose (and compose_command) or native.
stack=
endpoint_port=
find_stack() {
  local loopback='^(https?)://(localhost|127\.0\.0\.1|\[::1\])(:([0-9]+))?(/.*)?$'
  if [[ $SERVER_ENDPOINT =~ $loopback ]]; then
    endpoint_port=${BASH_REMATCH[4]}
    if [[ -z $endpoint_port ]]; then
      endpoint_port=80
      [[ ${BASH_REMATCH[1]} == https ]] && endpoint_port=443
    fi
    if command -v docker >/dev/null && docker compose version >/dev/null 2>&1 &&
      compose_command="docker compose" && compose_serves; then
      stack=compose
    elif command -v docker-compose >/dev/null && compose_command=docker-compose && compose_serves; then
      stack=compose
    elif native_serves; then
      stack=native
    fi
  fi
  [[ -n $stack ]] || die "no Compose stack publishes order-api on $SERVER_ENDPOINT and no native stack runs ($native_dir/order-api.pid): start one, or set ORDER_API_TOKEN and PROCESSOR_TOKEN"
  echo "using the $stack stack's development credentials"
}

# orderctl_token KEY: a CUST001 token minted with orderctl from KEY.
orderctl_token() {
  local key=$1 orderctl=${ORDERCTL:-} candidate
  if [[ -z $orderctl ]]; then
    for candidate in "$(command -v orderctl || true)" "$apps/target/debug/orderctl" "$apps/target/release/orderctl"; do
      [[ -n $candidate && -x $candidate ]] && { orderctl=$candidate; break; }
    done
  fi
  [[ -n $orderctl ]] || die "no orderctl to mint a token from $key: build it (make build), or set ORDER_API_TOKEN"
  [[ -f $key ]] || die "no signing key $key: set ORDER_API_SIGNING_KEY or ORDER_API_TOKEN"
  "$orderctl" token --customer CUST001 --signing-key "$key"
}

# first_token FILE: the first token of a PROCESSOR_TOKENS_FILE.
first_token() {
  [[ -f $1 ]] || die "no processor credential file $1: set PROCESSOR_TOKENS_FILE or PROCESSOR_TOKEN"
  head -n 1 "$1" | cut -d, -f1
}

# compose_processor_token: copied out of order-api (the images have no shell).
compose_processor_token() {
  local container copy
  container=$(compose ps -q order-api | head -n 1)
  [[ -n $container ]] || die "cannot find the Compose stack's order-api container"
  copy=$(mktemp)
  if ! docker cp "$container:/run/secrets/processor/processor-tokens" "$copy" >/dev/null; then
    rm -f "$copy"
    die "cannot copy order-processor's credential out of order-api ($container)"
  fi
  head -n 1 "$copy" | cut -d, -f1
  rm -f "$copy"
}

if [[ -z ${ORDER_API_TOKEN:-} && -z ${ORDER_API_SIGNING_KEY:-} ]] ||
  [[ -z ${PROCESSOR_TOKEN:-} && -z ${PROCESSOR_TOKENS_FILE:-} ]]; then
  find_stack
fi

if [[ -n ${ORDER_API_TOKEN:-} ]]; then
  token=$ORDER_API_TOKEN
elif [[ -n ${ORDER_API_SIGNING_KEY:-} ]]; then
  token=$(orderctl_token "$ORDER_API_SIGNING_KEY") || exit 1
elif [[ $stack == native ]]; then
  token=$(orderctl_token "$native_dir/auth/signing-key.pem") || exit 1
else
  token=$(compose run --rm --no-deps -T auth-keys token --customer CUST001) ||
    die "the Compose stack's auth-keys service did not mint a token"
fi

if [[ -n ${PROCESSOR_TOKEN:-} ]]; then
  processor_token=$PROCESSOR_TOKEN
elif [[ -n ${PROCESSOR_TOKENS_FILE:-} ]]; then
  processor_token=$(first_token "$PROCESSOR_TOKENS_FILE") || exit 1
elif [[ $stack == native ]]; then
  processor_token=$(first_token "$native_dir/auth/processor-tokens") || exit 1
else
  processor_token=$(compose_processor_token) || exit 1
fi
[[ -n $token ]] || die "the bearer token for order-api is empty"
[[ -n $processor_token ]] || die "order-processor's credential is empty"

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1" >&2; }
expect() { # expect NAME CONDITION-RESULT DETAIL
  if [[ "$2" == 0 ]]; then ok "$1"; else fail "$1: $3"; fi
}

# request METHOD URL [BODY]: sets $status, $body and $content_type. With the
# bearer token unless ANONYMOUS=1; BEARER replaces the token.
request() {
  local method=$1 url=$2 data=${3:-} out
  local args=(-sS -o - -w '\n%{http_code} %{content_type}' -X "$method" --max-time 15)
  [[ ${ANONYMOUS:-0} == 1 ]] || args+=(-H "Authorization: Bearer ${BEARER:-$token}")
  [[ -n "$data" ]] && args+=(-H 'Content-Type: application/json' --data "$data")
  if ! out=$(curl "${args[@]}" "$url" 2>&1); then
    status=000 body=$out content_type=
    return
  fi
  body=${out%$'\n'*}
  local tail=${out##*$'\n'}
  status=${tail%% *}
  content_type=${tail#* }
}

# field NAME: the raw JSON value of a top-level field of $body (strings keep their quotes).
field() {
  local re="\"$1\"[[:space:]]*:[[:space:]]*(\"[^\"]*\"|-?[0-9]+|null|true|false)"
  [[ "$body" =~ $re ]] && echo "${BASH_REMATCH[1]}"
}

echo "checking $SERVER_ENDPOINT (processor $PROCESSOR_ENDPOINT)"

# `docker compose up -d` (the starter's way) returns before the services are
# ready: wait for both, up to READY_TIMEOUT_SECONDS; the checks say what is not.
ready_deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
for endpoint in "$SERVER_ENDPOINT" "$PROCESSOR_ENDPOINT"; do
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$endpoint/health/ready") == 200 ]]; do
    ((SECONDS < ready_deadline)) || break
    sleep 1
  done
done

# The public ports serve the probes to anyone, and not the operational
# endpoints, which are on the management ports.
for endpoint in "$SERVER_ENDPOINT" "$PROCESSOR_ENDPOINT"; do
  for path in /health/live /health/ready; do
    ANONYMOUS=1 request GET "$endpoint$path"
    expect "GET $endpoint$path is 200" "$([[ $status == 200 ]]; echo $?)" "got $status: $body"
  done
  for path in /health /metrics; do
    ANONYMOUS=1 request GET "$endpoint$path"
    expect "GET $endpoint$path is not served (404)" "$([[ $status == 404 ]]; echo $?)" "got $status: $body"
  done
done
for endpoint in ${management_endpoints[@]+"${management_endpoints[@]}"}; do
  ANONYMOUS=1 request GET "$endpoint/health"
  expect "GET $endpoint/health is 200" "$([[ $status == 200 ]]; echo $?)" "got $status: $body"
done

# order-processor serves only callers with its credential.
ANONYMOUS=1 request GET "$PROCESSOR_ENDPOINT/inventory/PROD001"
expect "order-processor without its credential is 401" "$([[ $status == 401 ]]; echo $?)" "got $status: $body"
request GET "$PROCESSOR_ENDPOINT/inventory/PROD001"
expect "order-processor refuses a customer's token (401)" "$([[ $status == 401 ]]; echo $?)" "got $status: $body"
BEARER=$processor_token request GET "$PROCESSOR_ENDPOINT/inventory/PROD001"
expect "order-processor with its credential is 200" "$([[ $status == 200 ]]; echo $?)" "got $status: $body"

ANONYMOUS=1 request POST "$SERVER_ENDPOINT/orders/" '{"product_id":"PROD001","quantity":1,"customer_id":"CUST001"}'
expect "an order without a token is 401" "$([[ $status == 401 ]]; echo $?)" "got $status: $body"

# The starter's order.
request POST "$SERVER_ENDPOINT/orders/" '{"product_id":"PROD001","quantity":1,"customer_id":"CUST001"}'
expect "POST /orders/ is 201" "$([[ $status == 201 ]]; echo $?)" "got $status: $body"
order_id=$(field order_id | tr -d '"')
expect "the answer has an order_id" "$([[ -n $order_id ]]; echo $?)" "$body"
created=$body

request GET "$SERVER_ENDPOINT/orders/$order_id"
expect "GET /orders/{id} is 200" "$([[ $status == 200 ]]; echo $?)" "got $status: $body"
expect "the order reads back as created" "$([[ $body == "$created" ]]; echo $?)" "created $created, read $body"
for pair in 'order_id:"'"$order_id"'"' 'product_id:"PROD001"' 'quantity:1' 'customer_id:"CUST001"' 'status:"confirmed"' 'total_price:29'; do
  name=${pair%%:*} want=${pair#*:}
  got=$(field "$name")
  expect "$name is $want" "$([[ $got == "$want" ]]; echo $?)" "got ${got:-nothing}"
done
# In a variable: bash 3.2 cannot parse parentheses in a regex written inline.
rfc3339='^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z"$'
for name in created_at processed_at; do
  got=$(field "$name")
  expect "$name is an RFC 3339 UTC time" "$([[ $got =~ $rfc3339 ]]; echo $?)" "got ${got:-nothing}"
done

request POST "$SERVER_ENDPOINT/orders" '{"product_id":"PROD002","quantity":1000,"customer_id":"CUST001"}'
expect "ordering more than the stock is 409" "$([[ $status == 409 ]]; echo $?)" "got $status: $body"
expect "the 409 is application/problem+json" "$([[ $content_type == application/problem+json* ]]; echo $?)" "got $content_type"
expect "the 409 says what is available" "$([[ -n $(field available) ]]; echo $?)" "$body"

request POST "$SERVER_ENDPOINT/orders" '{"product_id":"NO-SUCH-PRODUCT","quantity":1,"customer_id":"CUST001"}'
expect "an unknown product is 422" "$([[ $status == 422 ]]; echo $?)" "got $status: $body"

request POST "$SERVER_ENDPOINT/orders" '{"product_id":"PROD001","quantity":0,"customer_id":"CUST001"}'
expect "quantity 0 is 422" "$([[ $status == 422 ]]; echo $?)" "got $status: $body"

request POST "$SERVER_ENDPOINT/orders" '{"product_id":'
expect "malformed JSON is 400" "$([[ $status == 400 ]]; echo $?)" "got $status: $body"

request GET "$SERVER_ENDPOINT/orders/no-such-order"
expect "an unknown order is 404" "$([[ $status == 404 ]]; echo $?)" "got $status: $body"

for endpoint in ${management_endpoints[@]+"${management_endpoints[@]}"}; do
  ANONYMOUS=1 request GET "$endpoint/metrics"
  expect "GET $endpoint/metrics serves request durations" \
    "$([[ $status == 200 && $body == *http_server_request_duration_seconds_bucket* ]]; echo $?)" "got $status"
done

echo "test_docker_compose: $passed passed, $failed failed"
((failed == 0))
