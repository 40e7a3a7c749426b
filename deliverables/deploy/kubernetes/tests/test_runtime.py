"""The rendered chart runs: what the pods would execute, executed here with the real programs.

DynamoDB Local (the 3.3.0 jar the image ships) starts with the Deployment's arguments and JVM
options, on a directory standing in for its volume, and passes the readiness probe's own
command; the table-init Job's two steps (its commands and ConfigMap) create and seed the tables;
order-api's `jwks` init container publishes the JWKS of the development key the chart generated
(Helm's genPrivateKey); both services start with their ConfigMaps and answer the probes' paths
within the startup budget; the `helm test` pod's commands pass against them with a token they
mint from that key, and so do tokens from the token command of NOTES.txt; SIGTERM stops each
service cleanly within its terminationGracePeriodSeconds; after a crash DynamoDB Local restarts
with its tables and stock, and the next revision's Job keeps that stock. In memory (the in-memory
value set), DynamoDB Local comes back from a crash empty and the next revision's Job brings the
tables and the products back. For an external DynamoDB, the Job's two steps run twice
(idempotent).

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
        self.job_output = ""

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

    def mounted(self, container: dict[str, Any], text: str) -> str:
        """`text` with each of the container's mount paths replaced by a directory of the test
        named after the volume (the same volume, the same directory, for every container)."""
        for mount in container.get("volumeMounts", []):
            directory = self.tmp / "volumes" / mount["name"]
            directory.mkdir(parents=True, exist_ok=True)
            text = text.replace(mount["mountPath"], str(directory))
        return text

    def dev_key_file(self) -> None:
        """The dev-issuer Secret's key, written where its volume is mounted."""
        directory = self.tmp / "volumes" / "dev-issuer"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "signing-key.pem").write_bytes(base64.b64decode(self.release.get("Secret", "dev-issuer")["data"]["signing-key.pem"]))

    def jwks_file(self) -> str:
        """order-api's `jwks` init container, run as rendered; the JWKS file it wrote."""
        self.dev_key_file()
        init = _container(self.release, "Deployment/order-api", init=True)
        assert init["name"] == "jwks"
        args = [self.mounted(init, a) for a in init["args"]]
        run = subprocess.run([str(_binaries() / "orderctl"), *args], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=30, check=False)
        assert run.returncode == 0, f"jwks: {run.stdout}\n{run.stderr}"
        path = args[args.index("--out") + 1]
        assert "/volumes/auth-jwks/" in path
        return path

    def run_job(self) -> str:
        """The table-init Job's two steps (init container, then container), as the kubelet runs
        them; their output."""
        output = ""
        for init in (True, False):
            args = _container(self.release, "Job/table-init-1", init=init)["args"]
            run = subprocess.run([str(_binaries() / "orderctl"), *args], env=self.env("table-init"), capture_output=True, text=True, timeout=120, check=False)
            assert run.returncode == 0, f"{args}: {run.stdout}\n{run.stderr}"
            output += run.stdout
        return output

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


def _seeded(url: str) -> bool:
    return _tables(url) >= TABLES and _stock(url, "PROD001") is not None and _stock(url, "PROD002") is not None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("runtime")
    running = Stack(render(), tmp)
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
    """The table-init Job, run once DynamoDB Local is ready."""
    assert _wait_until(dynamodb.dynamodb_ready, _startup_budget(dynamodb.release)), "DynamoDB Local never became ready"
    dynamodb.job_output = dynamodb.run_job()
    return dynamodb


def test_table_init_job_creates_and_seeds_the_tables(tables: Stack) -> None:
    url = tables.url("dynamodb-local")
    assert _seeded(url), tables.job_output
    assert _stock(url, "PROD001") == 100 and _stock(url, "PROD002") == 50
    assert "product PROD001: written (stock 100)" in tables.job_output


