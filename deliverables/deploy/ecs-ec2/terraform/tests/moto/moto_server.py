"""Runs moto's server on loopback for scripts/checks/terraform.sh.

One shim: moto answers DescribeServices for a service without awsvpc
networking with "networkConfiguration": {}, where AWS leaves the field out;
the AWS provider (5.100) then dereferences the missing awsvpcConfiguration
and crashes. Storing None instead makes moto leave the field out, as AWS does.

And one fixture: the account already has ECS's service-linked role, as every
account that ever ran ECS does, so modules/ecs-cluster finds it and runs no
AWS CLI (which would leave loopback). The path that creates it is covered by
tests/ecs_cluster.tftest.hcl.

Usage: moto_server.py PORT
"""

import json
import sys

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecs import models
from moto.iam.models import iam_backends
from moto.server import main

_service_init = models.Service.__init__


def _service_init_without_empty_network(self, *args, **kwargs):
    _service_init(self, *args, **kwargs)
    if not self.network_configuration:
        self.network_configuration = None


models.Service.__init__ = _service_init_without_empty_network


def _add_ecs_service_linked_role():
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}}],
    }
    iam_backends[DEFAULT_ACCOUNT_ID]["aws"].create_role(
        "AWSServiceRoleForECS",
        json.dumps(trust),
        "/aws-service-role/ecs.amazonaws.com/",
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration="3600",
        linked_service="ecs.amazonaws.com",
    )


if __name__ == "__main__":
    _add_ecs_service_linked_role()
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
