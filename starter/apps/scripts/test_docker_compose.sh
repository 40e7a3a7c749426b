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
#   PROCESSOR_TOKEN   the service credential order-processor accepts. Without
#                     it, the first line of PROCESSOR_TOKENS_FILE (default
#                     .run/auth/processor-tokens, as `make dev` writes it), or
#                     else the Compose stack's, copied out of order-api.
#   ORDER_API_TOKEN   a bearer token for customer CUST001 (or an admin), from
#                     whatever issuer order-api trusts (needed against AWS).
#                     Without it, one is minted from the development key:
#                     with orderctl (ORDERCTL, on the PATH, or built in
#                     target/) from ORDER_API_SIGNING_KEY (default
#                     .run/auth/signing-key.pem, as `make dev` writes it), or
#                     else inside the Compose stack (its auth-keys service).
#
# Exits non-zero, naming the failed check, if anything is wrong.
set -uo pipefail

SERVER_ENDPOINT=${SERVER_ENDPOINT:-http://localhost:8001}
PROCESSOR_ENDPOINT=${PROCESSOR_ENDPOINT:-http://localhost:8002}
SERVER_MANAGEMENT_ENDPOINT=${SERVER_MANAGEMENT_ENDPOINT-http://localhost:9464}
PROCESSOR_MANAGEMENT_ENDPOINT=${PROCESSOR_MANAGEMENT_ENDPOINT-http://localhost:9465}
management_endpoints=()
for endpoint in "$SERVER_MANAGEMENT_ENDPOINT" "$PROCESSOR_MANAGEMENT_ENDPOINT"; do
  [[ -n $endpoint ]] && management_endpoints+=("$endpoint")
done
apps=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0

# The token every /orders request carries (see the header).
mint_token() {
  local orderctl=${ORDERCTL:-} key=${ORDER_API_SIGNING_KEY:-$apps/../../.run/auth/signing-key.pem} candidate
  if [[ -z $orderctl ]]; then
    for candidate in "$(command -v orderctl || true)" "$apps/target/debug/orderctl" "$apps/target/release/orderctl"; do
      [[ -n $candidate && -x $candidate ]] && { orderctl=$candidate; break; }
    done
  fi
  if [[ -n $orderctl && -f $key ]]; then
    "$orderctl" token --customer CUST001 --signing-key "$key"
  elif command -v docker >/dev/null && docker compose -f "$apps/docker-compose.yaml" ps --quiet order-api 2>/dev/null | grep -q .; then
    docker compose -f "$apps/docker-compose.yaml" run --rm --no-deps -T auth-keys token --customer CUST001
  else
    echo "no token: set ORDER_API_TOKEN, or ORDER_API_SIGNING_KEY with orderctl built" >&2
    return 1
  fi
}
token=${ORDER_API_TOKEN:-$(mint_token)} || exit 1

# The processor's credential (see the header).
read_processor_token() {
  local file=${PROCESSOR_TOKENS_FILE:-$apps/../../.run/auth/processor-tokens} copy
  if [[ -f $file ]]; then
    head -n 1 "$file" | cut -d, -f1
  elif command -v docker >/dev/null && docker compose -f "$apps/docker-compose.yaml" ps --quiet order-api 2>/dev/null | grep -q .; then
    # The images have no shell: copy the file out rather than exec cat.
    copy=$(mktemp)
    docker compose -f "$apps/docker-compose.yaml" cp order-api:/run/secrets/processor/processor-tokens "$copy" >/dev/null &&
      head -n 1 "$copy" | cut -d, -f1
    rm -f "$copy"
  else
    echo "no processor credential: set PROCESSOR_TOKEN or PROCESSOR_TOKENS_FILE" >&2
    return 1
  fi
}
processor_token=${PROCESSOR_TOKEN:-$(read_processor_token)} || exit 1

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
for endpoint in "${management_endpoints[@]}"; do
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
for name in created_at processed_at; do
  got=$(field "$name")
  expect "$name is an RFC 3339 UTC time" \
    "$([[ $got =~ ^\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z\"$ ]]; echo $?)" "got ${got:-nothing}"
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

for endpoint in "${management_endpoints[@]}"; do
  ANONYMOUS=1 request GET "$endpoint/metrics"
  expect "GET $endpoint/metrics serves request durations" \
    "$([[ $status == 200 && $body == *http_server_request_duration_seconds_bucket* ]]; echo $?)" "got $status"
done

echo "test_docker_compose: $passed passed, $failed failed"
((failed == 0))
