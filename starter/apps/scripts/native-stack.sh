#!/usr/bin/env bash
# The whole system as local processes, no Docker: DynamoDB Local on 8000,
# order-api on 8001, order-processor on 8002 (the assessment's local ports),
# and the services' management ports (/metrics, the detailed /health) on 9464
# (order-api) and 9465 (order-processor). Everything listens on 127.0.0.1
# only.
#
#   native-stack.sh up     build, start everything in the background, create
#                          and seed the tables, return once all answer ready
#   native-stack.sh down   stop every process `up` started
#   native-stack.sh status show what runs
#
# Logs and PIDs live in .run/ (git-ignored; NATIVE_STACK_DIR moves them, so a
# second stack on other ports can run beside the first). PROFILE=release
# builds optimised binaries (slower to build; what `make bench` uses).
# DYNAMODB_PORT, ORDER_API_PORT, ORDER_PROCESSOR_PORT,
# ORDER_API_MANAGEMENT_PORT and ORDER_PROCESSOR_MANAGEMENT_PORT change the ports.
#
# order-api trusts a development signing key made on first run
# (.run/auth/signing-key.pem, kept across runs; its public half
# .run/auth/jwks.json is what order-api reads): get a token with
#   starter/apps/target/debug/orderctl token --customer CUST001
# and `orderctl smoke` / `orderctl load` mint their own from the same key.
# order-processor accepts only callers with the service credential in
# .run/auth/processor-tokens (made on first run, kept; order-api sends it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
apps=$(cd "$here/.." && pwd)
root=$(cd "$apps/../.." && pwd)
run=${NATIVE_STACK_DIR:-$root/.run}
logs="$run/logs"
profile=${PROFILE:-debug}
ddb_port=${DYNAMODB_PORT:-8000}
api_port=${ORDER_API_PORT:-8001}
processor_port=${ORDER_PROCESSOR_PORT:-8002}
api_management_port=${ORDER_API_MANAGEMENT_PORT:-9464}
processor_management_port=${ORDER_PROCESSOR_MANAGEMENT_PORT:-9465}

pidfile() { echo "$run/$1.pid"; }

# gone PID TENTHS: polls until PID has exited, for at most TENTHS tenths of a
# second; fails if it is still there.
gone() {
  local i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$1" 2>/dev/null
}

running() {
  local file
  file=$(pidfile "$1")
  [[ -f "$file" ]] && kill -0 "$(cat "$file")" 2>/dev/null
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop() {
  local name=$1 file pid
  file=$(pidfile "$name")
  [[ -f "$file" ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    # The services drain for SHUTDOWN_DRAIN_SECONDS (5 s by default) first.
    if ! gone "$pid" 100; then
      kill -KILL "$pid" 2>/dev/null || true
      if ! gone "$pid" 50; then
        # Keep its pid file (`status` shows it); stop the others all the same.
        echo "$name (pid $pid) is still running after SIGKILL" >&2
        return 0
      fi
    fi
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

up() {
  mkdir -p "$logs"
  for name in dynamodb order-processor order-api; do
    if running "$name"; then
      echo "$name already runs (pid $(cat "$(pidfile "$name")")); run 'make down' first" >&2
      exit 1
    fi
  done
  for port in "$ddb_port" "$processor_port" "$api_port" "$api_management_port" "$processor_management_port"; do
    port_free "$port" || { echo "port $port is already in use; stop what uses it or set DYNAMODB_PORT / ORDER_API_PORT / ORDER_PROCESSOR_PORT / ORDER_API_MANAGEMENT_PORT / ORDER_PROCESSOR_MANAGEMENT_PORT" >&2; exit 1; }
  done

  local cargo_flags=()
  [[ "$profile" == release ]] && cargo_flags=(--release)
  echo "building ($profile)"
  cargo build --quiet --manifest-path "$apps/Cargo.toml" --bins "${cargo_flags[@]}"
  local bin="$apps/target/$profile"

  "$here/dynamodb-local.sh" start "$ddb_port" "$logs/dynamodb.log" >"$(pidfile dynamodb)"
  "$here/wait-for-port.sh" "$ddb_port" 60
  echo "dynamodb local on :$ddb_port (pid $(cat "$(pidfile dynamodb)"))"

  export DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
  # DynamoDB Local is a JVM: cold, or on a busy laptop, a call can take more
  # than the 1 s meant for AWS.
  export DYNAMODB_TIMEOUT_MS=${DYNAMODB_TIMEOUT_MS:-5000}
  "$bin/orderctl" create-tables
  "$bin/orderctl" seed
  "$bin/orderctl" keygen --dir "$run/auth"
  "$bin/orderctl" service-token --out "$run/auth/processor-tokens"
  export HOST=127.0.0.1 PROCESSOR_TOKENS_FILE="$run/auth/processor-tokens"

  LOG_FORMAT=${LOG_FORMAT:-json} PORT=$processor_port MANAGEMENT_PORT=$processor_management_port \
    "$bin/order-processor" >>"$logs/order-processor.log" 2>&1 &
  echo $! >"$(pidfile order-processor)"
  LOG_FORMAT=${LOG_FORMAT:-json} PORT=$api_port MANAGEMENT_PORT=$api_management_port \
    ORDER_PROCESSOR_URL="http://127.0.0.1:$processor_port" \
    AUTH_ISSUER=urn:order-system:dev AUTH_AUDIENCE=order-api AUTH_JWKS_FILE="$run/auth/jwks.json" \
    "$bin/order-api" >>"$logs/order-api.log" 2>&1 &
  echo $! >"$(pidfile order-api)"

  if ! "$bin/orderctl" wait-ready --timeout-seconds 30 "http://127.0.0.1:$processor_port" "http://127.0.0.1:$api_port"; then
    echo "the stack did not become ready; last log lines:" >&2
    tail -n 20 "$logs"/order-*.log >&2 || true
    down
    exit 1
  fi
  cat <<MSG
stack ready:
  order-api        http://localhost:$api_port   (try: curl -s localhost:$api_port/health/ready)
  a token          ORDER_API_SIGNING_KEY=$run/auth/signing-key.pem $bin/orderctl token --customer CUST001
  order-processor  http://localhost:$processor_port   (needs: Authorization: Bearer \$(head -1 $run/auth/processor-tokens))
  management       http://localhost:$api_management_port/metrics (order-api), http://localhost:$processor_management_port/metrics (order-processor), and /health on each
  dynamodb local   http://localhost:$ddb_port
  logs             $logs/
stop it with: make down
MSG
}

down() {
  stop order-api
  stop order-processor
  stop dynamodb
}

status() {
  for name in dynamodb order-processor order-api; do
    if running "$name"; then echo "$name: running (pid $(cat "$(pidfile "$name")"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up | down | status" >&2; exit 2 ;;
esac
