#!/usr/bin/env python3
"""The commands in our Markdown docs, tested so they cannot rot.

    doc_commands.py run FILE HEADING...   run every bash block under any of
                                          these headings of FILE, in order, in
                                          one shell, from the repository root
    doc_commands.py check FILE...         shellcheck every bash block

`run` skips `make test` (the docs test runs inside it) and always stops the
native stack afterwards. Blocks are ```bash fences; ```text shows output.
That every `make TARGET` named exists is doc_rules.py's check.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(path):
    """(enclosing headings, language, code, line) of every fenced block."""
    headings, language, lines, start, found = [], None, [], 0, []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        fence = FENCE.match(line)
        heading = re.match(r"^(#{1,6}) (.+)$", line)
        if language is None:
            if fence:
                language, lines, start = fence.group(1) or "", [], number
            elif heading:
                level = len(heading.group(1))
                headings = headings[: level - 1] + [heading.group(2).strip()]
        elif line.strip() == "```":
            found.append((tuple(headings), language, "\n".join(lines), start))
            language = None
        else:
            lines.append(line)
    return found


def shell_blocks(path):
    return [b for b in blocks(path) if b[1] in ("bash", "sh", "shell", "console")]


def check(paths):
    failures = 0
    for path in paths:
        for heading, _, code, line in shell_blocks(path):
            where = f"{path}:{line} ({' > '.join(heading)})"
            with tempfile.NamedTemporaryFile("w", suffix=".sh") as script:
                # Blocks are fragments a reader pastes: a variable may come from
                # an earlier block, and `cd` into the repository cannot fail.
                script.write("#!/usr/bin/env bash\n# shellcheck disable=SC2034,SC2154,SC2164\n" + code + "\n")
                script.flush()
                result = subprocess.run(["shellcheck", "-s", "bash", script.name], capture_output=True, text=True)
            if result.returncode != 0:
                print(f"FAIL {where}: shellcheck\n{result.stdout}")
                failures += 1
    print(f"doc commands: {failures} problem(s)")
    return failures == 0


def run(path, headings):
    selected = [b for b in shell_blocks(path) if set(b[0]) & set(headings)]
    missing = set(headings) - {h for b in selected for h in b[0]}
    if missing:
        print(f"FAIL no bash blocks under {sorted(missing)} in {path}")
        return False
    script = ["set -euo pipefail", f"cd {ROOT}", "trap 'make --no-print-directory down >/dev/null 2>&1 || true' EXIT"]
    for heading, _, code, line in selected:
        script.append(f"echo '--- {path}:{line} ({heading[-1]})'")
        for command in code.splitlines():
            if re.match(r"^\s*make test\b", command):
                script.append(f"echo 'skipped (the docs test runs inside it): {command.strip()}'")
            else:
                script.append(command)
    result = subprocess.run(["bash", "-c", "\n".join(script)], cwd=ROOT)
    return result.returncode == 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "run":
        return 0 if run(argv[2], argv[3:]) else 1
    if len(argv) >= 3 and argv[1] == "check":
        return 0 if check(argv[2:]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
