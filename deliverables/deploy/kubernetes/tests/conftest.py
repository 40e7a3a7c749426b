"""Shared helpers for the chart tests: rendering with Helm's engine, parsing, lookups.

Run through scripts/checks/helm.sh, which installs the pinned tools first.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate.utils
import pytest
import yaml

import render as helm_render

TESTS = Path(__file__).resolve().parent
KUBERNETES = TESTS.parent
CHART = KUBERNETES / "charts" / "microservices"
VALUE_SETS = TESTS / "values"
FIXTURE_FILES = TESTS / "fixtures" / "files"
MONITORING_API = "monitoring.coreos.com/v1"
NAMESPACE = "orders"
# Kubernetes versions Minikube users run: every minor from the oldest `make minikube-start` starts
# (versions.env KUBERNETES_VERSION: minikube 1.35's default, 1.32) to the newest
# kubernetes-validate has schemas for (1.37); test_validation.py checks this list against both.
KUBE_VERSIONS = ["1.32.0", "1.33.0", "1.34.0", "1.35.0", "1.36.0", "1.37.0"]

# kubernetes-validate (pinned in versions.env) reads and parses a version's _definitions.json,
# 1.3 MB, again for every object it validates. The files never change: parse each once.
# validate() looks schema_contents up in its module at every call, so the cached one is used;
# the schemas are only read. Six Kubernetes versions then take a fraction of what three did.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)

# Every value set the suite renders: "defaults" plus one file per scenario in values/.
VALUE_SET_NAMES = ["defaults"] + sorted(p.stem for p in VALUE_SETS.glob("*.yaml"))


def value_set(name: str) -> dict[str, Any]:
    if name == "defaults":
        return {}
    return yaml.safe_load((VALUE_SETS / f"{name}.yaml").read_text()) or {}


@dataclass
class Release:
    """One rendered release: its objects and its NOTES.txt."""

    objects: list[dict[str, Any]]
    notes: str

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}: {self.names()}"
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(o["metadata"]["name"] == name for o in self.all(kind))

    def names(self) -> list[str]:
        return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in self.objects)

    def pod_specs(self) -> list[tuple[str, dict[str, Any]]]:
        """(object name, pod spec) for every Deployment, Job and Pod."""
        specs = []
        for o in self.objects:
            if o["kind"] in ("Deployment", "Job"):
                specs.append((f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]))
            elif o["kind"] == "Pod":
                specs.append((f"Pod/{o['metadata']['name']}", o["spec"]))
        return specs

    def pod_labels(self) -> dict[str, dict[str, str]]:
        """Pod labels of every workload, by object name."""
        labels = {}
        for o in self.objects:
            if o["kind"] in ("Deployment", "Job"):
                labels[o["metadata"]["name"]] = o["spec"]["template"]["metadata"]["labels"]
            elif o["kind"] == "Pod":
                labels[o["metadata"]["name"]] = o["metadata"]["labels"]
        return labels


def _render(values: dict[str, Any], chart: Path, monitoring_api: bool, revision: int) -> Release:
    manifests = helm_render.render(
        chart,
        values,
        namespace=NAMESPACE,
        api_versions=[MONITORING_API] if monitoring_api else None,
        revision=revision,
    )
    return _release(manifests)


def _release(manifests: dict[str, str]) -> Release:
    objects: list[dict[str, Any]] = []
    notes = ""
    for path, text in manifests.items():
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return Release(objects, notes)


@functools.cache
def _render_chart(values_json: str, monitoring_api: bool, revision: int) -> Release:
    return _render(json.loads(values_json), CHART, monitoring_api, revision)


def render(
    values: dict[str, Any] | None = None,
    *,
    chart: Path = CHART,
    monitoring_api: bool = True,
    revision: int = 1,
) -> Release:
    """The release as `helm install` would render it. The chart itself does not change during a
    run, so each set of values is rendered once (a third of a second each) and every caller gets
    its own copy; a copied chart (chart_with_files), which tests modify, is rendered every time."""
    if chart != CHART:
        return _render(values or {}, chart, monitoring_api, revision)
    return copy.deepcopy(_render_chart(json.dumps(values or {}, sort_keys=True), monitoring_api, revision))


def container_env(release: Release, workload: str) -> dict[str, str]:
    """The environment a workload's (first) main container gets from its ConfigMap."""
    spec = dict(release.pod_specs())[workload]
    container = spec["containers"][0]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(release.get("ConfigMap", source["configMapRef"]["name"])["data"])
    return env


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def chart_with_files(tmp_path: Path, files: Path | None) -> Path:
    """A copy of the chart whose files/ is replaced by `files` (None: an empty files/)."""
    copy = tmp_path / "microservices"
    shutil.copytree(CHART, copy, ignore=shutil.ignore_patterns("files"))
    if files is None:
        (copy / "files").mkdir()
    else:
        shutil.copytree(files, copy / "files")
    return copy


def validate_crd_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validates Prometheus Operator objects with tests/crd-validator (Node)."""
    validator = os.environ.get("CRD_VALIDATOR")
    if not validator:
        pytest.fail("CRD_VALIDATOR is not set: run the tests through scripts/checks/helm.sh")
    completed = subprocess.run(
        ["node", validator],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    assert len(results) == len(objects)
    return results


@pytest.fixture(scope="session")
def default_release() -> Release:
    return render()


@dataclass
class FakeCluster:
    """A stand-in Kubernetes API server on loopback that serves Secrets: the ones in `objects`
    (API path -> object), 404 for any other; `requested` lists the paths asked for. Enough for
    Helm's `lookup` of a Secret."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    kubeconfig: str = ""

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        self.requested.append(path)
        if path == "/api/v1":
            secrets = {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret", "verbs": ["get", "list"]}
            return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [secrets]}
        if path in self.objects:
            return 200, self.objects[path]
        return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}


@pytest.fixture
def fake_cluster() -> Iterator[FakeCluster]:
    cluster = FakeCluster()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            status, body = cluster.answer(self.path.split("?")[0])
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server_url = f"http://127.0.0.1:{server.server_address[1]}"
    cluster.kubeconfig = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": server_url}}],
            "users": [{"name": "fake", "user": {"token": "not-a-real-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": NAMESPACE}}],
            "current-context": "fake",
        }
    )
    try:
        yield cluster
    finally:
        server.shutdown()
        server.server_close()


def render_on_cluster(cluster: FakeCluster, values: dict[str, Any] | None = None, *, revision: int = 2) -> Release:
    """The release as `helm upgrade` (revision > 1) renders it against `cluster`: `lookup` asks
    its API server."""
    values = values or {}
    with helm.Config(kubeconfig_content=cluster.kubeconfig, namespace=NAMESPACE) as config, helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(values)
        manifests = config.render(
            chart, values, name=helm_render.RELEASE_NAME, namespace=NAMESPACE, revision=revision, is_install=revision == 1, is_upgrade=revision > 1
        )
    return _release(manifests)
