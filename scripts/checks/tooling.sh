#!/usr/bin/env bash
# Checks of the repository's own tooling (run by `make test`):
#   - deliverables/VERSIONS.md, versions.env, the pinning files and Renovate's
#     regex managers agree (versions_check.py, next to this script);
#   - the project points only at files it contains;
#   - `make doctor` (scripts/doctor.sh) passes a machine that has everything,
#     and names each missing or too-old tool with its fix. Docker, minikube,
#     helm, kubectl, terraform and the AWS CLI cannot run here, so these tests
#     put small stand-ins for them on PATH that print what the real ones print;
#   - test_docker_compose.sh uses the credentials of the stack it is pointed
#     at (stand-ins for docker, curl and orderctl, a fake .run tree);
#   - what a reviewer runs stays bash 3.2 / BSD / make 3.81 (portability.py).
#   - the check framework fails a check whose tool failed (tests/check_framework.sh);
#   - the Minikube path's documented commands run in order with no Rust and
#     stand-ins for the cluster tools (tests/reviewer_path_minikube.sh).
# Ends with "N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$root" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- pins -------------------------------------------------------------------

# The docs and scripts a user clones must not send them to files they do not
# have: the design notes outside the repository, or a CI machine's provider
# mirror (.ci/run, which describes that machine, may name it).
only_own_files() {
  local hits
  # git grep: 0 found, 1 none found, anything else an error (not "clean").
  hits=$(git grep -nE 'TOOLS\.md|\.\./shared/|/opt/tf-plugins' -- ':!.ci/run' ':!scripts/checks/tooling.sh')
  (($? <= 1)) || { echo "git grep failed"; return 1; }
  [[ -z $hits ]] || { echo "$hits"; return 1; }
}

# ---- make doctor --------------------------------------------------------------

# stub NAME SCRIPT: a stand-in command in the stub folder.
stub() {
  printf '#!/bin/bash\n%s\n' "$2" >"$work/bin/$1"
  chmod +x "$work/bin/$1"
}

# A machine with every tool at a supported version; the variables below
# change one thing at a time. Docker reports 8 GiB and 8 CPUs. The stubs'
# scripts are single-quoted: they expand their variables when they run.
# shellcheck disable=SC2016
make_machine() {
  rm -rf "${work:?}/bin"
  mkdir -p "$work/bin"
  # Only what doctor.sh itself uses, so a tool not stubbed is missing.
  local tool
  for tool in bash grep head dirname; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
  # The floors themselves (versions.env) must pass; macOS's make is 3.81.
  stub make 'echo "GNU Make 3.81"; echo "Copyright (C) 2006  Free Software Foundation, Inc."'
  stub cargo 'echo "cargo 1.95.0 (f2d3ce0bd 2026-03-21)"'
  stub java 'echo "openjdk version \"17.0.15\" 2025-04-15" >&2'
  stub node 'echo v20.20.2'
  stub npm 'echo 11.19.1'
  stub python3 "echo \"Python \${PYTHON_STUB_VERSION:-$PYTHON_MIN_VERSION}\""
  stub docker '
case "$1 $2" in
  "version --format") [[ -n ${DOCKER_DOWN:-} ]] && { echo "Cannot connect to the Docker daemon" >&2; exit 1; }; echo "${DOCKER_VERSION:-'"$DOCKER_MIN_VERSION"'}" ;;
  "compose version") echo "${COMPOSE_VERSION:-'"$DOCKER_COMPOSE_MIN_VERSION"'}" ;;
  "info --format") case "$3" in *MemTotal*) echo "${DOCKER_MEMORY:-8589934592}" ;; *NCPU*) echo 8 ;; esac ;;
  "buildx version") echo "github.com/docker/buildx v0.17.1 257815a" ;;
  *) exit 1 ;;
esac'
  stub minikube "echo \"\${MINIKUBE_STUB_VERSION:-v$MINIKUBE_MIN_VERSION}\""
  stub kubectl 'echo "Client Version: v1.34.0"; echo "Kustomize Version: v5.7.1"'
  stub helm "echo \"\${HELM_STUB_VERSION:-v$HELM_MIN_VERSION}\""
  stub terraform "echo \"Terraform v$TERRAFORM_MIN_VERSION\"; echo \"on linux_amd64\""
  stub aws '
case "$1" in
  --version) echo "aws-cli/2.22.0 Python/3.12.6 Linux/6.8.0 exe/x86_64.ubuntu.24" ;;
  sts) [[ -n ${AWS_STUB_NO_IDENTITY:-} ]] && { echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2; exit 255; }; echo "arn:aws:iam::123456789012:user/dev" ;;
esac'
}

