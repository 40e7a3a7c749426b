#!/usr/bin/env bash
# The scenarios below are single-quoted on purpose: the child bash expands them.
# shellcheck disable=SC2016
# Tests of scripts/lib.sh's check framework: a check may only pass when its
# tool passed. Each case runs a stand-in tool that fails (or passes) behind
# the wrappers the area scripts use (check, quietly, strict, and a filter on
# the tool's output such as terraform.sh's), in a child bash, and reads the
# status, the counters and the summary line. Run by scripts/checks/tooling.sh.
# Ends with "N passed, N failed"; exits 1 if any case failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A tool that prints what a test runner prints and exits with $1.
cat >"$work/tool" <<'TOOL'
#!/usr/bin/env bash
echo "  run \"a\"... pass"
echo "  run \"b\"... fail"
echo "Failure! 1 passed, 1 failed."
exit "$1"
TOOL
chmod +x "$work/tool"

# scenario EXPECTED_STATUS EXPECTED_SUMMARY SCRIPT: SCRIPT (bash, lib.sh
# sourced, "$tool" set) must exit EXPECTED_STATUS and print EXPECTED_SUMMARY
# as its last line.
scenario() {
  local expected=$1 summary_line=$2 script=$3 output status=0
  output=$(tool=$work/tool bash -c "set -uo pipefail; source '$root/scripts/lib.sh'; $script" 2>&1) || status=$?
  if [[ $status != "$expected" || $(tail -n 1 <<<"$output") != "$summary_line" ]]; then
    echo "expected exit $expected and '$summary_line', got exit $status:"
    # shellcheck disable=SC2001 # every line, not one substitution
    sed 's/^/    | /' <<<"$output"
    return 1
  fi
}

# The filter terraform.sh uses: output kept apart from the status, so grep
# never decides the result.
filtered='filtered() { local out status=0; out=$("$tool" "$@" 2>&1) || status=$?; grep -vE "\.\.\. pass$" <<<"$out"; return "$status"; }'

check "a failing tool fails its check" \
  scenario 1 "0 passed, 1 failed" 'check "tool" "$tool" 1; summary'
check "a passing tool passes its check" \
  scenario 0 "1 passed, 0 failed" 'check "tool" "$tool" 0; summary'
check "quietly keeps a failing tool's status" \
  scenario 1 "0 passed, 1 failed" 'check "tool" quietly "$tool" 1; summary'
check "a failing tool behind an output filter fails its check" \
  scenario 1 "0 passed, 1 failed" "$filtered"'; check "tool" quietly filtered 1; summary'
check "the same filter passes a passing tool" \
  scenario 0 "1 passed, 0 failed" "$filtered"'; check "tool" quietly filtered 0; summary'
# What terraform.sh once did: a pipeline inside bash -c without pipefail
# takes grep's status. pipefail in the inner shell is what makes it fail.
check "bash -c with pipefail: a failing tool piped into grep fails its check" \
  scenario 1 "0 passed, 1 failed" 'check "tool" quietly bash -c "set -o pipefail; \"\$0\" 1 | grep -v pass" "$tool"; summary'
# ... and without it the check passes: the defect the case above guards against.
check "bash -c without pipefail: grep's status wins (the old defect, shown)" \
  scenario 0 "1 passed, 0 failed" 'check "tool" quietly bash -c "\"\$0\" 1 | grep -v pass" "$tool"; summary'
check "strict stops at the first failing command" \
  scenario 1 "0 passed, 1 failed" 'steps() { "$tool" 1; echo "not reached"; }; check "tool" strict steps; summary'
check "a failed check is counted and the script goes on (errexit on)" \
  scenario 1 "1 passed, 1 failed" 'set -e; check "failing" "$tool" 1 || true; check "passing" "$tool" 0; summary'
# read_lines stands in for mapfile (bash 4) and, unlike `mapfile < <(cmd)`,
# keeps the command's failure.
check "read_lines: the lines of a passing command" \
  scenario 0 "1 passed, 0 failed" 'lines=(); read_lines lines printf "a b\n\nc\n"; check "tool" test "${#lines[@]}:${lines[0]}:${lines[1]}" = "2:a b:c"; summary'
check "read_lines: a failing command fails it" \
  scenario 1 "0 passed, 1 failed" 'check "tool" read_lines lines "$tool" 1; summary'

summary
