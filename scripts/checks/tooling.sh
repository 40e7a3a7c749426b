#!/usr/bin/env bash
# Checks of the repository's own tooling (run by `make test`):
#   - deliverables/VERSIONS.md, versions.env, the pinning files and Renovate's
#     regex managers agree (versions_check.py, next to this script);
#   - the project points only at files it contains;
#   - `make doctor` (scripts/doctor.sh) passes a machine that has everything,
#     and names each missing or too-old tool with its fix. Docker, minikube,
#     helm, kubectl, terraform and the AWS CLI cannot run here, so these tests
#     put small stand-ins for them on PATH that print what the real ones print.
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
  hits=$(git grep -nE 'TOOLS\.md|\.\./shared/|/opt/tf-plugins' -- ':!.ci/run' ':!scripts/checks/tooling.sh') || true
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
  for tool in bash grep sort head dirname; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
  stub cargo 'echo "cargo 1.95.0 (f2d3ce0bd 2026-03-21)"'
  stub java 'echo "openjdk version \"17.0.15\" 2025-04-15" >&2'
  stub node 'echo v20.20.2'
  stub npm 'echo 11.19.1'
  stub python3 'echo Python 3.11.7'
  stub docker '
case "$1 $2" in
  "version --format") [[ -n ${DOCKER_DOWN:-} ]] && { echo "Cannot connect to the Docker daemon" >&2; exit 1; }; echo "${DOCKER_VERSION:-27.3.1}" ;;
  "compose version") echo "${COMPOSE_VERSION:-2.29.7}" ;;
  "info --format") case "$3" in *MemTotal*) echo "${DOCKER_MEMORY:-8589934592}" ;; *NCPU*) echo 8 ;; esac ;;
  "buildx version") echo "github.com/docker/buildx v0.17.1 257815a" ;;
  *) exit 1 ;;
esac'
  stub minikube 'echo "${MINIKUBE_STUB_VERSION:-v1.38.1}"'
  stub kubectl 'echo "Client Version: v1.34.0"; echo "Kustomize Version: v5.7.1"'
  stub helm 'echo "${HELM_STUB_VERSION:-v3.21.4}"'
  stub terraform 'echo "Terraform v1.11.4"; echo "on linux_amd64"'
  stub aws '
case "$1" in
  --version) echo "aws-cli/2.22.0 Python/3.12.6 Linux/6.8.0 exe/x86_64.ubuntu.24" ;;
  sts) [[ -n ${AWS_STUB_NO_IDENTITY:-} ]] && { echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2; exit 255; }; echo "arn:aws:iam::123456789012:user/dev" ;;
esac'
}

# doctor EXPECTED_EXIT PATTERN [VAR=VALUE | without=TOOL]... -- TARGET...:
# runs doctor.sh on the stub machine (without=TOOL removes a tool); its exit
# code must be EXPECTED_EXIT and its output must match PATTERN (grep -E).
doctor() {
  local expected=$1 pattern=$2 status output
  shift 2
  local env_vars=()
  make_machine
  while [[ $1 != -- ]]; do
    case "$1" in
      without=*) rm "$work/bin/${1#without=}" ;;
      *) env_vars+=("$1") ;;
    esac
    shift
  done
  shift
  output=$(env -i PATH="$work/bin" MINIKUBE_MEMORY=6g MINIKUBE_CPUS=4 "${env_vars[@]}" \
    "$work/bin/bash" scripts/doctor.sh "$@" 2>&1)
  status=$?
  if [[ $status != "$expected" ]] || ! grep -qE "$pattern" <<<"$output"; then
    echo "expected exit $expected and /$pattern/, got exit $status:"
    local lines
    mapfile -t lines <<<"$output"
    printf '    | %s\n' "${lines[@]}"
    return 1
  fi
}

check "versions: VERSIONS.md, versions.env, pinning files and Renovate agree" python3 scripts/checks/versions_check.py
check "the project points only at files it contains" only_own_files
check "doctor: a complete machine passes every target" \
  doctor 0 '^19 passed, 0 failed$' --
check "doctor: helm older than the minimum is named with its fix" \
  doctor 1 '^FAIL helm 3\.16\.4 is older than 3\.17\.0: upgrade it: install Helm' HELM_STUB_VERSION=v3.16.4 -- kubernetes
check "doctor: minikube too old for the pinned Kubernetes" \
  doctor 1 '^FAIL minikube 1\.36\.0 is older than 1\.37\.0' MINIKUBE_STUB_VERSION=v1.36.0 -- minikube
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
  doctor 1 '^FAIL docker compose 2\.20\.2 is older than 2\.24\.0' COMPOSE_VERSION=2.20.2 -- compose
check "doctor: AWS CLI without an identity" \
  doctor 1 "^FAIL aws: no working identity \(Unable to locate credentials.*\): run 'aws configure sso'" AWS_STUB_NO_IDENTITY=1 -- aws
check "doctor: a missing tool is named with where to get it" \
  doctor 1 '^FAIL terraform is missing: install Terraform 1\.11\.0\+: https://developer\.hashicorp\.com' without=terraform -- aws
check "doctor: an unknown target is refused" \
  doctor 2 "^unknown target 'gke'" -- gke

summary
