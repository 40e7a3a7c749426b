#!/usr/bin/env python3
"""Every alert has a section in the runbook, and its runbook_url points at it.

    check_runbook.py RULES_DIR RUNBOOK

Needs PyYAML (the observability venv has it, as a yamllint dependency).
"""

import re
import sys
from pathlib import Path

import yaml

URL_PREFIX = "deliverables/observability/runbook.md#"


def anchor(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def main(rules_dir, runbook):
    headings = {anchor(line[3:]) for line in Path(runbook).read_text(encoding="utf-8").splitlines()
                if line.startswith("## ")}
    problems = []
    alerts = 0
    for path in sorted(Path(rules_dir).glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                alerts += 1
                name = rule["alert"]
                annotations = rule.get("annotations", {})
                for key in ("summary", "description", "runbook_url"):
                    if not annotations.get(key):
                        problems.append(f"{name}: no {key} annotation")
                if not rule.get("labels", {}).get("severity") in ("critical", "warning", "info"):
                    problems.append(f"{name}: severity label must be critical, warning or info")
                url = annotations.get("runbook_url", "")
                if url != URL_PREFIX + anchor(name):
                    problems.append(f"{name}: runbook_url {url!r}, expected {URL_PREFIX + anchor(name)!r}")
                if anchor(name) not in headings:
                    problems.append(f"{name}: {runbook} has no section '## {name}'")
    for problem in problems:
        print(f"  {problem}")
    print(f"{alerts} alerts: {'OK' if not problems else f'{len(problems)} problems'}")
    return 1 if problems or not alerts else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
