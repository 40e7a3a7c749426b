#!/usr/bin/env python3
"""Keeps what a reviewer runs working on stock macOS: bash 3.2, GNU make 3.81
and BSD userland.

    portability.py              check every file on the reviewer's paths
    portability.py --self-test  show that each banned construct is rejected,
                                and its portable spelling accepted

The files: REVIEWER_SCRIPTS (shell) and REVIEWER_MAKEFILES (their recipes are
bash; the make syntax itself must be 3.81's). The contributors' scripts
(make dev, make test) need bash 4.4, which `make doctor` checks.
A pattern check, not a parser: comments are skipped, and an empty array is
recognised only where the file assigns it `=()` or `=("$@")`.
Standard library only. Exit code 1 on any finding, each on its own line.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Every script the documented deploy paths run (Compose, Minikube, ECS,
# observability on a cluster), and the make files whose recipes they use.
REVIEWER_SCRIPTS = [
    "scripts/doctor.sh",
    "scripts/lib.sh",
    "starter/apps/scripts/test_docker_compose.sh",
    "deliverables/deploy/scripts/*.sh",
    "deliverables/deploy/ecr/scripts/*.sh",
    "deliverables/deploy/ecs-ec2/terraform/modules/*/*.sh",  # terraform apply runs these here
    "deliverables/observability/tests/cluster-check.sh",
]
REVIEWER_MAKEFILES = [
    "Makefile",
    "make/containers.mk",
    "make/helm.mk",
    "make/terraform.mk",
    "make/observability.mk",
    "make/starter-aliases.mk",
]

# (pattern, what to write instead): bash 4+ only.
BASH4 = [
    (r"\b(declare|typeset|local)\s+-[a-zA-Z]*A", "declare -A (bash 4): use two plain arrays or a case"),
    (r"\b(declare|typeset|local)\s+-[a-zA-Z]*n\b", "a nameref (declare/local -n, bash 4.3): pass the name and use eval or printf"),
    (r"\b(declare|typeset|local)\s+-[a-zA-Z]*[lu]\b", "declare -l/-u (bash 4): use tr"),
    (r"\b(mapfile|readarray)\b", "mapfile/readarray (bash 4): use a while read loop"),
    (r"\$\{[#!]?[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?(\^\^?|,,?)[^}]*\}", "${v,,} / ${v^^} (bash 4): use tr, or a case pattern such as [gG]"),
    (r"(?<![|])\|&", "|& (bash 4): use 2>&1 |"),
    (r"&>>", "&>> (bash 4): use >>FILE 2>&1"),
    (r"\bcoproc\b", "coproc (bash 4)"),
    (r"(\[\[|\btest|\[)\s+(!\s+)?-v\s", "[[ -v NAME ]] (bash 4.2): use [[ -n ${NAME+set} ]]"),
    (r"\bprintf\s+-v\s+['\"]?[A-Za-z_][A-Za-z0-9_]*\[", "printf -v into an array element (bash 4.1)"),
    (r"\$\{[A-Za-z_][A-Za-z0-9_]*\[-[0-9]+\]\}", "a negative array index (bash 4.3): use ${a[${#a[@]}-1]}"),
    (r"\$\{[^}]*@[QEPAaUuLK]\}", "${var@Q} and friends (bash 4.4)"),
    (r";;&|;&\s*$", ";;& / ;& case fall-through (bash 4)"),
    (r"\bshopt\s+-s\s+(globstar|lastpipe|inherit_errexit)", "shopt globstar/lastpipe/inherit_errexit (bash 4)"),
    (r"\{[A-Za-z_][A-Za-z0-9_]*\}[<>]", "{fd}> descriptor allocation (bash 4.1)"),
    (r"\bdeclare\s+-[a-zA-Z]*g", "declare -g (bash 4.2)"),
    (r"\bwait\s+-n\b", "wait -n (bash 4.3)"),
    (r"\$\{[A-Za-z_][A-Za-z0-9_]*:[^}:]*:-[0-9]", "a negative substring length (bash 4.2)"),
    (r"\b(source|\.)\s+<\(", "source <(...) (reads nothing on bash 3.2): use eval \"$(...)\""),
    (r"=~\s+(?!\$[A-Za-z_{])\S*[()|]", "a regex with ( or | written inline after =~ (a syntax error on bash 3.2): put it in a variable"),
    (r"\$(BASHPID|EPOCHSECONDS|EPOCHREALTIME)\b|\$\{(BASHPID|EPOCHSECONDS|EPOCHREALTIME)\}", "$BASHPID/$EPOCHSECONDS (bash 4+)"),
]

# GNU-only tools and flags: BSD userland (macOS) has other ones or none.
GNU = [
    (r"\bsed\b[^|;&]*\s(-[a-zA-Z]*i|--in-place)(\s|$)", "sed -i without a suffix (BSD sed takes the next word): use sed -i.bak, or write a new file"),
    (r"\bdate\b[^|;&]*\s(-d\s|--date\b)", "date -d (GNU): compute with $((...)) or python3"),
    (r"\breadlink\s+(-[a-zA-Z]*f|--canonicalize)", "readlink -f (GNU): use cd \"$(dirname ...)\" && pwd"),
    (r"\bgrep\b[^|;&]*\s(-[a-zA-Z]*P[a-zA-Z]*|--perl-regexp)\b", "grep -P (GNU): use grep -E"),
    (r"\bsort\b[^|;&]*\s(-[a-zA-Z]*V|--version-sort)\b", "sort -V (not in macOS 12's sort): compare with at_least (scripts/lib.sh)"),
    (r"\bxargs\b[^|;&]*\s(-[a-zA-Z]*r\b|--no-run-if-empty)", "xargs -r (GNU)"),
    (r"\bstat\b[^|;&]*\s(-c\s|--format)", "stat -c (GNU; BSD is stat -f)"),
    (r"\bfind\b[^|;&]*\s-printf\b", "find -printf (GNU)"),
    (r"(^|[;&|(`]\s*|\s)(timeout|tac|nproc)(\s|\)|$)", "timeout/tac/nproc (GNU coreutils, not on macOS)"),
]

# GNU make newer than 3.81 (macOS's).
MAKE = [
    (r"^\.ONESHELL\s*:", ".ONESHELL (make 3.82)"),
    (r"^\s*undefine\s", "undefine (make 3.82)"),
    (r"^[A-Za-z0-9_.-]+\s*(!=|::=)", "!= / ::= assignment (make 4.0)"),
    (r"\$\(file\s", "$(file ...) (make 4.0)"),
    (r"^\.RECIPEPREFIX\b", ".RECIPEPREFIX (make 3.82)"),
    (r"^define\s+\S+\s*[:?+]?=\s*$", "define NAME = (make 3.82): plain define NAME"),
    (r"^\s*private\s", "private variables (make 3.82)"),
    (r"^[^\t#][^:=]*&:", "grouped targets &: (make 4.3)"),
]

EMPTY_ARRAY = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=\((\)|\"\$@\"\))")


def strip_comment(line):
    """The line without its comment: a # at its start or after a blank."""
    if line.lstrip().startswith("#"):
        return ""
    return re.sub(r"\s#(\s.*)?$", "", line)


