#!/usr/bin/env bash
# cluster-check.sh: the live check (live-check.sh) on a Kubernetes cluster.
# With the chart installed (make helm-install) next to kube-prometheus-stack
# (make monitoring-install), it drives the same paths through the cluster
# (the processor gone, DynamoDB gone, out of stock, unknown product,
# cancellation, reads, creates), then proves that the cluster's Prometheus
# scrapes both services through the ServiceMonitors, that cAdvisor and
# kube-state-metrics see the pods, and that every dashboard query and every
# rule of the order system returns data (live_queries.py).
#
# Needs kubectl (current context: the cluster), curl and python3. Reaches the
# services and Prometheus through `kubectl port-forward` on free loopback
# ports, and scales the Deployments back to what they were on exit.
#
# HELM_NAMESPACE (orders), HELM_MONITORING_NAMESPACE (monitoring) and
# HELM_MONITORING_RELEASE (kube-prometheus-stack) as in make/helm.mk. The
# /orders requests carry ORDER_API_TOKEN, or a token from the chart's
# development issuer, minted in the cluster by `make helm-token`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../../scripts/lib.sh
source "$here/../../../scripts/lib.sh"
dashboards="$root/deliverables/deploy/kubernetes/charts/microservices/files/dashboards"
namespace=${HELM_NAMESPACE:-orders}
monitoring=${HELM_MONITORING_NAMESPACE:-monitoring}
monitoring_release=${HELM_MONITORING_RELEASE:-kube-prometheus-stack}
kubectl=${KUBECTL:-kubectl}

