#!/usr/bin/env bash
# install-prometheus.sh: makes the distribution's prometheus package
# (prometheus and promtool) and amtool (from prometheus-alertmanager, for the
# Alertmanager routes test) available under .tools/observability and prints
# their bin directory, for PATH="$(install-prometheus.sh):$PATH".
#
# Whatever version the package lists offer today (Debian 12: 2.42, Ubuntu
# 24.04: 2.45), as long as it is at least PROMETHEUS_MIN_VERSION (versions.env).
# Never an exact distribution revision: `apt-get update` replaces those, and
# another distribution never had them.
#
# The packages are downloaded with apt and unpacked, not installed: installing
# them would also start system services listening on :9090 and :9093. The
# binaries only need libc.
set -euo pipefail

# shellcheck source=SCRIPTDIR/../../../scripts/lib.sh
source "$(dirname "$0")/../../../scripts/lib.sh"
dir="$root/.tools/observability/prometheus"

# upstream_version BINARY: "2.45.3" from "promtool, version 2.45.3+ds (branch: ...)".
upstream_version() {
  "$1" --version 2>&1 | sed -n 's/^[a-z]*, version \([0-9][0-9.]*\).*/\1/p' | head -n 1
}

installed_is_usable() {
  local version
  [[ -x "$dir/usr/bin/prometheus" && -x "$dir/usr/bin/promtool" && -x "$dir/usr/bin/amtool" ]] || return 1
  version=$(upstream_version "$dir/usr/bin/promtool")
  [[ -n $version ]] && at_least "$version" "$PROMETHEUS_MIN_VERSION"
}

if ! installed_is_usable; then
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  apt_update
  (cd "$download" && apt-get download -q prometheus prometheus-alertmanager) >/dev/null 2>&1 || {
    echo "cannot download the prometheus and prometheus-alertmanager packages" \
      "(apt-cache policy prometheus prometheus-alertmanager shows what is available)" >&2
    exit 1
  }
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg-deb -x "$download"/prometheus_*.deb "$dir"
  dpkg-deb -x "$download"/prometheus-alertmanager_*.deb "$dir"
  version=$(upstream_version "$dir/usr/bin/promtool")
  at_least "${version:-0}" "$PROMETHEUS_MIN_VERSION" || {
    echo "the distribution's prometheus is ${version:-of unknown version}; the checks need $PROMETHEUS_MIN_VERSION or later" >&2
    exit 1
  }
fi
echo "$dir/usr/bin"
