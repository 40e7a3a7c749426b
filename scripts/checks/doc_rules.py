#!/usr/bin/env python3
"""Rules our Markdown docs keep, checked on every tracked Markdown file.

    doc_rules.py [FILE...]     check FILE... (default: every tracked *.md)

- Word budgets: README.md, deliverables/Instructions.md and
  deliverables/DecisonsLog.md stay within BUDGETS. A word is what `wc -w`
  counts: a run of non-whitespace characters in the raw Markdown (code blocks,
  tables and link targets included).
- deliverables/DecisonsLog.md keeps the assessment template's four top-level
  headings, exactly and in order, and no other top-level heading.
- Every relative link resolves to a tracked file or folder, and every
  `#anchor` (in the same file or another Markdown file) to one of its
  headings, slugged as GitHub does.
- Every `make TARGET` in a code block or an inline code span is a target make
  knows, and every repository path named there (a *.sh/*.py/*.mk file, or a
  path under one of the repository's top-level folders) exists.

Each finding is printed as FILE:LINE: what; the exit code is 1 if any.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BUDGETS = {
    "README.md": 1500,
    "deliverables/Instructions.md": 3000,
    "deliverables/DecisonsLog.md": 3500,
}
DECISIONS_LOG = "deliverables/DecisonsLog.md"
# The first version of the assessment's DecisonsLog.md template, spelling included.
TEMPLATE_HEADINGS = [
    "Explain decisions made during the implmentation of the test",
    "What is missing",
    "What could be improved",
    "What I would do if this was in a production environment and I had more time",
]
# Folders a repository path starts with; files a reader creates are not checked.
TOP_FOLDERS = ("deliverables/", "scripts/", "starter/", "benchmarks/", "make/", ".github/", ".ci/")
CREATED_BY_READER = re.compile(r"(^|/)(\.run|\.tools|target|node_modules)/|\.(tfvars|hcl)$|(^|/)(tfplan|backend\.tf)$")
SCRIPT_EXTENSIONS = (".sh", ".py", ".mk")
# Where the docs tell a reader to run commands: the repository root, and the Compose folder.
WORKDIRS = ("", "starter/apps/")
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
# `make` followed by its options, variables and targets, up to a shell operator or comment.
MAKE = re.compile(r"(?:^|[;&|(]|\s|`)make((?:\s+[^\s;&|)#`]+)+)")
PATH_TOKEN = re.compile(r"[A-Za-z0-9_.][\w./-]*")


def words(text):
    """What `wc -w` counts: runs of non-whitespace."""
    return len(text.split())


def lines_outside_code(text):
    """(line number, line) of every line that is not in a fenced block."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def code_texts(text):
    """(line number, code) of every line of a shell block, comments dropped, and of
    every inline code span. Other blocks (output, diagrams) name no commands."""
    shell = None
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            shell = None if shell is not None else line.strip().strip("`~") in SHELL_LANGUAGES
            continue
        if shell:
            yield number, re.sub(r"(^|\s)#.*", "", line)
        elif shell is None:
            for span in INLINE_CODE.finditer(line):
                yield number, span.group(2)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text):
    found, seen = set(), {}
    for _, line in lines_outside_code(text):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def check_budget(name, text):
    budget = BUDGETS.get(name)
    if budget is not None and words(text) > budget:
        yield 1, f"{words(text)} words, over its budget of {budget}"


def check_template(name, text):
    if name != DECISIONS_LOG:
        return
    top = [(n, HEADING.match(line).group(2)) for n, line in lines_outside_code(text)
           if HEADING.match(line) and len(HEADING.match(line).group(1)) == 1]
    if [title for _, title in top] != TEMPLATE_HEADINGS:
        yield (top[0][0] if top else 1), (
            f"top-level headings {[t for _, t in top]} are not the template's {TEMPLATE_HEADINGS}")


def check_links(name, text, root, tracked):
    here = (root / name).parent
    for number, line in lines_outside_code(text):
        line = INLINE_CODE.sub("", line)
        targets = [m.group(1) for m in LINK.finditer(line)]
        reference = REFERENCE.match(line)
        if reference:
            targets.append(reference.group(1))
        for target in targets:
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
                continue
            path, _, fragment = target.partition("#")
            file = (here / path).resolve() if path else (root / name).resolve()
            try:
                relative = file.relative_to(root.resolve()).as_posix()
            except ValueError:
                yield number, f"link {target} leaves the repository"
                continue
            if relative not in tracked and not any(t.startswith(relative + "/") for t in tracked):
                yield number, f"link {target}: {relative} is not in the repository"
            elif fragment and relative.endswith(".md"):
                if fragment not in anchors((root / relative).read_text(encoding="utf-8")):
                    yield number, f"link {target}: no heading with anchor #{fragment} in {relative}"


def make_words(code):
    """The targets of every `make ...` command in a piece of code."""
    for match in MAKE.finditer(code):
        for word in match.group(1).split():
            if word.startswith("-") or "=" in word:
                continue
            if not re.fullmatch(r"[a-zA-Z][\w.-]*", word):
                break  # a placeholder or the end of the command
            yield word


def check_commands(name, text, root, tracked, targets):
    for number, code in code_texts(text):
        for target in make_words(code):
            if target not in targets:
                yield number, f"`make {target}` is not a make target"
        for token in PATH_TOKEN.findall(re.sub(r"\w+://\S+", "", code)):
            token = token.rstrip(".")
            rooted = token.startswith(TOP_FOLDERS)
            if not (rooted or (token.endswith(SCRIPT_EXTENSIONS) and "/" in token)):
                continue
            if CREATED_BY_READER.search(token) or "*" in token:
                continue
            path = token.rstrip("/")
            if rooted:
                found = any(d + path in tracked or any(t.startswith(d + path + "/") for t in tracked)
                            for d in WORKDIRS)
            else:  # named from another folder (ecr/scripts/upload.sh): a tracked path ending so
                found = any(t == path or t.endswith("/" + path) for t in tracked)
            if not found:
                yield number, f"path {token} is not in the repository"


def make_targets():
    """Every target make knows, read from make's own database (so targets
    built from variables, such as image-order-api, count too)."""
    database = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "-pRrq", ":"], capture_output=True, text=True
    ).stdout
    names = set()
    for line in database.splitlines():
        match = re.match(r"^([a-zA-Z0-9][\w./-]*(?:\s+[a-zA-Z0-9][\w./-]*)*)\s*:(?!=)", line)
        if match:
            names.update(match.group(1).split())
    return names


def check_file(name, root, tracked, targets):
    text = (root / name).read_text(encoding="utf-8")
    for check in (check_budget(name, text), check_template(name, text),
                  check_links(name, text, root, tracked),
                  check_commands(name, text, root, tracked, targets)):
        for line, finding in check:
            yield f"{name}:{line}: {finding}"


def tracked_files(root):
    listed = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True, check=True)
    return set(listed.stdout.splitlines())


def main(argv):
    tracked, targets = tracked_files(ROOT), make_targets()
    names = argv[1:] or sorted(f for f in tracked if f.endswith(".md"))
    findings = [f for name in names for f in check_file(name, ROOT, tracked, targets)]
    for finding in findings:
        print(f"FAIL {finding}")
    for name, budget in BUDGETS.items():
        print(f"{name}: {words((ROOT / name).read_text(encoding='utf-8'))} words (budget {budget})")
    print(f"doc rules: {len(names)} files, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
