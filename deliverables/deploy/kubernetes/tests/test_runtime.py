"""The rendered chart runs: what the pods would execute, executed here with the real programs.

DynamoDB Local (the 3.3.0 jar the image ships) starts with the Deployment's arguments and JVM
options and passes the readiness probe's own command; the table-init Job's two steps run with
the Job's ConfigMap, twice (idempotent); both services start with their ConfigMaps and answer
the probes' paths within the startup budget; the `helm test` pod's commands pass against them;
and SIGTERM stops each service cleanly within its terminationGracePeriodSeconds.

Only addresses change: Service names become 127.0.0.1 and free ports, since there is no
cluster DNS here. Every other value is the rendered one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import KUBERNETES, Release, render

ROOT = KUBERNETES.parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binaries() -> Path:
    target = os.environ.get("APPS_TARGET")
    if not target:
        pytest.fail("APPS_TARGET is not set: run the tests through scripts/checks/helm.sh")
    return Path(target)


def _container(release: Release, workload: str, init: bool = False) -> dict[str, Any]:
    spec = dict(release.pod_specs())[workload]
    return (spec["initContainers"] if init else spec["containers"])[0]


class Stack:
    """Addresses of the local stand-ins for the release's Services."""

    def __init__(self, release: Release, tmp: Path) -> None:
        self.release = release
        self.tmp = tmp
        self.ports = {"dynamodb-local": _free_port(), "order-processor": _free_port(), "order-api": _free_port()}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def localize(self, text: str) -> str:
        for service in self.ports:
            text = text.replace(f"http://{service}:8000", self.url(service))
        return text

    def env(self, config_map: str, **overrides: str) -> dict[str, str]:
        """The ConfigMap as a process environment, and nothing from ours but PATH."""
        data = self.release.get("ConfigMap", config_map)["data"]
        env = {key: self.localize(value) for key, value in data.items()}
        env.update(overrides)
        return {"PATH": os.environ["PATH"], "HOME": str(self.tmp), **env}

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def _probe_command(release: Release, port: int) -> list[str]:
    command = _container(release, "Deployment/dynamodb-local")["readinessProbe"]["exec"]["command"]
    return [part.replace("/dev/tcp/127.0.0.1/8000", f"/dev/tcp/127.0.0.1/{port}") for part in command]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except OSError:
        return 0


def _wait_until(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(render(), tmp_path_factory.mktemp("runtime"))
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture(scope="module")
def dynamodb(stack: Stack) -> Stack:
    """DynamoDB Local started exactly as the Deployment starts it, but on a free port."""
    jar_dir = subprocess.run(
        [str(ROOT / "starter/apps/scripts/dynamodb-local.sh"), "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    container = _container(stack.release, "Deployment/dynamodb-local")
    args = list(container["args"])
    args[args.index("-port") + 1] = str(stack.ports["dynamodb-local"])
    env = {"PATH": os.environ["PATH"], "HOME": str(stack.tmp)}
    env.update({e["name"]: e["value"] for e in container["env"]})
    log = (stack.tmp / "dynamodb-local.log").open("wb")
    stack.processes["dynamodb-local"] = subprocess.Popen(["java", *args], cwd=jar_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    return stack


def test_dynamodb_readiness_probe_fails_while_nothing_listens(stack: Stack) -> None:
    closed = _free_port()
    assert subprocess.run(_probe_command(stack.release, closed), capture_output=True, check=False).returncode != 0


def test_dynamodb_local_starts_with_the_chart_arguments_and_becomes_ready(dynamodb: Stack) -> None:
    probe = _probe_command(dynamodb.release, dynamodb.ports["dynamodb-local"])
    container = _container(dynamodb.release, "Deployment/dynamodb-local")
    budget = container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"]
    ready = _wait_until(lambda: subprocess.run(probe, capture_output=True, check=False).returncode == 0, budget)
    log = (dynamodb.tmp / "dynamodb-local.log").read_text(errors="replace")
    assert ready, f"the readiness probe never passed within {budget} s:\n{log[-2000:]}"
    assert dynamodb.processes["dynamodb-local"].poll() is None


@pytest.fixture(scope="module")
def tables(dynamodb: Stack) -> list[subprocess.CompletedProcess[str]]:
    """The table-init Job's steps (init container, then container), run twice."""
    assert _wait_until(
        lambda: subprocess.run(_probe_command(dynamodb.release, dynamodb.ports["dynamodb-local"]), capture_output=True, check=False).returncode == 0,
        60,
    ), "DynamoDB Local never became ready"
    orderctl = str(_binaries() / "orderctl")
    env = dynamodb.env("table-init")
    runs = []
    for _ in range(2):
        for init in (True, False):
            args = _container(dynamodb.release, "Job/table-init-1", init=init)["args"]
            runs.append(subprocess.run([orderctl, *args], env=env, capture_output=True, text=True, timeout=120, check=False))
    return runs


def test_table_init_job_creates_and_seeds_idempotently(tables: list[subprocess.CompletedProcess[str]]) -> None:
    for run in tables:
        assert run.returncode == 0, f"{run.args}: {run.stderr}"
    first_create, first_seed, second_create, second_seed = (r.stdout for r in tables)
    assert first_create.count("created, ACTIVE") == 3, first_create
    assert "product PROD001: written" in first_seed, first_seed
    assert second_create.count("already exists, ACTIVE") == 3, second_create
    assert "product PROD001: exists, stock kept" in second_seed, second_seed


@pytest.fixture(scope="module")
def services(tables: list[subprocess.CompletedProcess[str]], dynamodb: Stack) -> Stack:
    for service in ("order-processor", "order-api"):
        env = dynamodb.env(service, PORT=str(dynamodb.ports[service]), HOST="127.0.0.1")
        log = (dynamodb.tmp / f"{service}.log").open("wb")
        dynamodb.processes[service] = subprocess.Popen([str(_binaries() / service)], env=env, stdout=log, stderr=subprocess.STDOUT)
    return dynamodb


@pytest.mark.parametrize("service", ["order-processor", "order-api"])
def test_services_start_with_their_configmaps_and_pass_their_probes(services: Stack, service: str) -> None:
    container = _container(services.release, f"Deployment/{service}")
    startup = container["startupProbe"]
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    base = services.url(service)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        ok = _wait_until(lambda: _get(base + path) == 200, budget)
        log = (services.tmp / f"{service}.log").read_text(errors="replace")
        assert ok, f"{service} {probe} {path} never answered 200:\n{log[-2000:]}"


def test_helm_test_pod_commands_pass(services: Stack) -> None:
    orderctl = str(_binaries() / "orderctl")
    pod = services.release.get("Pod", "smoke-test")["spec"]
    for container in pod["initContainers"] + pod["containers"]:
        args = [services.localize(a) for a in container["args"]]
        run = subprocess.run([orderctl, *args], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=180, check=False)
        assert run.returncode == 0, f"{container['name']}: {run.stdout}\n{run.stderr}"


def test_sigterm_stops_the_services_within_the_grace_period(services: Stack) -> None:
    started = time.monotonic()
    for service in ("order-api", "order-processor"):
        services.processes[service].send_signal(signal.SIGTERM)
    for service in ("order-api", "order-processor"):
        grace = services.release.get("Deployment", service)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        code = services.processes[service].wait(timeout=grace)
        assert code == 0, f"{service} exited with {code} after SIGTERM"
        assert time.monotonic() - started < grace
