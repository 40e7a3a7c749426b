#!/usr/bin/env python3
"""Checkov on the rendered chart, with zero unexplained findings.

    checkov_gate.py CHECKOV_BINARY MANIFEST_DIR

Runs `checkov --framework kubernetes` on every manifest in MANIFEST_DIR (one file per value
set), then compares the failed checks with checkov-accepted.yaml: a finding not accepted there,
or an accepted entry that matches no finding, fails the gate. Prints every unexplained finding
and a count per accepted check.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import yaml

ACCEPTED = Path(__file__).resolve().parent / "checkov-accepted.yaml"


def main() -> int:
    checkov, manifests = sys.argv[1], sys.argv[2]
    completed = subprocess.run(
        [checkov, "--skip-download", "--quiet", "--framework", "kubernetes", "--output", "json", "--directory", manifests],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        print(f"checkov did not produce a JSON report (exit {completed.returncode}):\n{completed.stderr[-2000:]}")
        return 1
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    passed = sum(r["summary"]["passed"] for r in reports)
    parsing_errors = sum(r["summary"]["parsing_errors"] for r in reports)

    accepted = yaml.safe_load(ACCEPTED.read_text())
    used = [0] * len(accepted)
    unexplained = []
    for finding in failed:
        where = f"{finding['check_id']} {finding['resource']} ({Path(finding['file_path']).name})"
        matches = [
            i
            for i, entry in enumerate(accepted)
            if entry["check"] == finding["check_id"]
            and any(fnmatch.fnmatchcase(finding["resource"], p) for p in entry["resources"])
        ]
        for i in matches:
            used[i] += 1
        if not matches:
            print(f"UNEXPLAINED {where}: {finding['check_name']}")
            unexplained.append(where)
    for entry, hits in zip(accepted, used):
        if hits:
            print(f"accepted    {entry['check']} x{hits} ({', '.join(entry['resources'])}): see checkov-accepted.yaml")
    stale = [entry["check"] for entry, hits in zip(accepted, used) if not hits]
    for check in stale:
        print(f"STALE       {check}: accepted in checkov-accepted.yaml but no longer reported")
    if parsing_errors:
        print(f"checkov could not parse {parsing_errors} file(s)")
    print(f"checkov: {passed} passed, {len(failed)} failed ({len(failed) - len(unexplained)} accepted with a reason)")
    return 1 if unexplained or stale or parsing_errors or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
