#!/usr/bin/env bash
# install-tools.sh GROUP...: installs what a group of checks needs, once.
#   rust        cargo-nextest (if missing) and DynamoDB Local
#   lint        Debian's shellcheck
#   bench       Debian's wrk (drives DynamoDB Local directly in make bench)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

apt_install() {
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

for group in "$@"; do
  case "$group" in
    rust)
      command -v cargo >/dev/null || { echo "cargo is missing: install Rust from https://rustup.rs" >&2; exit 1; }
      rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
      cargo nextest --version >/dev/null 2>&1 || cargo install --locked cargo-nextest
      "$root/starter/apps/scripts/dynamodb-local.sh" dir >/dev/null
      ;;
    lint)
      command -v shellcheck >/dev/null || apt_install shellcheck
      ;;
    bench)
      command -v wrk >/dev/null || apt_install wrk
      ;;
    *) echo "unknown tool group: $group" >&2; exit 2 ;;
  esac
done
