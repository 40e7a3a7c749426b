#!/usr/bin/env bash
# with-dynamodb-local.sh COMMAND...: runs COMMAND with a fresh, in-memory
# DynamoDB Local on a free port, exported as TEST_DYNAMODB_ENDPOINT, and stops
# it afterwards whatever happens. The tests give every test its own table
# prefix, so they share this one instance safely.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../../scripts/lib.sh
source "$here/../../../scripts/lib.sh"
mkdir -p "$root/.run/logs"
port=$(free_port)
pid=$("$here/dynamodb-local.sh" start "$port" "$root/.run/logs/dynamodb-test.log")

# running PID: the process exists and has not exited (a zombie has).
running() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# DynamoDB Local is not a child of this shell (dynamodb-local.sh started it
# and exited), so `wait` cannot wait for it: poll until it is gone, with a
# deadline, and kill it for good if SIGTERM was not enough.
stop_dynamodb() {
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    running "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
trap stop_dynamodb EXIT
"$here/wait-for-port.sh" "$port" 60
export TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
"$@"
