#!/usr/bin/env bash
# install-prometheus.sh: makes Debian's prometheus package (prometheus and
# promtool, pinned) available under .tools/observability and prints its bin
# directory, for PATH="$(install-prometheus.sh):$PATH".
#
# The package is downloaded with apt and unpacked, not installed: installing
# it would also start a system service listening on :9090. Both binaries
# only need libc.
set -euo pipefail

version=2.42.0+ds-5+b6
root=$(cd "$(dirname "$0")/../../.." && pwd)
dir="$root/.tools/observability/prometheus-$version"

if [[ ! -x "$dir/usr/bin/promtool" || ! -x "$dir/usr/bin/prometheus" ]]; then
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  fetch() { (cd "$download" && apt-get download -q "prometheus=$version") >/dev/null 2>&1; }
  if ! fetch; then
    # A fresh machine has no package lists yet.
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq >/dev/null; else sudo apt-get update -qq >/dev/null; fi
    fetch || { echo "cannot download Debian's prometheus $version (apt-cache policy prometheus shows what is available)" >&2; exit 1; }
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg-deb -x "$download"/prometheus_*.deb "$dir"
fi
echo "$dir/usr/bin"
