"""The chart passes `helm lint --strict`, and every object it renders, for every value set, is
valid for the Kubernetes versions Minikube users run (strict: unknown fields fail) and, for
Prometheus Operator objects, for their CRD schemas."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import kubernetes_validate
import pytest

import render as helm_render
from conftest import (
    CHART,
    KUBE_VERSIONS,
    KUBERNETES,
    VALUE_SET_NAMES,
    render,
    validate_crd_objects,
    value_set,
)


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
@pytest.mark.parametrize("kube_version", [f"v{v}" for v in KUBE_VERSIONS])
def test_lint_strict(name: str, kube_version: str) -> None:
    assert helm_render.lint(CHART, value_set(name), kube_version) == []


def test_lint_reports_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "microservices"
    shutil.copytree(CHART, broken)
    (broken / "templates" / "broken.yaml").write_text("{{ if .Values.orderApi }}\nkind: x\n")
    assert helm_render.lint(broken, {}, f"v{KUBE_VERSIONS[0]}"), "lint accepted an unterminated {{ if }}"


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def test_the_kubernetes_versions_are_every_minor_the_minikube_path_runs() -> None:
    """From the oldest `make minikube-start` starts (versions.env KUBERNETES_VERSION, the default
    of the oldest minikube supported) to the newest kubernetes-validate has schemas for, with no
    gap; and 1.35, in upstream support until 2027-02-28 (minikube 1.38's default), among them."""
    versions_env = (KUBERNETES.parents[2] / "versions.env").read_text()
    oldest = re.search(r"^KUBERNETES_VERSION=(\S+)$", versions_env, re.MULTILINE)
    assert oldest, "versions.env has no KUBERNETES_VERSION"
    newest = kubernetes_validate.utils.latest_version()
    expected = list(range(_minor(oldest[1]), _minor(newest) + 1))
    assert [_minor(v) for v in KUBE_VERSIONS] == expected, f"{KUBE_VERSIONS} != 1.{expected}"
    assert 35 in expected


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_every_object_is_valid_kubernetes(name: str) -> None:
    release = render(value_set(name))
    failures = []
    for kube_version in KUBE_VERSIONS:
        for obj in release.objects:
            if obj["apiVersion"].startswith("monitoring.coreos.com/"):
                continue
            try:
                kubernetes_validate.validate(obj, kube_version, strict=True)
            except kubernetes_validate.ValidationError as err:
                failures.append(f"{kube_version} {obj['kind']}/{obj['metadata']['name']}: {err.message}")
    assert not failures, "\n".join(failures)


def test_strict_validation_rejects_an_unknown_field(default_release) -> None:
    deployment = copy.deepcopy(default_release.get("Deployment", "order-api"))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_prometheus_operator_objects_match_their_crd_schemas(name: str) -> None:
    release = render(value_set(name))
    objects = [o for o in release.objects if o["apiVersion"].startswith("monitoring.coreos.com/")]
    failures = [r for r in validate_crd_objects(objects) if r["error"]]
    assert not failures, failures


def test_crd_validator_rejects_bad_objects(default_release) -> None:
    monitor = copy.deepcopy(default_release.get("ServiceMonitor", "order-api"))
    monitor["spec"]["endpoints"][0]["interval"] = "15 seconds"
    rule = copy.deepcopy(default_release.all("PrometheusRule")[0])
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    results = validate_crd_objects([monitor, rule])
    assert "interval" in (results[0]["error"] or ""), results[0]
    assert "expr" in (results[1]["error"] or ""), results[1]