for tool in "$kubectl" curl python3; do
  command -v "$tool" >/dev/null || { echo "cluster-check: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d)
forwards=()
# "deployment=replicas" of each Deployment scaled down and not yet back: restored on exit. A plain
# array, not an associative one: macOS's bash 3.2 has none.
scaled_down=()
cleanup() {
  local entry
  for entry in ${scaled_down[@]+"${scaled_down[@]}"}; do
    "$kubectl" --namespace "$namespace" scale "deployment/${entry%%=*}" --replicas "${entry#*=}" >/dev/null 2>&1 || true
  done
  ((${#forwards[@]} == 0)) || kill "${forwards[@]}" 2>/dev/null || true
  rm -rf "$work"
}

# replicas_before DEPLOYMENT: the replicas it had before scale() scaled it down (fails if it was not).
replicas_before() {
  local entry
  for entry in ${scaled_down[@]+"${scaled_down[@]}"}; do
    [[ ${entry%%=*} == "$1" ]] && { echo "${entry#*=}"; return 0; }
  done
  return 1
}

# forget_scaled DEPLOYMENT: it is back at its replicas.
forget_scaled() {
  local entry kept=()
  for entry in ${scaled_down[@]+"${scaled_down[@]}"}; do
    [[ ${entry%%=*} == "$1" ]] || kept+=("$entry")
  done
  scaled_down=(${kept[@]+"${kept[@]}"})
}
trap cleanup EXIT

phase() { echo "== [${SECONDS}s] $*"; }

# forward NAMESPACE SERVICE PORT: a port-forward to the service on a free
# loopback port; prints the base URL once it answers.
forward() {
  local port log
  port=$(free_port)
  log="$work/forward-$2.log"
  "$kubectl" --namespace "$1" port-forward "service/$2" "$port:$3" --address 127.0.0.1 >"$log" 2>&1 &
  forwards+=($!)
  local deadline=$((SECONDS + 60))
  until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; do
    ((SECONDS < deadline)) || { cat "$log" >&2; echo "cluster-check: no port-forward to $2" >&2; return 1; }
    sleep 0.5
  done
  echo "http://127.0.0.1:$port"
}

# until_true SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
until_true() {
  local deadline=$((SECONDS + $1)) description=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "cluster-check: timed out waiting for $description" >&2; return 1; }
    sleep 1
  done
}

# Asks Prometheus until the expression returns a sample.
# (The answer is read whole, then searched: grep -q would stop reading early,
# and curl's SIGPIPE would fail the pipeline under pipefail.)
has_data() {
  local answer
  answer=$(curl -s --max-time 5 "$prometheus/api/v1/query" --data-urlencode "query=$1") || return 1
  [[ $answer == *'"value"'* ]]
}

token=${ORDER_API_TOKEN:-$(make --no-print-directory --silent -C "$root" helm-token CUSTOMER=CLUSTER-CHECK \
  HELM_NAMESPACE="${HELM_NAMESPACE:-orders}")} || { echo "cluster-check: no token (make helm-token failed; or set ORDER_API_TOKEN)" >&2; exit 1; }
auth="Authorization: Bearer $token"

post_order() { # product quantity -> prints the status code
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H 'content-type: application/json' -H "$auth" \
    -d "{\"product_id\":\"$1\",\"quantity\":$2,\"customer_id\":\"CLUSTER-CHECK\"}" "$api/orders"
}

no_pods() { [[ -z $("$kubectl" --namespace "$namespace" get pods -l "app.kubernetes.io/component=$1" -o name) ]]; }

# scale DEPLOYMENT N: remembers the replicas it had (restored on exit) and waits for N ready.
scale() {
  local current
  current=$("$kubectl" --namespace "$namespace" get "deployment/$1" -o jsonpath='{.spec.replicas}')
  replicas_before "$1" >/dev/null || scaled_down+=("$1=$current")
  "$kubectl" --namespace "$namespace" scale "deployment/$1" --replicas "$2" >/dev/null
  if (($2 == 0)); then
    until_true 120 "$1 to have no pods" no_pods "$1"
  else
    "$kubectl" --namespace "$namespace" rollout status "deployment/$1" --timeout 300s >/dev/null
    forget_scaled "$1"
  fi
}

ready() { curl -sf --max-time 5 -o /dev/null "$1/health/ready"; }

phase "port-forwards"
api=$(forward "$namespace" order-api 8000)
processor=$(forward "$namespace" order-processor 8000)
prometheus=$(forward "$monitoring" "$monitoring_release-prometheus" 9090)
echo "order-api $api, order-processor $processor, Prometheus $prometheus"

phase "Prometheus scrapes both services through the ServiceMonitors"
until_true 180 "both targets up" has_data \
  "sum(up{namespace=\"$namespace\", job=~\"order-api|order-processor\"}) >= 2"

phase "the processor is gone: order-api answers 202 and leaves the order to the reconciler"
scale order-processor 0
statuses=$(for _ in 1 2 3; do post_order PROD001 1; done)
echo "statuses: $(sort <<<"$statuses" | uniq -c | xargs)"
grep -q 202 <<<"$statuses" || { echo "cluster-check: expected 202 answers without the processor" >&2; exit 1; }
scale order-processor "$(replicas_before order-processor)"
# The port-forward ended with the pods it pointed at.
processor=$(forward "$namespace" order-processor 8000)

phase "DynamoDB is gone: order-api answers 503"
scale dynamodb-local 0
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "$auth" "$api/orders/00000000-0000-0000-0000-000000000000")
echo "status: $status"
[[ $status == 503 ]] || { echo "cluster-check: expected 503 without DynamoDB, got $status" >&2; exit 1; }
scale dynamodb-local "$(replicas_before dynamodb-local)"
until_true 300 "order-api ready again" ready "$api"
until_true 300 "order-processor ready again" ready "$processor"

phase "business traffic: out of stock, unknown product, cancellation, unmatched path, reads, creates"
for _ in 1 2 3; do post_order PROD002 1000; done | sort | uniq -c | xargs echo "out of stock:"
for _ in 1 2 3; do post_order NO-SUCH-PRODUCT 1; done | sort | uniq -c | xargs echo "unknown product:"
order_id=$(curl -s --max-time 30 -H 'content-type: application/json' -H "$auth" \
  -d '{"product_id":"PROD002","quantity":1,"customer_id":"CLUSTER-CHECK"}' "$api/orders" |
  json_string order_id)
curl -s -o /dev/null -w 'cancel: %{http_code}\n' --max-time 30 -H "$auth" -X POST "$api/orders/$order_id/cancel"
curl -s -o /dev/null -w 'unmatched path: %{http_code}\n' --max-time 30 "$api/no-such-path"
for _ in $(seq 30); do post_order PROD001 1; done | sort | uniq -c | xargs echo "creates:"
for _ in $(seq 30); do
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H "$auth" "$api/orders/$order_id"
done | sort | uniq -c | xargs echo "reads:"

phase "the pods as Kubernetes sees them (cAdvisor, kube-state-metrics)"
until_true 180 "cAdvisor series of the order system's containers" has_data \
  "count(container_memory_working_set_bytes{namespace=\"$namespace\", container=~\"order-api|order-processor\"}) >= 2"
until_true 180 "kube-state-metrics series of the order system's pods" has_data \
  "count(kube_pod_info{namespace=\"$namespace\"}) >= 3"

phase "queries"
# Two scrapes of both services after the traffic (a series the traffic
# created needs two samples for rate()), then (live_queries.py waits) a rule
# evaluation after the second. Whole seconds, rounded up (BSD date has no %N).
scraped=$(($(date +%s) + 1))
for scrape in first second; do
  until_true 180 "the $scrape scrape after the traffic" has_data \
    "count(timestamp(up{namespace=\"$namespace\", job=~\"order-api|order-processor\"}) > $scraped) >= 2"
  scraped=$(($(date +%s) + 1))
done
python3 "$here/live_queries.py" --prometheus "$prometheus" --dashboards "$dashboards" \
  --rule-groups 'order-system-.*' --evaluated-after "$scraped" \
  --var "namespace=$namespace" --var 'job=(order-api|order-processor)'