@pytest.fixture(scope="module")
def services(tables: Stack) -> Stack:
    assert _seeded(tables.url("dynamodb-local")), "no tables"
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
    """As rendered: the smoke test mints its token from the mounted development key, with the
    issuer and audience order-api (started with the init container's JWKS) expects."""
    orderctl = str(_binaries() / "orderctl")
    pod = services.release.get("Pod", "smoke-test")["spec"]
    for container in pod["initContainers"] + pod["containers"]:
        args = [services.localize(a) for a in container["args"]]
        env = {"PATH": os.environ["PATH"]}
        env.update({v["name"]: services.mounted(container, v["value"]) for v in container.get("env", [])})
        run = subprocess.run([orderctl, *args], env=env, capture_output=True, text=True, timeout=180, check=False)
        assert run.returncode == 0, f"{container['name']}: {run.stdout}\n{run.stderr}"
    assert "ORDER_API_SIGNING_KEY" in env, "the smoke container signs its own token"


def _orders_status(services: Stack, token: str, customer: str) -> int:
    request = urllib.request.Request(f"{services.url('order-api')}/orders?customer_id={customer}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


@pytest.mark.parametrize("admin", [False, True])
def test_the_token_command_of_the_notes_prints_tokens_order_api_accepts(services: Stack, admin: bool) -> None:
    """NOTES.txt's token pod, run as kubectl would: the orderctl arguments after `--`, the env of
    order-api's ConfigMap and the overrides, the key where the overrides mount it."""
    [command] = [line.strip() for line in services.release.notes.splitlines() if line.strip().startswith("TOKEN=$(kubectl")]
    overrides = json.loads(command.split("--overrides='")[1].split("'")[0])
    [container] = overrides["spec"]["containers"]
    args = command.removesuffix(")").split(" -- ", 1)[1].split() + (["--admin"] if admin else [])
    env = services.env(container["envFrom"][0]["configMapRef"]["name"])
    env.update({v["name"]: services.mounted(container, v["value"]) for v in container["env"]})
    run = subprocess.run([str(_binaries() / "orderctl"), *args], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 0, run.stderr
    token = run.stdout.strip()
    assert _orders_status(services, token, "CUST001") == 200
    # A customer sees only their own orders; an admin anyone's.
    assert _orders_status(services, token, "CUST002") == (200 if admin else 403)
    assert _orders_status(services, token + "x", "CUST001") == 401, "order-api checks the signature"


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
    # The next revision's Job (a `helm upgrade`) keeps the stock the orders took.
    again = services.run_job()
    assert "product PROD001: exists, stock kept" in again, again
    assert _stock(url, "PROD001") == stock


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(render(value_set("in-memory")), tmp_path_factory.mktemp("in-memory"))
    try:
        yield running
    finally:
        running.stop_all()


def test_in_memory_dynamodb_local_gets_its_tables_back_from_the_next_job(in_memory: Stack) -> None:
    stack = in_memory
    url = stack.url("dynamodb-local")
    assert "-inMemory" in _container(stack.release, "Deployment/dynamodb-local")["args"]

    # Before DynamoDB Local answers, the Job's first step fails (the kubelet then restarts it).
    args = _container(stack.release, "Job/table-init-1", init=True)["args"]
    early = subprocess.run([str(_binaries() / "orderctl"), *args], env=stack.env("table-init"), capture_output=True, text=True, timeout=120, check=False)
    assert early.returncode != 0, early.stdout

    stack.start_dynamodb()
    assert _wait_until(stack.dynamodb_ready, _startup_budget(stack.release)), stack.log("dynamodb-local")[-2000:]
    stack.run_job()
    assert _seeded(url) and _stock(url, "PROD001") == 100

    # A crash: DynamoDB Local comes back empty; the next revision's Job brings the tables back.
    stack.crash_dynamodb()
    stack.start_dynamodb()
    assert _wait_until(stack.dynamodb_ready, _startup_budget(stack.release)), stack.log("dynamodb-local")[-2000:]
    assert _tables(url) == set(), "in memory: empty after a restart"
    stack.run_job()
    assert _seeded(url) and _stock(url, "PROD001") == 100, "a new inventory table is seeded afresh"


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