def shell_findings(name, lines, bash_rules=True):
    """(line number, text) of each banned construct in the shell code LINES."""
    findings = []
    code = [strip_comment(line) for line in lines]
    rules = (BASH4 + GNU) if bash_rules else GNU
    for number, line in enumerate(code, 1):
        for pattern, advice in rules:
            if re.search(pattern, line):
                findings.append(f"{name}:{number}: {advice}: {line.strip()}")
    # "${a[@]}" of an array that may be empty aborts under set -u on bash 3.2,
    # unless the same line counts it first (((${#a[@]} == 0)) || cmd "${a[@]}").
    empty = {match[1] for line in code for match in EMPTY_ARRAY.finditer(line)}
    for number, line in enumerate(code, 1):
        for array in sorted(empty):
            if "${#" + array + "[@]}" not in line and re.search(r'(?<![+])"\$\{' + array + r'\[@\]\}"', line):
                findings.append(f'{name}:{number}: "${{{array}[@]}}" of an array that may be empty aborts '
                                f'under set -u on bash 3.2: write ${{{array}[@]+"${{{array}[@]}}"}}: {line.strip()}')
    return findings


def make_findings(name, text):
    """Banned make syntax, and banned shell in the recipes ($$ is $)."""
    findings = []
    lines = text.splitlines()
    recipe = []
    for number, line in enumerate(lines, 1):
        if line.startswith("\t"):
            recipe.append((number, line[1:].replace("$$", "$")))
            continue
        for pattern, advice in MAKE:
            if re.search(pattern, strip_comment(line)):
                findings.append(f"{name}:{number}: {advice}: {line.strip()}")
    for number, line in recipe:
        for finding in shell_findings(name, [line]):
            findings.append(re.sub(r"^([^:]+):1:", rf"\1:{number}:", finding))
    return findings


def reviewer_files():
    scripts, makefiles = [], []
    for pattern in REVIEWER_SCRIPTS:
        matched = sorted(ROOT.glob(pattern))
        if not matched:
            print(f"{pattern}: no such file (update REVIEWER_SCRIPTS)")
            sys.exit(1)
        scripts += matched
    for pattern in REVIEWER_MAKEFILES:
        path = ROOT / pattern
        if not path.is_file():
            print(f"{pattern}: no such file (update REVIEWER_MAKEFILES)")
            sys.exit(1)
        makefiles.append(path)
    return scripts, makefiles


