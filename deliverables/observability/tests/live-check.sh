#!/usr/bin/env bash
# live-check.sh: proves every dashboard query and every rule against a real
# Prometheus scraping the real services.
#
# Starts the native stack on its own ports (DynamoDB Local 18100, order-api
# 18101, order-processor 18102, their management ports 18103 and 18104, which
# prometheus-native.yml scrapes) and the Debian
# `prometheus` on a free loopback port, drives traffic that reaches every
# code path the dashboards show (processor unreachable, DynamoDB unavailable,
# out of stock, unknown product, cancellation, reads, creates), then runs
# live_queries.py. Everything it started is stopped on exit, whatever happens.
#
# Needs curl and python3; installs Debian's prometheus under .tools on first
# use; native-stack.sh builds the debug binaries if needed. Exit code 0 only
# if every query had data.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../../scripts/lib.sh
source "$here/../../../scripts/lib.sh"
apps="$root/starter/apps"
bin="$apps/target/debug"
dashboards="$root/deliverables/deploy/kubernetes/charts/microservices/files/dashboards"

export NATIVE_STACK_DIR="$root/.run/observability-live"
export DYNAMODB_PORT=18100 ORDER_API_PORT=18101 ORDER_PROCESSOR_PORT=18102
export ORDER_API_MANAGEMENT_PORT=18103 ORDER_PROCESSOR_MANAGEMENT_PORT=18104
api="http://127.0.0.1:$ORDER_API_PORT"
processor="http://127.0.0.1:$ORDER_PROCESSOR_PORT"

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "live-check: $tool is missing" >&2; exit 1; }
done
PATH="$("$here/install-prometheus.sh"):$PATH"

work=$(mktemp -d)
prometheus_pid=""
cleanup() {
  # A process stopped by a failure phase must run again to exit on SIGTERM.
  local name
  for name in dynamodb order-processor; do
    if [[ -f "$NATIVE_STACK_DIR/$name.pid" ]]; then
      kill -CONT "$(cat "$NATIVE_STACK_DIR/$name.pid")" 2>/dev/null || true
    fi
  done
  if [[ -n "$prometheus_pid" ]]; then
    kill "$prometheus_pid" 2>/dev/null || true
    wait "$prometheus_pid" 2>/dev/null || true
  fi
  "$apps/scripts/native-stack.sh" down >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

pid_of() { cat "$NATIVE_STACK_DIR/$1.pid"; }
phase() { echo "== [${SECONDS}s] $*"; }

post_order() { # product quantity -> prints the status code
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H 'content-type: application/json' -H "$auth" \
    -d "{\"product_id\":\"$1\",\"quantity\":$2,\"customer_id\":\"LIVE-CHECK\"}" "$api/orders"
}

# Asks Prometheus until the expression returns a sample or the time is up.
wait_for() { # seconds promql
  local deadline=$((SECONDS + $1))
  local answer
  # Read whole, then searched: grep -q would stop early and curl's SIGPIPE fail the pipeline.
  until answer=$(curl -s --max-time 2 "$prometheus/api/v1/query" --data-urlencode "query=$2") &&
    [[ $answer == *'"value"'* ]]; do
    ((SECONDS < deadline)) || { echo "live-check: timed out waiting for $2" >&2; return 1; }
    sleep 0.5
  done
}

phase "native stack (logs in $NATIVE_STACK_DIR/logs)"
"$apps/scripts/native-stack.sh" up
# Every /orders request carries a token of the stack's development key; `orderctl load` mints
# its own from the same key.
export ORDER_API_SIGNING_KEY="$NATIVE_STACK_DIR/auth/signing-key.pem"
auth="Authorization: Bearer $("$bin/orderctl" token --customer LIVE-CHECK)"
service_auth="Authorization: Bearer $(head -n 1 "$NATIVE_STACK_DIR/auth/processor-tokens")"

phase "prometheus"
port=$(free_port)
prometheus="http://127.0.0.1:$port"
prometheus --config.file="$here/prometheus-native.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!
wait_for 60 'sum(up{job=~"order-api|order-processor"}) == 2' || { cat "$work/prometheus.log" >&2; exit 1; }
echo "scraping both services on $prometheus"

phase "the processor stops answering: order-api times out, answers 202, leaves the order to the reconciler"
kill -STOP "$(pid_of order-processor)"
statuses=$(for _ in 1 2 3; do post_order PROD001 1 & done; wait)
kill -CONT "$(pid_of order-processor)"
echo "statuses: $(echo "$statuses" | sort | uniq -c | xargs)"
grep -q 202 <<<"$statuses" || { echo "live-check: expected 202 answers while the processor was stopped" >&2; exit 1; }

phase "DynamoDB stops answering: both services answer 503"
kill -STOP "$(pid_of dynamodb)"
statuses=$({
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H "$auth" "$api/orders/00000000-0000-0000-0000-000000000000" &
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H "$service_auth" "$processor/inventory/PROD001" &
  wait
})
kill -CONT "$(pid_of dynamodb)"
echo "statuses: $(echo "$statuses" | sort | uniq -c | xargs)"
[[ $(grep -c 503 <<<"$statuses") == 2 ]] || { echo "live-check: expected two 503 answers while DynamoDB was stopped" >&2; exit 1; }
"$bin/orderctl" wait-ready --timeout-seconds 30 "$processor" "$api"

phase "business traffic: out of stock, unknown product, cancellation, unmatched path, reads, creates"
for _ in 1 2 3; do post_order PROD002 1000; done | sort | uniq -c | xargs echo "out of stock:"
order_id=$(curl -s --max-time 30 -H 'content-type: application/json' -H "$auth" \
  -d '{"product_id":"PROD002","quantity":1,"customer_id":"LIVE-CHECK"}' "$api/orders" |
  json_string order_id)
curl -s -o /dev/null -w 'cancel: %{http_code}\n' --max-time 30 -H "$auth" -X POST "$api/orders/$order_id/cancel"
curl -s -o /dev/null -w 'unmatched path: %{http_code}\n' --max-time 30 "$api/no-such-path"
"$bin/orderctl" load --url "$api" --product-id NO-SUCH-PRODUCT --concurrency 2 --duration-seconds 2
"$bin/orderctl" load --url "$api" --mode read --concurrency 2 --duration-seconds 2
"$bin/orderctl" load --url "$api" --concurrency 4 --duration-seconds 6

# The last requests must be in Prometheus and through the recording rules:
# wait for a scrape of both services after the load ended; live_queries.py
# then waits for a rule evaluation after that scrape.
load_ended=$(date +%s.%N)
wait_for 60 "count(timestamp(up{job=~\"order-api|order-processor\"}) > $load_ended) == 2"
scraped=$(date +%s.%N)

phase "queries"
python3 "$here/live_queries.py" --prometheus "$prometheus" --dashboards "$dashboards" --evaluated-after "$scraped" \
  --var 'namespace=.*' --var 'job=(order-api|order-processor)'
