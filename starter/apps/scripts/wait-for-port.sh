#!/usr/bin/env bash
# wait-for-port.sh PORT SECONDS: waits until something listens on 127.0.0.1:PORT.
set -euo pipefail
port=${1:?port}
seconds=${2:-30}
for ((i = 0; i < seconds * 10; i++)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    exit 0
  fi
  sleep 0.1
done
echo "nothing listens on port $port after ${seconds}s" >&2
exit 1
