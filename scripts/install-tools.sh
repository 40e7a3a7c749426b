#!/usr/bin/env bash
# install-tools.sh GROUP...: installs what a group of checks needs, once.
#   rust        cargo-nextest and cargo-deny (the pinned versions; into
#               .tools/cargo when the machine's differ) and DynamoDB Local
#   lint        Debian's shellcheck
#   bench       Debian's wrk (drives DynamoDB Local directly in make bench)
#   profile     perf (Debian's linux-perf, Ubuntu's linux-tools for the running
#               kernel; samples the services in make bench-profile)
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

for group in "$@"; do
  case "$group" in
    rust)
      command -v cargo >/dev/null || { echo "cargo is missing: install Rust from https://rustup.rs" >&2; exit 1; }
      rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
      # The Makefile puts .tools/cargo/bin first on PATH.
      export PATH="$root/.tools/cargo/bin:$PATH"
      if [[ $(cargo nextest --version 2>/dev/null | sed -n 's/^release: //p') != "$CARGO_NEXTEST_VERSION" ]]; then
        echo "installing cargo-nextest $CARGO_NEXTEST_VERSION into .tools/cargo (a few minutes)" >&2
        cargo install --quiet --locked --root "$root/.tools/cargo" cargo-nextest --version "$CARGO_NEXTEST_VERSION"
      fi
      if [[ $(cargo deny --version 2>/dev/null) != "cargo-deny $CARGO_DENY_VERSION" ]]; then
        echo "installing cargo-deny $CARGO_DENY_VERSION into .tools/cargo (a few minutes)" >&2
        cargo install --quiet --locked --root "$root/.tools/cargo" cargo-deny --version "$CARGO_DENY_VERSION"
      fi
      "$root/starter/apps/scripts/dynamodb-local.sh" dir >/dev/null
      ;;
    lint)
      command -v shellcheck >/dev/null || apt_install shellcheck
      ;;
    bench)
      command -v wrk >/dev/null || apt_install wrk
      ;;
    profile)
      if ! command -v perf >/dev/null; then
        if grep -q '^ID=ubuntu' /etc/os-release; then
          apt_install linux-tools-common "linux-tools-$(uname -r)"
        else
          apt_install linux-perf
        fi
      fi
      ;;
    *) echo "unknown tool group: $group" >&2; exit 2 ;;
  esac
done