# doctor EXPECTED_EXIT PATTERN [VAR=VALUE | without=TOOL | TOOL='SCRIPT']... -- TARGET...:
# runs doctor.sh on the stub machine (without=TOOL removes a tool, TOOL='...'
# replaces it with a stub); its exit code must be EXPECTED_EXIT and its output
# must match PATTERN (grep -E).
doctor() {
  local expected=$1 pattern=$2 status output bash
  bash=$(command -v bash)
  shift 2
  local env_vars=()
  make_machine
  while [[ $1 != -- ]]; do
    case "$1" in
      without=*) rm "$work/bin/${1#without=}" ;;
      [a-z]*=*) rm -f "$work/bin/${1%%=*}"; stub "${1%%=*}" "${1#*=}" ;;
      *) env_vars+=("$1") ;;
    esac
    shift
  done
  shift
  # This bash runs doctor.sh; the `bash` on PATH is the one it checks.
  output=$(env -i PATH="$work/bin" MINIKUBE_MEMORY=6g MINIKUBE_CPUS=4 ${env_vars[@]+"${env_vars[@]}"} \
    "$bash" scripts/doctor.sh "$@" 2>&1)
  status=$?
  if [[ $status != "$expected" ]] || ! grep -qE "$pattern" <<<"$output"; then
    echo "expected exit $expected and /$pattern/, got exit $status:"
    local line
    while IFS= read -r line; do echo "    | $line"; done <<<"$output"
    return 1
  fi
}

# older VERSION: a version just below VERSION (3.17.0 -> 3.16.99, 3.11 -> 3.10.99).
older() {
  local major minor patch
  IFS=. read -r major minor patch <<<"$1"
  if ((${patch:-0} > 0)); then echo "$major.$minor.$((patch - 1))"
  elif ((minor > 0)); then echo "$major.$((minor - 1)).99"
  else echo "$((major - 1)).99.99"
  fi
}
# re TEXT: TEXT with its dots escaped, for a grep -E pattern.
re() { echo "${1//./\\.}"; }

# ---- test_docker_compose.sh: whose credentials --------------------------------

# A machine after `make dev` and `make down` (the native stack's key and token
# left in a fake .run tree, NATIVE_STACK_DIR) with stand-ins that record what
# the script asks: curl writes each bearer token it is given to bearer.log and
# reaches nothing; docker (and docker-compose, with COMPOSE_V1=1) writes each
# call to docker.log and plays a Compose stack whose order-api runs
# (COMPOSE_UP=1) published on COMPOSE_API_PORT (default 8001); orderctl mints
# "orderctl-from-" + the content of the key it is given.
# shellcheck disable=SC2016
credentials_machine() {
  local sandbox=$work/credentials tool
  rm -rf "$sandbox"
  mkdir -p "$sandbox/bin" "$sandbox/run/auth"
  for tool in bash dirname cat head cut mktemp rm tr sleep; do ln -s "$(command -v "$tool")" "$sandbox/bin/$tool"; done
  echo stale-native-key >"$sandbox/run/auth/signing-key.pem"
  echo stale-native-processor-token,second >"$sandbox/run/auth/processor-tokens"
  printf '#!/bin/bash\nfor arg; do [[ $arg == "Authorization: Bearer "* ]] && echo "${arg#*Bearer }" >>%s/bearer.log; done\nexit 7\n' \
    "$sandbox" >"$sandbox/bin/curl"
  printf '#!/bin/bash\necho "orderctl-from-$(cat "$5")"\n' >"$sandbox/bin/orderctl"
  printf '#!/bin/bash\necho "${0##*/} $*" >>%s/docker.log\n%s\n' "$sandbox" '
case "${0##*/} $*" in
  "docker compose version") [[ -z ${COMPOSE_V1:-} ]] ;;
  *" ps --services --filter status=running") [[ -n ${COMPOSE_UP:-} ]] && printf "dynamodb\norder-api\norder-processor\n"; exit 0 ;;
  *" port order-api 8000") echo "127.0.0.1:${COMPOSE_API_PORT:-8001}" ;;
  *" run --rm --no-deps -T auth-keys token --customer CUST001") echo compose-customer-token ;;
  *" ps -q order-api") echo c0ffee ;;
  "docker cp c0ffee:/run/secrets/processor/processor-tokens "*) echo compose-processor-token,second >"${*: -1}" ;;
  *) exit 1 ;;
esac' >"$sandbox/bin/docker"
  chmod +x "$sandbox/bin/"*
}

