#!/usr/bin/env python3
"""Keeps deliverables/VERSIONS.md, versions.env and the files that pin
versions in step, and checks that Renovate's configuration finds every pin it
is meant to move.

    versions_check.py

VERSIONS.md: every table whose header has the columns "Pinned", "Where" and
"Verified upstream". In each row:
  - every `backticked` value of "Pinned" must occur in every file that "Where"
    names (`path`, or `glob/**/pattern`), and a versions.env KEY named in
    "Where" must hold the first of them;
  - "Verified upstream" must say how the pin was checked.
The other way round, every pin in the repository must have a row: each
versions.env key, each action SHA in .github/workflows, each image in the
Compose file, the Dockerfile and the chart's values, each npm dependency of a
tracked package.json, each Terraform version constraint.

Renovate: each `# renovate:` comment must be matched by one of
.github/renovate.json's regex managers, capturing the version on the next line.
Standard library only. Exit code 1 on any problem, each printed on its own line.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_MD = ROOT / "deliverables" / "VERSIONS.md"
VERSIONS_ENV = ROOT / "versions.env"
RENOVATE = ROOT / ".github" / "renovate.json"
BACKTICKED = re.compile(r"`([^`]+)`")

problems = []


def problem(text):
    problems.append(text)


def tracked(*patterns):
    out = subprocess.run(["git", "ls-files", "--", *patterns], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return [ROOT / line for line in out.splitlines()]


def read_env():
    env = {}
    for number, line in enumerate(VERSIONS_ENV.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(\S+)", line)
        if not match:
            problem(f"versions.env:{number}: not KEY=value: {line!r}")
            continue
        env[match[1]] = match[2]
    return env


def table_rows(markdown):
    """(line number, {column: cell}) of every row of the pin tables."""
    rows, header = [], None
    for number, line in enumerate(markdown.splitlines(), 1):
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if all(re.fullmatch(r":?-+:?", cell) for cell in cells):
            continue
        if {"Pinned", "Where", "Verified upstream"} <= set(header) and len(cells) == len(header):
            rows.append((number, dict(zip(header, cells))))
    return rows


def where_files(cell):
    files, keys = [], []
    for token in BACKTICKED.findall(cell):
        if re.fullmatch(r"[A-Z][A-Z0-9_]+", token):
            keys.append(token)
        elif "*" in token:
            matched = tracked(token)
            if not matched:
                problem(f"VERSIONS.md: `{token}` matches no tracked file")
            files.extend(matched)
        else:
            path = ROOT / token
            if not path.is_file():
                problem(f"VERSIONS.md: `{token}` is not a file of the repository")
            else:
                files.append(path)
    return files, keys


def check_rows(env):
    rows = table_rows(VERSIONS_MD.read_text())
    if not rows:
        problem("VERSIONS.md: no table with the columns Pinned, Where and Verified upstream")
    listed = " ".join(row["Pinned"] for _, row in rows)
    env_keys_listed = set()
    for number, row in rows:
        where = f"VERSIONS.md:{number} ({row.get('Artefact', '?')})"
        pinned = BACKTICKED.findall(row["Pinned"])
        if not pinned:
            problem(f"{where}: no `version` in the Pinned column")
            continue
        if len(row["Verified upstream"]) < 10:
            problem(f"{where}: say how the pin was verified upstream")
        files, keys = where_files(row["Where"])
        for key in keys:
            env_keys_listed.add(key)
            if key not in env:
                problem(f"{where}: versions.env has no {key}")
            elif env[key] != pinned[0]:
                problem(f"{where}: versions.env {key}={env[key]}, the table says {pinned[0]}")
        for path in files:
            if path == VERSIONS_ENV and keys:
                continue  # checked key by key above
            text = path.read_text()
            for value in pinned:
                if value not in text:
                    problem(f"{where}: {value} does not occur in {path.relative_to(ROOT)}")
        if not files and not keys:
            problem(f"{where}: the Where column names no file or versions.env key")
    return listed, env_keys_listed


def pins_in_repository():
    """(description, value that must appear in the Pinned column) of every pin found."""
    found = []
    for workflow in tracked(".github/workflows/*.yml", ".github/workflows/*.yaml"):
        for action, sha in re.findall(r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})", workflow.read_text()):
            found.append((f"action {action} in {workflow.name}", sha))
    compose = ROOT / "starter" / "apps" / "docker-compose.yaml"
    for image in re.findall(r"(?:image:|-image)\s+([\w./-]+:[\w.-]+)\s*$", compose.read_text(), re.M):
        found.append((f"image {image} in docker-compose.yaml", image.rsplit(":", 1)[1]))
    dockerfile = (ROOT / "starter" / "apps" / "Dockerfile").read_text()
    for name, value in re.findall(r"^ARG (\w+_VERSION)=(\S+)", dockerfile, re.M):
        found.append((f"Dockerfile ARG {name}", value))
    for values in tracked("deliverables/deploy/kubernetes/charts/*/values.yaml"):
        for repository, tag in re.findall(r"repository:\s*(\S+)\s*\n(?:\s*#.*\n)*\s*tag:\s*\"([^\"]+)\"",
                                          values.read_text()):
            found.append((f"image {repository}:{tag} in {values.relative_to(ROOT)}", tag))
    for package in tracked("package.json", "**/package.json"):
        for name, version in json.loads(package.read_text()).get("dependencies", {}).items():
            found.append((f"npm {name} in {package.relative_to(ROOT)}", version))
    for versions_tf in tracked("deliverables/**/versions.tf"):
        for constraint in re.findall(r"version\s*=\s*\"([^\"]+)\"", versions_tf.read_text()):
            found.append((f"constraint {constraint} in {versions_tf.relative_to(ROOT)}", constraint))
    toolchain = (ROOT / "rust-toolchain.toml").read_text()
    for channel in re.findall(r"^channel = \"([^\"]+)\"", toolchain, re.M):
        found.append(("Rust toolchain in rust-toolchain.toml", channel))
    return found


def check_renovate():
    config = json.loads(RENOVATE.read_text())
    managers = [m for m in config.get("customManagers", []) if m.get("customType") == "regex"]
    for path in tracked("*"):
        relative = str(path.relative_to(ROOT))
        if not path.is_file() or path == Path(__file__).resolve():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        comments = [m.start() for m in re.finditer(r"# renovate: ", text)]
        if not comments or relative == ".github/renovate.json":
            continue
        applicable = [m for m in managers
                      if any(re.search(p.strip("/"), relative) for p in m.get("managerFilePatterns", []))]
        matches = {}
        for manager in applicable:
            for pattern in manager["matchStrings"]:
                # Renovate's patterns are JavaScript: (?<name>...) is Python's (?P<name>...).
                for match in re.finditer(pattern.replace("(?<", "(?P<"), text):
                    matches[match.start()] = match
        for start in comments:
            line = text.count("\n", 0, start) + 1
            match = matches.get(start)
            if match is None:
                problem(f"{relative}:{line}: no regex manager in renovate.json reads this `# renovate:` comment")
                continue
            if text.count("\n", 0, match.start("currentValue")) + 1 != line + 1:
                problem(f"{relative}:{line}: Renovate would read {match['currentValue']!r}, not from the next line")


def main():
    env = read_env()
    listed, env_keys_listed = check_rows(env)
    for key in env:
        if key not in env_keys_listed:
            problem(f"versions.env {key} has no row in VERSIONS.md")
    for description, value in pins_in_repository():
        if f"`{value}`" not in listed:
            problem(f"{description}: `{value}` is not in VERSIONS.md's Pinned column")
    check_renovate()
    for text in problems:
        print(f"FAIL {text}")
    print(f"versions: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
