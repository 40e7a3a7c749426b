"""Runs moto's server on loopback for scripts/checks/terraform.sh.

One shim: moto answers DescribeServices for a service without awsvpc
networking with "networkConfiguration": {}, where AWS leaves the field out;
the AWS provider (5.100) then dereferences the missing awsvpcConfiguration
and crashes. Storing None instead makes moto leave the field out, as AWS does.

Usage: moto_server.py PORT
"""

import sys

from moto.ecs import models
from moto.server import main

_service_init = models.Service.__init__


def _service_init_without_empty_network(self, *args, **kwargs):
    _service_init(self, *args, **kwargs)
    if not self.network_configuration:
        self.network_configuration = None


models.Service.__init__ = _service_init_without_empty_network

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
