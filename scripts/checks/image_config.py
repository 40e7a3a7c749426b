#!/usr/bin/env python3
"""A runtime image's configuration, as `buildah inspect --type image` prints it.

    image_config.py BINARY USER INSPECT_JSON

User USER, entrypoint /BINARY, the OCI labels (title BINARY); for the two
services also the exec-form health check `/BINARY healthcheck`, port 8000/tcp
exposed and PORT=8000 set; orderctl has neither. Prints each difference as
"FAIL: BINARY: text" on stderr; exits 1 if there is any. Used by containers.sh.
"""

import json
import sys

binary, user, path = sys.argv[1:4]
with open(path) as f:
    config = json.load(f)["Docker"]["config"]
service = binary != "orderctl"
problems = []


def want(what, got, expected):
    if got != expected:
        problems.append(f"{what}: got {got!r}, want {expected!r}")


want("User", config.get("User"), user)
want("Entrypoint", config.get("Entrypoint"), [f"/{binary}"])
health = (config.get("Healthcheck") or {}).get("Test")
want("Healthcheck", health, ["CMD", f"/{binary}", "healthcheck"] if service else None)
want("ExposedPorts", sorted(config.get("ExposedPorts") or {}), ["8000/tcp"] if service else [])
if service:
    want("PORT", "PORT=8000" in config.get("Env", []), True)
labels = config.get("Labels") or {}
for label in ("source", "revision", "version", "title", "description", "licenses"):
    if f"org.opencontainers.image.{label}" not in labels:
        problems.append(f"label org.opencontainers.image.{label} is missing")
want("title label", labels.get("org.opencontainers.image.title"), binary)
for text in problems:
    print(f"FAIL: {binary}: {text}", file=sys.stderr)
sys.exit(1 if problems else 0)
