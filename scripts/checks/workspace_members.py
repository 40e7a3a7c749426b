#!/usr/bin/env python3
"""The Cargo workspace's member folders, relative to its root, one a line.

    cargo metadata --no-deps --format-version 1 | workspace_members.py

What the Docker build context must hold besides Cargo.toml and Cargo.lock
(containers.sh compares the two).
"""

import json
import os
import sys

meta = json.load(sys.stdin)
for package in meta["packages"]:
    print(os.path.relpath(os.path.dirname(package["manifest_path"]), meta["workspace_root"]))