# credentials EXPECTED_EXIT [VAR=VALUE]...: runs test_docker_compose.sh in the
# sandbox (no readiness wait); its output is in credentials/out.log.
credentials() {
  local expected=$1 status
  shift
  env -i PATH="$work/credentials/bin" NATIVE_STACK_DIR="$work/credentials/run" READY_TIMEOUT_SECONDS=0 "$@" \
    "$(command -v bash)" starter/apps/scripts/test_docker_compose.sh >"$work/credentials/out.log" 2>&1
  status=$?
  [[ $status == "$expected" ]] || { echo "expected exit $expected, got $status"; sed 's/^/    | /' "$work/credentials/out.log"; return 1; }
}

# sent TOKEN...: curl was given exactly these bearer tokens (besides the
# customer token sent where the processor's must be refused).
sent() {
  local sent_tokens
  sent_tokens=$(sort -u "$work/credentials/bearer.log" 2>/dev/null | tr '\n' ' ')
  [[ $sent_tokens == "$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')" ]] || { echo "bearer tokens sent: ${sent_tokens:-none}; expected: $*"; return 1; }
}

stale_key_compose_up() {
  credentials_machine
  credentials 1 COMPOSE_UP=1 || return 1
  sent compose-customer-token compose-processor-token &&
    grep -qx 'docker compose -f .*/docker-compose.yaml run --rm --no-deps -T auth-keys token --customer CUST001' "$work/credentials/docker.log"
}

stale_key_compose_v1() {
  credentials_machine
  ln -s docker "$work/credentials/bin/docker-compose"
  credentials 1 COMPOSE_UP=1 COMPOSE_V1=1 || return 1
  sent compose-customer-token compose-processor-token &&
    grep -q '^docker-compose -f .* run --rm --no-deps -T auth-keys token' "$work/credentials/docker.log"
}

native_running() {
  credentials_machine
  # A live process stands for order-api; Compose runs too, on another port.
  echo $$ >"$work/credentials/run/order-api.pid"
  credentials 1 COMPOSE_UP=1 COMPOSE_API_PORT=18001 || return 1
  sent orderctl-from-stale-native-key stale-native-processor-token || return 1
  ! grep -E ' run | cp ' "$work/credentials/docker.log"
}

no_stack() {
  credentials_machine
  credentials 1 || return 1
  grep -qx "test_docker_compose: no Compose stack publishes order-api on http://localhost:8001 and no native stack runs .*: start one, or set ORDER_API_TOKEN and PROCESSOR_TOKEN" \
    "$work/credentials/out.log" || { sed 's/^/    | /' "$work/credentials/out.log"; return 1; }
  [[ ! -e $work/credentials/bearer.log ]] || { echo "it sent requests all the same"; return 1; }
}

remote_endpoint() {
  credentials_machine
  echo $$ >"$work/credentials/run/order-api.pid"
  credentials 1 COMPOSE_UP=1 SERVER_ENDPOINT=https://orders.example.com || return 1
  grep -q "no Compose stack publishes order-api on https://orders.example.com" "$work/credentials/out.log"
}

explicit_tokens() {
  credentials_machine
  echo $$ >"$work/credentials/run/order-api.pid"
  credentials 1 COMPOSE_UP=1 ORDER_API_TOKEN=given-token PROCESSOR_TOKEN=given-processor-token || return 1
  sent given-token given-processor-token || return 1
  [[ ! -e $work/credentials/docker.log ]] || { echo "docker was asked:"; cat "$work/credentials/docker.log"; return 1; }
}

check "versions: VERSIONS.md, versions.env, pinning files and Renovate agree" python3 scripts/checks/versions_check.py
check "the project points only at files it contains" only_own_files
check "doctor: a machine at every floor of versions.env (and make 3.81) passes every target" \
  doctor 0 '^20 passed, 0 failed$' --
check "doctor: helm older than the minimum is named with its fix" \
  doctor 1 "^FAIL helm $(re "$(older "$HELM_MIN_VERSION")") is older than $(re "$HELM_MIN_VERSION"): upgrade it: install Helm" \
  "HELM_STUB_VERSION=v$(older "$HELM_MIN_VERSION")" -- kubernetes
check "doctor: the kubernetes target needs no Rust" \
  doctor 0 '^3 passed, 0 failed$' without=cargo -- kubernetes
check "doctor: minikube too old for the pinned Kubernetes" \
  doctor 1 "^FAIL minikube $(re "$(older "$MINIKUBE_MIN_VERSION")") is older than $(re "$MINIKUBE_MIN_VERSION")" \
  "MINIKUBE_STUB_VERSION=v$(older "$MINIKUBE_MIN_VERSION")" -- minikube
check "doctor: macOS's python3 3.9.6 is refused for make dev / make test, naming PYTHON_MIN_VERSION" \
  doctor 1 "^FAIL python3 3\.9\.6 is older than $(re "$PYTHON_MIN_VERSION"): upgrade it: install Python" PYTHON_STUB_VERSION=3.9.6 -- native