def check():
    scripts, makefiles = reviewer_files()
    findings = []
    for path in scripts:
        findings += shell_findings(str(path.relative_to(ROOT)), path.read_text().splitlines())
    for path in makefiles:
        findings += make_findings(str(path.relative_to(ROOT)), path.read_text())
    for finding in findings:
        print(finding)
    print(f"portability: {len(scripts)} scripts and {len(makefiles)} make files, {len(findings)} findings")
    return not findings


# Each banned construct, alone in a script, must be found; its portable
# spelling must not be.
BANNED_SHELL = [
    "declare -A ports", "local -A seen", "local -n ref=$1", "declare -l lower", "mapfile -t lines < file",
    "readarray -t lines < file", "echo ${size,,}", "echo ${name^^}", "echo ${name^}", "cmd |& tee log",
    "cmd &>> log", "coproc cat", "[[ -v NAME ]]", "printf -v 'a[0]' %s x", "printf -v a[0] %s x",
    "echo ${list[-1]}", "echo ${var@Q}", "  a) echo a ;;&", "shopt -s globstar", "exec {fd}>file",
    "declare -g x=1", "wait -n", "echo ${s:0:-1}", "source <(cat env)", "echo $BASHPID",
    "sed -i 's/a/b/' file", "sed -Ei 's/a/b/' file", "date -d yesterday", "readlink -f x", "grep -oP '\\d+' f",
    "sort -V list", "xargs -r rm", "stat -c %s f", "find . -printf '%p'", "timeout 5 cmd", "tac file",
    "n=$(nproc)", "[[ $v =~ ^(a|b)$ ]]", "[[ $v =~ ^a|b$ ]]",
    'set -u\nflags=()\ncmd "${flags[@]}"', 'args=("$@")\nfor a in "${args[@]}"; do :; done',
]
PORTABLE_SHELL = [
    "declare -a list", "local name=$1", "while IFS= read -r line; do :; done < file", "echo ${size%g}",
    "tr '[:upper:]' '[:lower:]'", "cmd 2>&1 | tee log", "cmd >>log 2>&1", '[[ -n ${NAME+set} ]]',
    "echo ${list[${#list[@]}-1]}", "sed -i.bak 's/a/b/' file", "sed -n 's/a/b/p' file", "date -u +%s",
    "grep -oE '[0-9]+' f", "echo ${#list[@]}", "echo $# ${1#v}", "echo ${v:-default}",
    'set -u\nflags=()\ncmd ${flags[@]+"${flags[@]}"}', 'list=(a b)\ncmd "${list[@]}"',
    'pids=()\n((${#pids[@]} == 0)) || kill "${pids[@]}"',
    "# a comment may say declare -A or mapfile", "base64 --decode", "re='^(a|b)$'\n[[ $v =~ $re ]]",
    "[[ $v =~ ^[0-9]+$ ]]", 'q="up{job=~\\"a|b\\"}"',
]
BANNED_MAKE = [".ONESHELL:", "undefine X", "X != date", "X ::= 1", "$(file >out,x)", ".RECIPEPREFIX = >",
               "define NAME =\nx\nendef", "private X = 1", "a b &: c", "t:\n\tsed -i 's/a/b/' f",
               "t:\n\techo $${v,,}"]
PORTABLE_MAKE = ["X := 1", "X ?= 1", "define NAME\nx\nendef", "t:\n\tfor b in a; do echo $$b; done",
                 "t: ## help\n\t@test -f x || { echo no >&2; exit 1; }"]


def self_test():
    failures = []
    for snippet in BANNED_SHELL:
        if not shell_findings("fixture.sh", snippet.splitlines()):
            failures.append(f"not rejected: {snippet!r}")
    for snippet in PORTABLE_SHELL:
        if found := shell_findings("fixture.sh", snippet.splitlines()):
            failures.append(f"rejected though portable: {snippet!r}: {found}")
    for snippet in BANNED_MAKE:
        if not make_findings("fixture.mk", snippet):
            failures.append(f"not rejected: {snippet!r}")
    for snippet in PORTABLE_MAKE:
        if found := make_findings("fixture.mk", snippet):
            failures.append(f"rejected though portable: {snippet!r}: {found}")
    for failure in failures:
        print(failure)
    total = len(BANNED_SHELL) + len(PORTABLE_SHELL) + len(BANNED_MAKE) + len(PORTABLE_MAKE)
    print(f"portability self-test: {total - len(failures)} passed, {len(failures)} failed")
    return not failures


if __name__ == "__main__":
    sys.exit(0 if (self_test() if sys.argv[1:] == ["--self-test"] else check()) else 1)
