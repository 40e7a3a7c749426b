#!/usr/bin/env bash
# with-dynamodb-local.sh COMMAND...: runs COMMAND with a fresh, in-memory
# DynamoDB Local on a free port, exported as TEST_DYNAMODB_ENDPOINT, and stops
# it afterwards whatever happens. The tests give every test its own table
# prefix, so they share this one instance safely.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mkdir -p "$root/.run/logs"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pid=$("$here/dynamodb-local.sh" start "$port" "$root/.run/logs/dynamodb-test.log")
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
"$here/wait-for-port.sh" "$port" 60
export TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
"$@"
