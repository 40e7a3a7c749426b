#!/usr/bin/env python3
"""What the compose specification cannot say: the project's rules for its stack.

    compose_policy.py COMPOSE_FILE

Every service read-only, all capabilities dropped, no-new-privileges, CPU,
memory and pids limits, restart unless-stopped (services) or "no" (one-shot
jobs, each waited for by a long-running service), built images never pulled,
other images pinned to a version tag, a health check on every long-running
service, ports bound to 127.0.0.1, dependencies, bind mounts and named volumes
that exist, and the assessment's ports (order-api 8001, order-processor 8002,
both 8000 inside). Prints each problem as "FAIL: service: text" on stderr and
a one-line count; exits 1 if there is any. Used by containers.sh.
"""

import os
import re
import sys

import yaml

path = sys.argv[1]
base = os.path.dirname(path)
with open(path) as f:
    compose = yaml.safe_load(f)
services = compose["services"]
problems = []


def problem(service, text):
    problems.append(f"{service}: {text}")


for name, svc in services.items():
    one_shot = svc.get("restart") == "no"
    if svc.get("read_only") is not True:
        problem(name, "read_only must be true")
    if "ALL" not in svc.get("cap_drop", []):
        problem(name, "cap_drop must contain ALL")
    if "no-new-privileges:true" not in svc.get("security_opt", []):
        problem(name, "security_opt must contain no-new-privileges:true")
    limits = svc.get("deploy", {}).get("resources", {}).get("limits", {})
    for key in ("cpus", "memory", "pids"):
        if key not in limits:
            problem(name, f"deploy.resources.limits.{key} is missing")
    if svc.get("restart") not in ("no", "unless-stopped"):
        problem(name, "restart must be unless-stopped (services) or \"no\" (one-shot jobs)")
    if "build" in svc:
        if svc.get("pull_policy") != "build":
            problem(name, "a built image needs pull_policy: build (never pulled by its name)")
    else:
        image = svc.get("image", "")
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        if not tag or tag == "latest":
            problem(name, f"image {image!r} must be pinned to a version tag")
    if not one_shot:
        test = svc.get("healthcheck", {}).get("test")
        if not test or test[0] != "CMD":
            problem(name, "a long-running service needs a healthcheck (exec form: CMD ...)")
    for port in svc.get("ports", []):
        if not str(port).startswith("127.0.0.1:"):
            problem(name, f"port {port} must be bound to 127.0.0.1")
    for dependency, spec in svc.get("depends_on", {}).items():
        if dependency not in services:
            problem(name, f"depends on unknown service {dependency}")
            continue
        condition = spec.get("condition")
        target = services[dependency]
        if condition == "service_completed_successfully" and target.get("restart") != "no":
            problem(name, f"waits for {dependency} to complete, but it is not a one-shot job")
        if condition == "service_healthy" and "healthcheck" not in target:
            problem(name, f"waits for {dependency} to be healthy, but it has no healthcheck")
    for volume in svc.get("volumes", []):
        source = volume.split(":", 1)[0]
        if source.startswith((".", "/")):
            if not os.path.exists(os.path.join(base, source)):
                problem(name, f"bind mount source {source} does not exist")
        elif source not in (compose.get("volumes") or {}):
            problem(name, f"named volume {source} is not declared")

# `docker compose up --wait` counts a one-shot job that exited 0 as a failure
# unless a long-running service waits for it with service_completed_successfully
# (docker/compose#10596).
for name, svc in services.items():
    if svc.get("restart") != "no":
        continue
    adopted = any(
        other.get("restart") != "no"
        and (other.get("depends_on") or {}).get(name, {}).get("condition") == "service_completed_successfully"
        for other in services.values()
    )
    if not adopted:
        problem(name, "one-shot job: no long-running service waits for it (service_completed_successfully), so `up --wait` would fail")

# The assessment's contract: order-api on host port 8001, order-processor on
# 8002, both listening on 8000 in their containers.
for name, host_port in (("order-api", "8001"), ("order-processor", "8002")):
    ports = services.get(name, {}).get("ports", [])
    if not any(re.fullmatch(r"127\.0\.0\.1:\$\{[A-Z_]+:-" + host_port + r"\}:8000", p) for p in ports):
        problem(name, f"must publish container port 8000 on host port {host_port}, got {ports}")

for text in problems:
    print("FAIL:", text, file=sys.stderr)
print(f"compose policy: {len(services)} services, {len(problems)} problems")
sys.exit(1 if problems else 0)
