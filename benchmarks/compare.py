#!/usr/bin/env python3
"""`make bench-compare BASE=<revision>`: does a change cut the services' CPU per order?

Builds the release binaries of BASE (a git revision, checked out in a
temporary worktree) and of the working tree, then runs them in turns: each
round starts a fresh stack (DynamoDB Local and both services, as `make bench`
does) from one build, warms it up, loads it open loop at a fixed rate of
orders, and reads each service's CPU from /proc; then the same for the other
build, the order of the two swapped every round so that drift falls on both.

Why not two `make bench` runs: on a shared 2-core host DynamoDB Local's JVM
takes the same cores, and figures drift by 15 % or more over a day, more than
most changes are worth. A fixed rate below saturation keeps both builds doing
the same work per second, and alternating rounds show the spread. A change
is measured only when the two builds' ranges do not overlap: with no real
change, n rounds each fall that far apart by chance once in C(2n, n) / 2
(about 1 in 126 for the default 5 rounds; 1 in 10 for 3).
"""

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bench

SERVICES = ("order-api", "order-processor")


def build_base(revision, target_dir):
    """BASE's release binaries. Its own target directory starts as a copy of the
    working tree's, so only the workspace's own crates (at another path) are
    compiled again, not their dependencies."""
    worktree = Path(tempfile.mkdtemp(prefix="order-compare-"))
    subprocess.run(["git", "-C", str(bench.ROOT), "worktree", "add", "--quiet", "--detach", str(worktree), revision],
                   check=True)
    try:
        if not target_dir.exists() and (bench.APPS / "target" / "release").exists():
            target_dir.mkdir(parents=True)
            shutil.copytree(bench.APPS / "target" / "release", target_dir / "release", symlinks=True)
        bench.build_binaries("release", worktree / "starter" / "apps", target_dir)
    finally:
        subprocess.run(["git", "-C", str(bench.ROOT), "worktree", "remove", "--force", str(worktree)], check=True)


def one_round(binaries, args):
    """CPU µs per order of each service, for one fresh stack of `binaries`."""
    workdir = Path(tempfile.mkdtemp(prefix="order-compare-run-"))
    stack = bench.Stack(binaries, workdir)
    try:
        stack.start_dynamodb()
        services, _ = bench.start_services(stack)
        api_url = services["order-api"]["url"]
        bench.load(stack, api_url, "create", args.concurrency, args.warmup_seconds, args.rate)
        before = {name: bench.cpu_seconds(s["pid"]) for name, s in services.items()}
        created = bench.load(stack, api_url, "create", args.concurrency, args.seconds, args.rate)
        after = {name: bench.cpu_seconds(s["pid"]) for name, s in services.items()}
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if not created["requests"] or created["non_2xx"]:
        raise SystemExit(f"the create load failed: {created['statuses']}")
    cpu = {name: (after[name] - before[name]) * 1e6 / created["requests"] for name in SERVICES}
    cpu["both"] = sum(cpu.values())
    return cpu


def spread(values):
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


def report(base, rounds, args):
    lines = [f"CPU per order (µs), {args.rounds} alternating rounds, open loop at {args.rate} orders/s for "
             f"{args.seconds} s after {args.warmup_seconds} s; median (min–max):", "",
             f"| | base `{base}` | working tree | change of the medians | measured? |",
             "| --- | --- | --- | --- | --- |"]
    for name in (*SERVICES, "both"):
        a = [r["base"][name] for r in rounds]
        b = [r["working tree"][name] for r in rounds]
        change = (statistics.median(b) - statistics.median(a)) / statistics.median(a) * 100
        apart = max(b) < min(a) or min(b) > max(a)
        lines.append(f"| {name} | {spread(a)} | {spread(b)} | {change:+.1f} % | "
                     f"{'yes: the ranges do not overlap' if apart else 'no: within the spread'} |")
    lines += ["", f"With no real change, {args.rounds} rounds each land with their ranges apart by chance "
                  f"once in {math.comb(2 * args.rounds, args.rounds) // 2}."]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each build, alternating (at least 3)")
    parser.add_argument("--rate", type=int, default=120, help="orders a second, below the host's capacity")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup-seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32, help="most orders in flight")
    args = parser.parse_args()
    if not 3 <= args.rounds <= 20 or not 1 <= args.rate <= 10_000 or args.seconds < 1 or args.warmup_seconds < 1 \
            or not 1 <= args.concurrency <= 1024:
        parser.error("rounds 3..20, rate 1..10000, seconds and warmup-seconds >= 1, concurrency 1..1024")
    base = subprocess.run(["git", "-C", str(bench.ROOT), "rev-parse", "--short", "--verify", f"{args.base}^{{commit}}"],
                          capture_output=True, text=True)
    if base.returncode != 0:
        parser.error(f"--base {args.base!r} is not a commit of this repository")
    base = base.stdout.strip()

    subprocess.run([bench.ROOT / "scripts" / "install-tools.sh", "bench"], check=True)
    bench.build_binaries("release")
    base_target = bench.APPS / "target" / f"compare-{base}"
    build_base(base, base_target)
    binaries = {"base": f"compare-{base}/release", "working tree": "release"}

    rounds = []
    for index in range(args.rounds):
        order = ("base", "working tree") if index % 2 == 0 else ("working tree", "base")
        result = {build_name: one_round(binaries[build_name], args) for build_name in order}
        rounds.append(result)
        print(f"round {index + 1}: " + ", ".join(f"{name} {result[name]['both']:.0f} µs" for name in order), flush=True)
    print()
    print(report(base, rounds, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
