#!/usr/bin/env python3
"""The compose file's dynamodb service, as containers.sh runs it outside Compose.

    compose_dynamodb.py COMPOSE_FILE command   its command, one argument a line
    compose_dynamodb.py COMPOSE_FILE probe     its health check's bash script
                                               ($$ unescaped to $); fails unless
                                               the test is ["CMD", "bash", "-c", ...]
    compose_dynamodb.py COMPOSE_FILE timeout   its health check's timeout in seconds

containers.sh runs that health check against the real DynamoDB Local.
"""

import sys

import yaml

path, what = sys.argv[1:3]
with open(path) as f:
    svc = yaml.safe_load(f)["services"]["dynamodb"]
if what == "command":
    for arg in svc["command"]:
        print(arg)
elif what == "probe":
    test = svc["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"], test
    print(test[3].replace("$$", "$"))
elif what == "timeout":
    print(svc["healthcheck"]["timeout"].rstrip("s"))
else:
    sys.exit(__doc__)