check "doctor: a Python just below the floor is refused" \
  doctor 1 "^FAIL python3 $(re "$(older "$PYTHON_MIN_VERSION")") is older than" "PYTHON_STUB_VERSION=$(older "$PYTHON_MIN_VERSION")" -- native
check "doctor: macOS's bash 3.2 is refused for make dev / make test with the fix" \
  doctor 1 '^FAIL bash 3\.2\.57 is older than 4\.4: upgrade it: .*brew install bash' \
  bash='echo "GNU bash, version 3.2.57(1)-release (arm64-apple-darwin24)"' -- native
check "doctor: bash 3.2 is enough for every deploy path" \
  doctor 0 '^14 passed, 0 failed$' bash='echo "GNU bash, version 3.2.57(1)-release (arm64-apple-darwin24)"' \
  -- compose minikube kubernetes aws images
check "doctor: a make that is not GNU make is refused" \
  doctor 1 "^FAIL make is not GNU make \(make: unknown option -- -\): install GNU make" \
  make='echo "make: unknown option -- -" >&2; exit 2' -- compose
check "doctor: GNU make older than 3.81 is refused" \
  doctor 1 "^FAIL make 3\.80 is older than 3\.81" make='echo "GNU Make 3.80"' -- compose
check "doctor: MINIKUBE_MEMORY in capitals (6GB) is read" \
  doctor 0 '^ok   docker memory 8192 MiB >= MINIKUBE_MEMORY 6GB$' MINIKUBE_MEMORY=6GB -- minikube
check "doctor: Docker with less memory than MINIKUBE_MEMORY says how to lower it" \
  doctor 1 "^FAIL docker has 7812 MiB, MINIKUBE_MEMORY asks for 8192 MiB: .*MINIKUBE_MEMORY=7556mb" \
  DOCKER_MEMORY=8192000000 MINIKUBE_MEMORY=8g -- minikube
check "doctor: the same Docker is enough for the default 6g" \
  doctor 0 '^ok   docker memory 7812 MiB >= MINIKUBE_MEMORY 6g$' DOCKER_MEMORY=8192000000 -- minikube
check "doctor: a MINIKUBE_MEMORY minikube cannot read" \
  doctor 1 '^FAIL MINIKUBE_MEMORY=lots is not a size' MINIKUBE_MEMORY=lots -- minikube
check "doctor: Docker engine not running" \
  doctor 1 '^FAIL docker: the engine does not answer: start Docker Desktop' DOCKER_DOWN=1 -- compose
check "doctor: Compose plugin too old" \
  doctor 1 "^FAIL docker compose $(re "$(older "$DOCKER_COMPOSE_MIN_VERSION")") is older than $(re "$DOCKER_COMPOSE_MIN_VERSION")" \
  "COMPOSE_VERSION=$(older "$DOCKER_COMPOSE_MIN_VERSION")" -- compose
check "doctor: AWS CLI without an identity" \
  doctor 1 "^FAIL aws: no working identity \(Unable to locate credentials.*\): run 'aws configure sso'" AWS_STUB_NO_IDENTITY=1 -- aws
check "doctor: a missing tool is named with where to get it" \
  doctor 1 "^FAIL terraform is missing: install Terraform $(re "$TERRAFORM_MIN_VERSION")\\+: https://developer\\.hashicorp\\.com" without=terraform -- aws
check "doctor: an unknown target is refused" \
  doctor 2 "^unknown target 'gke'" -- gke
check "test_docker_compose: a stale native key, the Compose stack up: the Compose stack's credentials" stale_key_compose_up
check "test_docker_compose: the same with docker-compose (no compose plugin)" stale_key_compose_v1
check "test_docker_compose: a running native stack: its key and token (Compose on another port)" native_running
check "test_docker_compose: no stack it can tell: one line saying what to set, no request" no_stack
check "test_docker_compose: a non-loopback endpoint never takes a local stack's credentials" remote_endpoint
check "test_docker_compose: ORDER_API_TOKEN and PROCESSOR_TOKEN win, Docker not asked" explicit_tokens

check "portability: what a reviewer runs works on bash 3.2, BSD tools and make 3.81" python3 scripts/checks/portability.py
check "portability: each banned construct is rejected, its portable spelling accepted" python3 scripts/checks/portability.py --self-test

check "check framework: a failing tool fails its check" scripts/checks/tests/check_framework.sh
check "reviewer path, Minikube: the documented commands with no Rust, recorded stand-ins for the cluster tools" \
  scripts/checks/tests/reviewer_path_minikube.sh

summary
