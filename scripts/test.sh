#!/usr/bin/env bash
# `make test`: every check this repository has, in order, on a fresh machine.
# Each check runs even if an earlier one failed; the summary at the end counts
# them, and the exit code is non-zero if any failed.
#
#   scripts/test.sh [AREA...]   only these areas: rust (lint, tests, the native
#                               smoke test, the API contract, shellcheck, the
#                               benchmark's smoke run) or one of scripts/checks/<area>.sh; the CI
#                               workflow runs one job per area this way
set -uo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$root" || exit 1
apps=starter/apps
# Where scripts/install-tools.sh puts the pinned cargo tools (nextest, deny),
# as the Makefile does: CI jobs call this script directly.
export PATH="$root/.tools/cargo/bin:$PATH"

native_smoke() {
  make --no-print-directory dev || { make --no-print-directory down; return 1; }
  local status=0
  # Both mint their tokens from the key `make dev` generated.
  export ORDER_API_SIGNING_KEY="$root/.run/auth/signing-key.pem"
  "$apps/target/debug/orderctl" smoke --url http://127.0.0.1:8001 || status=1
  SERVER_ENDPOINT=http://127.0.0.1:8001 "$apps/scripts/test_docker_compose.sh" || status=1
  make --no-print-directory down
  return "$status"
}

shell_lint() {
  command -v shellcheck >/dev/null || scripts/install-tools.sh lint || return 1
  local scripts
  read_lines scripts git ls-files '*.sh' .ci/run || return 1
  shellcheck -x "${scripts[@]}"
}

# cargo deny: licences, bans and sources always; advisories too where the
# RustSec database (on GitHub) can be fetched.
supply_chain() {
  local deny=(cargo deny --manifest-path "$apps/Cargo.toml" --locked)
  if timeout 60 "${deny[@]}" fetch >/dev/null 2>&1; then
    "${deny[@]}" check
  else
    echo "NOTE the RustSec advisory database cannot be fetched here: advisories not checked"
    "${deny[@]}" check licenses bans sources
  fi
}

rust_checks() {
  check "tools" scripts/install-tools.sh rust
  check "cargo fmt --check" cargo fmt --manifest-path "$apps/Cargo.toml" --all -- --check
  check "cargo clippy -D warnings" cargo clippy --manifest-path "$apps/Cargo.toml" --workspace --all-targets --locked -- -D warnings
  check "cargo nextest (DynamoDB Local)" make --no-print-directory test-rust
  check "native stack: orderctl smoke + test_docker_compose.sh" native_smoke
  check "API contract: schemathesis against both OpenAPI documents" scripts/api-contract.sh
  check "shellcheck" shell_lint
  check "cargo deny (starter/apps/deny.toml)" supply_chain
  check "benchmark smoke run (make bench-quick)" make --no-print-directory bench-quick
}

# Each deploy target adds its checks as scripts/checks/<area>.sh (with
# scripts/lib.sh): each prints its own findings and exits non-zero if any
# check in it failed.
areas=(rust)
for area_checks in scripts/checks/*.sh; do
  areas+=("$(basename "$area_checks" .sh)")
done
selected=("$@")
((${#selected[@]} > 0)) || selected=("${areas[@]}")
for area in "${selected[@]}"; do
  if [[ " ${areas[*]} " != *" $area "* ]]; then
    echo "unknown area '$area': one of ${areas[*]}" >&2
    exit 2
  fi
done
for area in "${selected[@]}"; do
  if [[ $area == rust ]]; then
    rust_checks
  else
    check "$area" "scripts/checks/$area.sh"
  fi
done
summary
