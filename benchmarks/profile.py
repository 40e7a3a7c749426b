#!/usr/bin/env python3
"""`make bench-profile`: where the services' CPU goes while they create orders.

Builds the `profiling` Cargo profile (the release build with its symbols
kept), starts the same stack as `make bench` (DynamoDB Local and both
services on free loopback ports), warms it up, then samples both services
with `perf record` (the kernel's CPU clock, 999 times a second, no call
graphs) during `orderctl load` at the benchmark's create load. Every sample
is put in one category by the function it landed in (the rules are
CATEGORIES below: crate names, kernel function names), and the report gives
each category's share of a service's CPU and its microseconds per order
(the share times the CPU per order measured from /proc over the same
window), then the functions that took the most.

The CPU per order includes perf's own sampling cost, which was not measured
apart.

Then, with perf stopped, the floor: wrk sends each service bare requests
(`GET /health/live`, through the same middleware) over as many connections
and at the same rate as the orders came, and the CPU per request is read from
/proc, less what the service spends idle over as long. An order is three HTTP exchanges for order-api (the client's request,
its DynamoDB call, its call to the processor) and two for the processor (the
gateway's call, its DynamoDB call); counting each at one bare request's cost
estimates what HTTP between two services and DynamoDB costs per order before
any work of ours. Results go to benchmarks/results/profile.{md,json}.
"""

import argparse
import collections
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench

# First match wins, in this order; kernel samples use the last three.
CATEGORIES = [
    ("JWT signature check (ECDSA P-256, aws-lc)",
     r"nistz256|ecp_|ecdsa|p256|beeu_|bn_mul|bn_sqr|bn_mod|jsonwebtoken"),
    ("AWS SDK: request signing (SigV4, SHA-256)", r"aws_sigv4|sha2::|hmac::|sha256"),
    ("AWS SDK: orchestration, endpoint, (de)serialization", r"aws_smithy|aws_sdk|aws_runtime|aws_types|aws_config"),
    ("HTTP (hyper, axum, tower, reqwest, http)", r"hyper|axum|tower|reqwest|http::|http_body|httparse"),
    ("JSON (serde)", r"serde"),
    ("tracing, metrics, rate limiter", r"tracing|metrics|opentelemetry|governor|quanta|dashmap"),
    ("async runtime (tokio, futures)", r"tokio|mio::|futures"),
    ("this project's code", r"order_api|order_common|order_processor"),
    ("memory allocation and copying", r"malloc|free|_int_|memmove|memcpy|memset|memcmp|realloc|unlink_chunk|__rust_(de)?alloc|alloc::raw_vec"),
    ("other user space (std, bytes, url, ...)", r""),
]
KERNEL_CATEGORIES = [
    ("kernel: sleeping and waking (context switches, epoll, futex)",
     r"schedul|task_switch|futex|wake|spin_unlock|irq|hrtimer|epoll|enqueue|dequeue|update_curr|pick_next|switch|idle"),
    ("kernel: loopback TCP", r"tcp|ip_|sock|skb|inet|net_|netif|dev_|loopback|napi|sendmsg|recvmsg|writev|readv|nf_|__sys_recv|__sys_send"),
    ("kernel: other (syscall entry, memory, ...)", r""),
]
TOP_FUNCTIONS = 15
# HTTP exchanges per order: order-api serves the client and calls DynamoDB and
# the processor; the processor serves order-api and calls DynamoDB.
EXCHANGES_PER_ORDER = {"order-api": 3, "order-processor": 2}
FLOOR_SECONDS = 10


def category(dso, symbol):
    rules = KERNEL_CATEGORIES if "kernel" in dso else CATEGORIES
    return next(name for name, pattern in rules if re.search(pattern, symbol))


def perf_samples(data):
    """(dso, symbol, share of the samples in %) from `perf report`."""
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,sym", "-g", "none",
         "--stdio", "--percent-limit", "0"],
        capture_output=True, text=True, check=True).stdout
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if match:
            share, dso, symbol = match.groups()
            yield dso, symbol.strip(), float(share)


def profile_service(data, cpu_us_per_order):
    """A service's categories and top functions, as shares and µs per order."""
    shares, functions = collections.Counter(), collections.Counter()
    for dso, symbol, share in perf_samples(data):
        shares[category(dso, symbol)] += share
        functions[symbol[:140]] += share
    total = sum(shares.values()) or 1
    return {
        "cpu_us_per_order": cpu_us_per_order,
        "categories": [{"category": c, "percent": v / total * 100, "us_per_order": v / total * cpu_us_per_order}
                       for c, v in shares.most_common()],
        "top_functions": [{"function": f, "percent": v / total * 100}
                          for f, v in functions.most_common(TOP_FUNCTIONS)],
    }


def bare_request_floor(services, workdir, concurrency, per_second):
    """Each service's CPU per bare request (`GET /health/live`) at the orders' pace."""
    # wrk paces each connection by a pause before every request; the pause
    # that gives `per_second` in all over `concurrency` connections.
    pace = workdir / "pace.lua"
    pace.write_text(f"function delay() return {max(1, round(concurrency * 1000 / per_second))} end\n")
    floor = {}
    for name, service in services.items():
        # What the service spends with no requests at all (order-api's
        # reconciler passes), taken off so that it is not counted once per
        # exchange below.
        before = bench.cpu_seconds(service["pid"])
        time.sleep(FLOOR_SECONDS)
        idle = bench.cpu_seconds(service["pid"]) - before
        before = bench.cpu_seconds(service["pid"])
        output = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{FLOOR_SECONDS}s", "-s", str(pace), f"{service['url']}/health/live"],
            capture_output=True, text=True, check=True).stdout
        spent = bench.cpu_seconds(service["pid"]) - before
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        if "Non-2xx" in output or not requests:
            raise SystemExit(f"the bare requests to {name} failed: {output}")
        per_request = max(0.0, spent - idle) * 1e6 / requests
        floor[name] = {"requests_per_second": requests / FLOOR_SECONDS,
                       "idle_cpu_ms_per_second": idle * 1e3 / FLOOR_SECONDS, "cpu_us_per_request": per_request,
                       "exchanges_per_order": EXCHANGES_PER_ORDER[name],
                       "cpu_us_per_order": per_request * EXCHANGES_PER_ORDER[name]}
    return floor


