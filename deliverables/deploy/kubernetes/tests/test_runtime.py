"""The rendered chart runs: what the pods would execute, executed here with the real programs.

DynamoDB Local (the 3.3.0 jar the image ships) starts with the Deployment's arguments and JVM
options, on a directory standing in for its volume, and passes the readiness probe's own
command; the table keeper (the table-keeper Deployment's command and ConfigMap) creates and
seeds the tables; both services start with their ConfigMaps and answer the probes' paths within
the startup budget; the `helm test` pod's commands pass against them; SIGTERM stops each service
cleanly within its terminationGracePeriodSeconds; after a crash DynamoDB Local restarts with its
tables and stock. In memory (the in-memory value set), DynamoDB Local comes back from a crash
empty and the keeper brings the tables and the products back, never resetting stock that
survived. For an external DynamoDB, the table-init Job's two steps run twice (idempotent).

Only addresses and mounts change: Service names become 127.0.0.1 and free ports, since there
is no cluster DNS here (the management ports get free ports too: both services share one host);
the volumes become a directory and files. Every other value is the rendered one. Waits poll
with a deadline; none sleeps a fixed time.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import KUBERNETES, Release, render, value_set

ROOT = KUBERNETES.parents[2]
TABLES = {"orders", "inventory", "reservations"}
DATA_MOUNT = "/home/dynamodblocal/data"


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


def _wait_until(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _dynamodb_call(url: str, operation: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """One DynamoDB API call; None when DynamoDB does not answer or refuses the request. DynamoDB
    Local checks that a request is signed, not the signature (the readiness probe relies on it)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result
    except (OSError, urllib.error.HTTPError):
        return None


def _tables(url: str) -> set[str]:
    answer = _dynamodb_call(url, "ListTables", {})
    return set(answer["TableNames"]) if answer else set()


def _stock(url: str, product: str) -> int | None:
    answer = _dynamodb_call(url, "GetItem", {"TableName": "inventory", "Key": {"product_id": {"S": product}}})
    return int(answer["Item"]["stock"]["N"]) if answer and "Item" in answer else None


