#!/usr/bin/env python3
"""`helm template` and `helm lint` without a helm binary.

This machine has no Helm CLI; PyPI's helm-python-sdk (pinned in scripts/checks/helm.sh) binds
Helm's own Go engine, so rendering, schema validation and linting are Helm's, not an imitation.

    render.py template CHART [-f VALUES]... [--set K=V]... [--name N] [--namespace NS]
                       [--api-versions GROUP/VERSION]... [--kube-version vX.Y.Z] [--revision N]
    render.py lint CHART [-f VALUES]... [--set K=V]... [--kube-version vX.Y.Z]

`template` prints the manifests as `helm template` does (`# Source:` comments, NOTES.txt left
out); `lint` prints the findings and exits 1 on any error or warning (`helm lint --strict`).

The Python API of helm-python-sdk 0.2.2 exposes neither --api-versions nor --kube-version for
rendering, but the native call it wraps (helm_render) accepts both as options: `render()` passes
them there directly. The pin keeps that private call stable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
from helm_python import _native

RELEASE_NAME = "microservices"
NAMESPACE = "orders"
SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two value trees as the Helm CLI merges -f files and --set: maps merge, the
    rest is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_values(files: list[str], sets: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for file in files:
        values = merge(values, helm.values_from_yaml(Path(file).read_text()))
    for assignment in sets:
        values = merge(values, helm.parse_set_string(assignment))
    return values


def render(
    chart_dir: str | Path,
    values: dict[str, Any] | None = None,
    *,
    name: str = RELEASE_NAME,
    namespace: str = NAMESPACE,
    api_versions: list[str] | None = None,
    kube_version: str | None = None,
    revision: int = 1,
) -> dict[str, str]:
    """Render like an install: template path -> text, NOTES.txt included. Raises
    helm.HelmError (HelmValuesError for values the schema rejects, HelmRenderError for a
    template `fail`)."""
    options: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "revision": revision,
        "is_install": revision == 1,
        "is_upgrade": revision > 1,
    }
    if api_versions:
        options["api_versions"] = api_versions
    if kube_version:
        options["kube_version"] = kube_version
    with helm.Chart.load(str(chart_dir)) as chart:
        # helm install validates values against values.schema.json before rendering.
        chart.validate_schema(values or {})
        rendered = _native.call_string(
            "helm_render", chart._raw(), json.dumps(values or {}), json.dumps(options)
        )
    manifests: dict[str, str] = json.loads(rendered)
    return manifests


def as_stream(manifests: dict[str, str]) -> str:
    """The `helm template` output: every non-empty template but NOTES.txt."""
    parts = []
    for path in sorted(manifests):
        text = manifests[path]
        if path.endswith("NOTES.txt") or not text.strip():
            continue
        for document in text.split("\n---\n"):
            if document.strip() and document.strip() != "---":
                parts.append(f"---\n# Source: {path}\n{document.strip(chr(10))}\n")
    return "".join(parts)


def lint(chart_dir: str | Path, values: dict[str, Any], kube_version: str | None) -> list[str]:
    """`helm lint --strict`: the findings that fail it (warnings and errors)."""
    report = helm.lint(str(chart_dir), values, strict=True, kube_version=kube_version)
    findings = [
        f"{SEVERITY.get(m['severity'], m['severity'])}: {m['path']}: {m['error']}"
        for m in report["messages"]
        if m["severity"] >= 2
    ]
    return findings + list(report.get("errors") or [])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["template", "lint"])
    parser.add_argument("chart")
    parser.add_argument("-f", "--values", action="append", default=[], metavar="FILE")
    parser.add_argument("--set", action="append", default=[], metavar="K=V")
    parser.add_argument("--name", default=RELEASE_NAME)
    parser.add_argument("--namespace", default=NAMESPACE)
    parser.add_argument("--api-versions", action="append", default=[])
    parser.add_argument("--kube-version")
    parser.add_argument("--revision", type=int, default=1)
    args = parser.parse_args()

    try:
        values = load_values(args.values, args.set)
        if args.command == "lint":
            findings = lint(args.chart, values, args.kube_version)
            for finding in findings:
                print(finding)
            print(f"{args.chart}: {'FAILED' if findings else 'ok'} ({len(findings)} findings)")
            return 1 if findings else 0
        manifests = render(
            args.chart,
            values,
            name=args.name,
            namespace=args.namespace,
            api_versions=args.api_versions,
            kube_version=args.kube_version,
            revision=args.revision,
        )
    except helm.HelmError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(as_stream(manifests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