def escape(cell):
    """A table cell: a `|` in a Rust type would end it."""
    return cell.replace("|", "\\|")


def markdown(report):
    m = report["machine"]
    lines = [
        f"# Where the CPU goes ({report['date']})",
        "",
        f"Host: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GiB, {m['os']}, kernel {m['kernel']}; "
        f"{m['rustc']}. Load average at start: {m['load_average_at_start']:.2f}.",
        f"Load: `orderctl load --mode create`, concurrency {report['concurrency']}, {report['seconds']} s after a "
        f"{report['warmup_seconds']} s warm-up: {report['orders_per_second']:.0f} orders/s. "
        f"Sampled with `perf record -F 999 -e cpu-clock`; build: `--profile profiling` (release, symbols kept).",
    ]
    for name, service in report["services"].items():
        lines += ["", f"## {name}: {service['cpu_us_per_order']:.0f} µs of CPU per order", "",
                  "| category | share | µs per order |", "| --- | --- | --- |"]
        lines += [f"| {c['category']} | {c['percent']:.1f} % | {c['us_per_order']:.0f} |" for c in service["categories"]]
        lines += ["", "| function (self time) | share |", "| --- | --- |"]
        lines += [f"| `{escape(f['function'])}` | {f['percent']:.1f} % |" for f in service["top_functions"]]
    floor = report["floor"]
    lines += ["", "## The floor: bare HTTP exchanges at the same pace", "",
              f"wrk, {report['concurrency']} connections paced to the orders' rate, `GET /health/live` for "
              f"{FLOOR_SECONDS} s on each service, perf stopped, less the service's idle CPU over as long. Each HTTP "
              "exchange of an order counted at one bare request's CPU: what HTTP alone costs an order here, before "
              "any work of ours.", "",
              "| service | bare requests/s | µs per bare request | exchanges per order | floor µs per order | measured µs per order |",
              "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {f['requests_per_second']:.0f} | {f['cpu_us_per_request']:.0f} | {f['exchanges_per_order']} "
              f"| {f['cpu_us_per_order']:.0f} | {report['services'][name]['cpu_us_per_order']:.0f} |"
              for name, f in floor.items()]
    total_floor = sum(f["cpu_us_per_order"] for f in floor.values())
    total = sum(s["cpu_us_per_order"] for s in report["services"].values())
    lines += [f"| both | | | | **{total_floor:.0f}** | **{total:.0f}** |"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="the sampled create load")
    parser.add_argument("--warmup-seconds", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=bench.ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    if args.seconds < 1 or args.warmup_seconds < 1 or not 1 <= args.concurrency <= 1024:
        parser.error("seconds and warmup-seconds must be >= 1, concurrency 1..1024")
    load_average_at_start = os.getloadavg()[0]
    subprocess.run([bench.ROOT / "scripts" / "install-tools.sh", "bench", "profile"], check=True)
    bench.build_binaries("profiling")
    workdir = Path(tempfile.mkdtemp(prefix="order-profile-"))
    stack = bench.Stack("profiling", workdir)
    try:
        stack.start_dynamodb()
        services, _ = bench.start_services(stack)
        api_url = services["order-api"]["url"]
        bench.load(stack, api_url, "create", args.concurrency, args.warmup_seconds)
        # One recording per service: perf reports threads, not processes.
        recorders = {name: subprocess.Popen(
            ["perf", "record", "-F", "999", "-e", "cpu-clock", "-p", str(s["pid"]), "-o", str(workdir / f"{name}.data")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for name, s in services.items()}
        time.sleep(0.5)  # perf attaches to every thread before the load starts
        cpu_before = {name: bench.cpu_seconds(s["pid"]) for name, s in services.items()}
        created = bench.load(stack, api_url, "create", args.concurrency, args.seconds)
        cpu_after = {name: bench.cpu_seconds(s["pid"]) for name, s in services.items()}
        for recorder in recorders.values():
            recorder.send_signal(2)  # SIGINT: perf writes its data and exits
        for recorder in recorders.values():
            recorder.wait(timeout=60)  # its exit status after SIGINT is not 0: read what it says
            said = recorder.stderr.read()
            if "Captured and wrote" not in said:
                raise SystemExit(f"perf record failed: {said}")
        orders = created["requests"]
        if not orders or created["non_2xx"]:
            raise SystemExit(f"the create load failed: {created['statuses']}")
        cpu_us = {name: (cpu_after[name] - cpu_before[name]) * 1e6 / orders for name in services}
        floor = bare_request_floor(services, workdir, args.concurrency, created["throughput_per_second"])
        report = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup_seconds,
            "orders_per_second": created["throughput_per_second"],
            "machine": bench.machine(load_average_at_start),
            "services": {name: profile_service(workdir / f"{name}.data", cpu_us[name]) for name in services},
            "floor": floor,
        }
    finally:
        stack.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "profile.md").write_text(markdown(report))
    print(markdown(report))
    print(f"written: {args.out / 'profile.json'}, {args.out / 'profile.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
