#!/usr/bin/env bash
# Observability checks (run by `make test`): the alert and recording rules,
# their unit tests, the Prometheus configurations, the Grafana dashboards,
# the runbook, and the live check that runs every dashboard query and every
# rule against a real Prometheus scraping the native stack.
#
# Installs what it needs into .tools/observability on first use: Debian's
# prometheus package (tests/install-prometheus.sh) and yamllint in a venv.
# OBSERVABILITY_SKIP_LIVE=1 skips the live check (it takes about a minute).
set -uo pipefail

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$root" || exit 1
tools="$root/.tools/observability"
obs=deliverables/observability
rules_dir=deliverables/deploy/kubernetes/charts/microservices/files/rules
dashboards_dir=deliverables/deploy/kubernetes/charts/microservices/files/dashboards

install_prometheus() {
  local bin
  bin=$("$obs/tests/install-prometheus.sh") || return 1
  export PATH="$bin:$PATH"
  promtool --version | head -n 1
}

install_yamllint() {
  python_venv "$tools/venv" "yamllint==$YAMLLINT_VERSION" || return 1
  "$tools/venv/bin/yamllint" --version
}

yaml_lint() {
  # Long PromQL lines and annotations read better unwrapped.
  "$tools/venv/bin/yamllint" -s -d '{extends: default, rules: {line-length: disable, document-start: disable}}' \
    "$rules_dir" "$obs/prometheus" "$obs/grafana" "$obs/tests"
}

# The Compose configuration names the rules by their path inside the
# container; check it with that path pointing at the repository's rules, so
# the rules load under this very configuration.
compose_config() {
  local tmp status=0
  tmp=$(mktemp -d)
  sed "s|/etc/prometheus/rules/|$root/$rules_dir/|" "$obs/prometheus/prometheus.yml" >"$tmp/prometheus.yml"
  promtool check config "$tmp/prometheus.yml" | tee "$tmp/out" || status=1
  grep -q 'SUCCESS: 1 rule files found' "$tmp/out" || { echo "the rules file was not loaded" >&2; status=1; }
  rm -rf "$tmp"
  return "$status"
}

dashboard_syntax() {
  local tmp status=0
  tmp=$(mktemp -d)
  python3 "$obs/tests/dashboards.py" rules-file "$dashboards_dir" >"$tmp/dashboard-queries.json" &&
    promtool check rules "$tmp/dashboard-queries.json" || status=1
  rm -rf "$tmp"
  return "$status"
}

check "tools: prometheus and promtool (Debian package)" install_prometheus
check "tools: yamllint $YAMLLINT_VERSION" install_yamllint
check "yamllint: rules, Prometheus and Grafana configuration, tests" yaml_lint
check "promtool check rules" promtool check rules "$rules_dir"/*.yaml
check "promtool test rules (every alert fires and stays silent)" promtool test rules "$obs"/tests/*.test.yaml
check "promtool check config: Docker Compose prometheus.yml" compose_config
check "promtool check config: native live-check prometheus.yml" promtool check config "$obs/tests/prometheus-native.yml"
check "dashboards: structure, uids, datasource variable, units, windows" python3 "$obs/tests/dashboards.py" lint "$dashboards_dir"
check "dashboards: the structure checks catch broken dashboards" python3 -m unittest discover -s "$obs/tests" -p 'test_*.py'
check "dashboards: every query parses (promtool)" dashboard_syntax
check "alerts: severity, summary, description; a runbook section per alert" \
  "$tools/venv/bin/python" "$obs/tests/check_runbook.py" "$rules_dir" "$obs/runbook.md"
if [[ "${OBSERVABILITY_SKIP_LIVE:-0}" == 1 ]]; then
  echo "==> live check skipped (OBSERVABILITY_SKIP_LIVE=1)"
else
  check "live: every dashboard query and rule has data from the running services" "$obs/tests/live-check.sh"
fi

summary
