# shellcheck shell=bash
# The check scripts' shared library: sourced, never run. Sets `root` (the
# repository) and every pinned version (versions.env), and defines:
#
#   check NAME CMD...        run CMD as one counted check: "==> NAME", its output,
#                            "<== NAME: passed (N s)" or FAILED; returns CMD's status
#                            (so the scripts that call it run without errexit)
#   strict CMD...            CMD in a subshell with errexit (for check: a function
#                            that stops at its first failing command)
#   quietly CMD...           CMD's output kept in a log, its end shown only on failure
#   summary                  the failed checks and "N passed, N failed"; non-zero if any failed
#   abort TEXT               a failure that stops the script: FAIL TEXT, summary, exit 1
#   as_root CMD...           CMD as root (root_prefix: sudo --non-interactive unless root)
#   apt_update, apt_install PKG...   Debian packages, non-interactive, lists updated first
#   python_venv DIR PKG==VER...      a virtualenv with exactly these pins (reused if it has them)
#   install_checkov          checkov at its pin as $checkov (one venv for every area)
#   npm_ci SRC DEST          DEST/node_modules from SRC's package.json and package-lock.json
#   free_port                a free TCP port on 127.0.0.1
#   at_least A B             version A >= version B (a leading v ignored)
#   json_string FIELD        the string value of a top-level field of the JSON on stdin
#   read_lines ARRAY CMD...  ARRAY set to CMD's non-empty output lines; fails if CMD does
#                            (mapfile, without bash 4 and without losing CMD's status)
#
# Only bash builtins run while it is sourced: scripts/doctor.sh sources it on a
# PATH with nothing but bash, grep, head and dirname. What doctor.sh uses runs
# on macOS's bash 3.2 and BSD tools (scripts/checks/portability.py keeps it so).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=SCRIPTDIR/../versions.env
source "$root/versions.env"

checks_passed=0
checks_failed=0
checks_failures=()

check() {
  local name=$1 started=$SECONDS status errexit=false
  shift
  echo
  echo "==> $name"
  # A failing check is counted, never the end of a script run with errexit.
  [[ $- == *e* ]] && errexit=true
  set +e
  "$@"
  status=$?
  if $errexit; then set -e; fi
  if ((status == 0)); then
    checks_passed=$((checks_passed + 1))
    echo "<== $name: passed ($((SECONDS - started)) s)"
  else
    checks_failed=$((checks_failed + 1))
    checks_failures+=("$name")
    echo "<== $name: FAILED ($((SECONDS - started)) s)"
  fi
  return "$status"
}

strict() { (set -euo pipefail; "$@"); }

quietly() {
  local log status=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  ((status == 0)) || sed 's/^/     | /' "$log" | tail -n 60
  rm -f "$log"
  return "$status"
}

summary() {
  echo
  if ((checks_failed > 0)); then
    printf 'failed: %s\n' ${checks_failures[@]+"${checks_failures[@]}"}
  fi
  echo "$checks_passed passed, $checks_failed failed"
  ((checks_failed == 0))
}

abort() {
  echo "FAIL $*"
  checks_failed=$((checks_failed + 1))
  checks_failures+=("$*")
  summary
  exit 1
}

# read_lines ARRAY CMD...: see the header. ARRAY is a name this script chose,
# never input, so eval only ever assigns to it.
read_lines() {
  local __array=$1 __output __line
  shift
  __output=$("$@") || return 1
  eval "$__array=()"
  while IFS= read -r __line; do
    [[ -z $__line ]] || eval "$__array+=(\"\$__line\")"
  done <<<"$__output"
}

# root_prefix: what as_root puts in front (empty as root; expanded as
# ${a[@]+"${a[@]}"}, since bash 3.2 calls an empty "${a[@]}" unbound under set -u).
root_prefix=()
((EUID == 0)) || root_prefix=(sudo --non-interactive)
as_root() { ${root_prefix[@]+"${root_prefix[@]}"} "$@"; }

# Current lists first: a machine's lists may be old or missing.
apt_update() {
  as_root apt-get update -qq >/dev/null || echo "warning: apt-get update failed; using the package lists as they are" >&2
}

apt_install() {
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# python_venv DIR PACKAGE==VERSION...: DIR/.installed records the pins; a venv
# with other pins (or none recorded) is made again. Debian ships venv support
# separately (python3-venv): installed when venv cannot make one.
python_venv() {
  local dir=$1
  shift
  [[ -f "$dir/.installed" && $(<"$dir/.installed") == "$*" ]] && return 0
  rm -rf "$dir"
  if ! python3 -m venv "$dir" 2>/dev/null; then
    rm -rf "$dir"
    apt_install python3-venv || return 1
    python3 -m venv "$dir" || return 1
  fi
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" || return 1
  echo "$*" >"$dir/.installed"
}

# checkov pins its own dependency tree (and its own HCL parser): a venv with
# nothing else in it, shared by the areas that scan with it.
# shellcheck disable=SC2034 # used by the scripts that source this
checkov="$root/.tools/checkov/bin/checkov"
install_checkov() {
  python_venv "$root/.tools/checkov" "checkov==$CHECKOV_VERSION"
}

# npm_ci SRC DEST: exactly the versions of SRC/package-lock.json, in
# DEST/node_modules; installed again only when that lock file changes.
npm_ci() {
  local src=$1 dest=$2
  cmp -s "$src/package-lock.json" "$dest/package-lock.json" && return 0
  command -v npm >/dev/null || apt_install nodejs npm || return 1
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  npm ci --silent --no-audit --no-fund --prefix "$dest" >/dev/null || { rm -f "$dest/package-lock.json"; return 1; }
}

# No portable shell way to ask the kernel for a free port: Python binds port 0.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Compared number by number in bash itself (macOS 12's sort has no -V); what
# follows the dotted numbers (-rc1, +ds) is ignored, a missing number is 0.
at_least() {
  local have=${1#v} want=${2#v} a b
  have=${have%%[!0-9.]*} want=${want%%[!0-9.]*}
  while [[ -n $have || -n $want ]]; do
    a=${have%%.*} b=${want%%.*}
    ((10#${a:-0} == 10#${b:-0})) || { ((10#${a:-0} > 10#${b:-0})); return; }
    if [[ $have == *.* ]]; then have=${have#*.}; else have=; fi
    if [[ $want == *.* ]]; then want=${want#*.}; else want=; fi
  done
  return 0
}

# A real JSON parser (python3), not a pattern: escapes and nesting are JSON's.
json_string() {
  python3 -c '
import json, sys
value = json.load(sys.stdin).get(sys.argv[1])
if not isinstance(value, str):
    sys.exit(f"no string field {sys.argv[1]} in the JSON")
print(value)' "$1"
}