class Stack:
    """Addresses of the local stand-ins for the release's Services, and their processes."""

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

    def jwks_file(self) -> str:
        """order-api's JWKS ConfigMap, written where the test reads it (the pod mounts it)."""
        path = self.tmp / "jwks.json"
        path.write_text(self.release.get("ConfigMap", "order-api-jwks")["data"]["jwks.json"])
        return str(path)

    def processor_tokens_file(self) -> str:
        """The processor-auth Secret's key `tokens`, written where the test reads it (both pods
        mount it)."""
        path = self.tmp / "processor-tokens"
        path.write_bytes(base64.b64decode(self.release.get("Secret", "processor-auth")["data"]["tokens"]))
        return str(path)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def start(self, name: str, command: list[str], env: dict[str, str], cwd: str | None = None) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def start_dynamodb(self) -> None:
        """DynamoDB Local started exactly as the Deployment starts it, on a free port; the
        volume, when the chart mounts one, is a directory that outlives the process."""
        jar_dir = subprocess.run(
            [str(ROOT / "starter/apps/scripts/dynamodb-local.sh"), "dir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        container = _container(self.release, "Deployment/dynamodb-local")
        args = list(container["args"])
        args[args.index("-port") + 1] = str(self.ports["dynamodb-local"])
        if "-dbPath" in args:
            assert args[args.index("-dbPath") + 1] == DATA_MOUNT
            data = self.tmp / "volume"
            data.mkdir(exist_ok=True)
            args[args.index("-dbPath") + 1] = str(data)
        env = {"PATH": os.environ["PATH"], "HOME": str(self.tmp)}
        env.update({e["name"]: e["value"] for e in container["env"]})
        self.start("dynamodb-local", ["java", *args], env, cwd=jar_dir)

    def crash_dynamodb(self) -> None:
        process = self.processes["dynamodb-local"]
        process.kill()
        process.wait()

    def dynamodb_ready(self) -> bool:
        probe = _probe_command(self.release, self.ports["dynamodb-local"])
        return subprocess.run(probe, capture_output=True, check=False).returncode == 0

    def start_keeper(self) -> None:
        args = _container(self.release, "Deployment/table-keeper")["args"]
        self.start("table-keeper", [str(_binaries() / "orderctl"), *args], self.env("table-keeper"))

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


def _startup_budget(release: Release) -> int:
    startup = _container(release, "Deployment/dynamodb-local")["startupProbe"]
    return int(startup["periodSeconds"] * startup["failureThreshold"])


def _keeper_interval(release: Release) -> int:
    args = _container(release, "Deployment/table-keeper")["args"]
    return int(args[args.index("--watch") + 1])


def _seeded(url: str) -> bool:
    return _tables(url) >= TABLES and _stock(url, "PROD001") is not None and _stock(url, "PROD002") is not None


def _stop_keeper(stack: Stack) -> str:
    """SIGTERM, as the kubelet sends it: the keeper exits cleanly, well within the grace period."""
    keeper = stack.processes["table-keeper"]
    keeper.send_signal(signal.SIGTERM)
    assert keeper.wait(timeout=10) == 0
    return stack.log("table-keeper")


def _dev_key(tmp: Path) -> dict[str, Any]:
    """A development key made as `make helm-install` makes it, and the values it passes."""
    subprocess.run([str(_binaries() / "orderctl"), "keygen", "--dir", str(tmp / "auth")], check=True, capture_output=True)
    return {"orderApi": {"auth": {"jwks": (tmp / "auth" / "jwks.json").read_text()}}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("runtime")
    running = Stack(render(_dev_key(tmp)), tmp)
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture(scope="module")
def dynamodb(stack: Stack) -> Stack:
    stack.start_dynamodb()
    return stack


def test_dynamodb_readiness_probe_fails_while_nothing_listens(stack: Stack) -> None:
    closed = _free_port()
    assert subprocess.run(_probe_command(stack.release, closed), capture_output=True, check=False).returncode != 0


def test_dynamodb_local_starts_with_the_chart_arguments_and_becomes_ready(dynamodb: Stack) -> None:
    budget = _startup_budget(dynamodb.release)
    ready = _wait_until(dynamodb.dynamodb_ready, budget)
    assert ready, f"the readiness probe never passed within {budget} s:\n{dynamodb.log('dynamodb-local')[-2000:]}"
    assert dynamodb.processes["dynamodb-local"].poll() is None
    assert list((dynamodb.tmp / "volume").glob("*.db")), "by default the tables are written to the volume"


@pytest.fixture(scope="module")
def tables(dynamodb: Stack) -> Stack:
    """The table keeper, started as its Deployment starts it, once DynamoDB Local is ready."""
    assert _wait_until(dynamodb.dynamodb_ready, _startup_budget(dynamodb.release)), "DynamoDB Local never became ready"
    dynamodb.start_keeper()
    return dynamodb


def test_table_keeper_creates_and_seeds_the_tables(tables: Stack) -> None:
    url = tables.url("dynamodb-local")
    assert _wait_until(lambda: _seeded(url), 30), f"no tables:\n{tables.log('table-keeper')}"
    assert _stock(url, "PROD001") == 100 and _stock(url, "PROD002") == 50
    assert _tables(url) >= TABLES
    assert tables.processes["table-keeper"].poll() is None, "the keeper keeps running"


@pytest.fixture(scope="module")
def services(tables: Stack) -> Stack:
    assert _wait_until(lambda: _seeded(tables.url("dynamodb-local")), 30), "no tables"
    for service in ("order-processor", "order-api"):
        env = tables.env(
            service,
            PORT=str(tables.ports[service]),
            HOST="127.0.0.1",
            MANAGEMENT_PORT=str(_free_port()),
            PROCESSOR_TOKENS_FILE=tables.processor_tokens_file(),
        )
        if service == "order-api":
            env["AUTH_JWKS_FILE"] = tables.jwks_file()
        tables.start(service, [str(_binaries() / service)], env)
    return tables


@pytest.mark.parametrize("service", ["order-processor", "order-api"])
def test_services_start_with_their_configmaps_and_pass_their_probes(services: Stack, service: str) -> None:
    container = _container(services.release, f"Deployment/{service}")
    startup = container["startupProbe"]
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    base = services.url(service)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        ok = _wait_until(lambda: _get(base + path) == 200, budget)
        assert ok, f"{service} {probe} {path} never answered 200:\n{services.log(service)[-2000:]}"


def test_helm_test_pod_commands_pass(services: Stack) -> None:
    orderctl = str(_binaries() / "orderctl")
    pod = services.release.get("Pod", "smoke-test")["spec"]
    # The token `make helm-test` mints with the development key and stores in the Secret.
    token = subprocess.run(
        [orderctl, "token", "--customer", "CUST001", "--ttl", "15m", "--signing-key", str(services.tmp / "auth" / "signing-key.pem")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    # The Secret's file, where the test reads it (the pod mounts it).
    token_file = services.tmp / "token"
    token_file.write_text(token + "\n")
    for container in pod["initContainers"] + pod["containers"]:
        args = [services.localize(a) for a in container["args"]]
        env = {"PATH": os.environ["PATH"]}
        for variable in container.get("env", []):
            assert variable == {"name": "ORDER_API_TOKEN_FILE", "value": "/var/run/secrets/order-api-test/token"}
            env[variable["name"]] = str(token_file)
        run = subprocess.run([orderctl, *args], env=env, capture_output=True, text=True, timeout=180, check=False)
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


def test_persistent_dynamodb_local_keeps_tables_and_stock_across_a_crash(services: Stack) -> None:
    url = services.url("dynamodb-local")
    stock = _stock(url, "PROD001")
    assert stock is not None and stock < 100, "the smoke test took stock"
    orders = _dynamodb_call(url, "Scan", {"TableName": "orders", "Select": "COUNT"})
    assert orders and orders["Count"] > 0
    services.crash_dynamodb()
    assert _tables(url) == set()
    services.start_dynamodb()
    assert _wait_until(services.dynamodb_ready, _startup_budget(services.release)), services.log("dynamodb-local")[-2000:]
    assert _tables(url) >= TABLES
    assert _stock(url, "PROD001") == stock
    assert _dynamodb_call(url, "Scan", {"TableName": "orders", "Select": "COUNT"}) == orders
    log = _stop_keeper(services)
    # Seeded once, at the first start: the restart left stock alone. (Not counted: "created"
    # lines; see the in-memory test.)
    assert log.count("product PROD001: ") == 1, f"seeded again after the restart:\n{log}"


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # A one-second keeper: the default (10 s) would only make this test wait longer.
    values = {**value_set("in-memory"), "tableInit": {"watchSeconds": 1}}
    running = Stack(render(values), tmp_path_factory.mktemp("in-memory"))
    try:
        yield running
    finally:
        running.stop_all()


def test_in_memory_dynamodb_local_comes_back_from_a_crash_with_its_tables(in_memory: Stack) -> None:
    stack = in_memory
    url = stack.url("dynamodb-local")
    deadline = _keeper_interval(stack.release) + 30
    assert "-inMemory" in _container(stack.release, "Deployment/dynamodb-local")["args"]

    # The keeper starts first and waits, quietly, for DynamoDB Local.
    stack.start_keeper()
    assert _wait_until(lambda: "waiting for DynamoDB" in stack.log("table-keeper"), 30), stack.log("table-keeper")
    stack.start_dynamodb()
    assert _wait_until(lambda: _seeded(url), _startup_budget(stack.release) + deadline), stack.log("table-keeper")
    assert _stock(url, "PROD001") == 100

    # Orders took stock; then one table went missing: it comes back, the stock stays.
    assert _dynamodb_call(url, "UpdateItem", {"TableName": "inventory", "Key": {"product_id": {"S": "PROD001"}}, "UpdateExpression": "SET stock = :s", "ExpressionAttributeValues": {":s": {"N": "42"}}}) is not None
    assert _dynamodb_call(url, "DeleteTable", {"TableName": "orders"}) is not None
    assert _wait_until(lambda: "orders" in _tables(url), deadline), stack.log("table-keeper")
    assert _stock(url, "PROD001") == 42, "stock in a table that survived is never reset"

    # A crash: DynamoDB Local comes back empty, and the keeper brings the tables back, seeded.
    stack.crash_dynamodb()
    stack.start_dynamodb()
    assert _wait_until(stack.dynamodb_ready, _startup_budget(stack.release)), stack.log("dynamodb-local")[-2000:]
    assert _wait_until(lambda: _seeded(url), deadline), f"the tables never came back:\n{stack.log('table-keeper')}"
    assert _stock(url, "PROD001") == 100, "a new inventory table is seeded afresh"

    log = _stop_keeper(stack)
    # Seeded after each start of DynamoDB Local, not when only the orders table was missing. (Not
    # counted: "created" lines. A CreateTable whose answer a just-started DynamoDB Local is too
    # slow to send is retried by the SDK and reported "already exists".)
    assert log.count("product PROD001: ") == 2, log
    # Quiet: one line when DynamoDB goes away (before its first start, perhaps during the
    # restart), not one per check.
    assert 1 <= log.count("waiting for DynamoDB") <= 2, log
    assert "DynamoDB answers again" in log, log


def test_table_init_job_for_an_external_dynamodb_is_idempotent(dynamodb: Stack) -> None:
    """The Job's two steps (init container, then container), twice, against a DynamoDB outside
    the release (here the DynamoDB Local above, under other table names)."""
    tables = {"orders": "ext-orders", "inventory": "ext-inventory", "reservations": "ext-reservations"}
    release = render({"dynamodb": {"enabled": False, "endpoint": "http://dynamodb-shared:8000", "tables": tables}})
    assert _wait_until(dynamodb.dynamodb_ready, _startup_budget(dynamodb.release)), "DynamoDB Local never became ready"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(dynamodb.tmp),
        **release.get("ConfigMap", "table-init")["data"],
        "DYNAMODB_ENDPOINT": dynamodb.url("dynamodb-local"),
    }
    orderctl = str(_binaries() / "orderctl")
    runs = []
    for _ in range(2):
        for init in (True, False):
            args = _container(release, "Job/table-init-1", init=init)["args"]
            runs.append(subprocess.run([orderctl, *args], env=env, capture_output=True, text=True, timeout=120, check=False))
    for run in runs:
        assert run.returncode == 0, f"{run.args}: {run.stderr}"
    first_create, first_seed, second_create, second_seed = (r.stdout for r in runs)
    # ", ACTIVE" either way: a CreateTable retried on a busy machine says "already exists".
    assert first_create.count(", ACTIVE") == 3, first_create
    assert "product PROD001: written" in first_seed, first_seed
    assert second_create.count("already exists, ACTIVE") == 3, second_create
    assert "product PROD001: exists, stock kept" in second_seed, second_seed
