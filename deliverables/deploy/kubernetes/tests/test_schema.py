"""values.schema.json (and the chart's own checks) refuse bad values with a message naming them,
before anything reaches a cluster."""

from __future__ import annotations

import json
from typing import Any

import helm_python as helm
import pytest

from conftest import CHART, VALUE_SET_NAMES, render, value_set

# (values, a fragment the error must contain): typos, wrong types, out-of-range numbers,
# values that make no sense together.
BAD_VALUES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown top-level key", {"replicaCount": 2}, "replicaCount"),
    ("misspelt nested key", {"orderApi": {"replicas": 2}}, "replicas"),
    ("misspelt deep key", {"dynamodb": {"persistence": {"enable": True}}}, "enable"),
    ("string for a boolean", {"dynamodb": {"enabled": "false"}}, "/dynamodb/enabled"),
    ("string for an integer", {"orderApi": {"replicaCount": "2"}}, "/orderApi/replicaCount"),
    ("zero replicas", {"orderApi": {"replicaCount": 0}}, "/orderApi/replicaCount"),
    ("port out of range", {"orderApi": {"service": {"port": 70000}}}, "/orderApi/service/port"),
    ("node port out of range", {"orderApi": {"service": {"nodePort": 8080}}}, "nodePort"),
    ("unknown service type", {"orderApi": {"service": {"type": "Ingress"}}}, "/orderApi/service/type"),
    ("processor service type", {"orderProcessor": {"service": {"type": "NodePort"}}}, "type"),
    ("pull policy typo", {"image": {"pullPolicy": "IfNotPresnt"}}, "/image/pullPolicy"),
    ("latest DynamoDB Local", {"dynamodb": {"image": {"tag": "latest"}}}, "/dynamodb/image/tag"),
    ("latest app image", {"image": {"tag": "latest"}}, "/image/tag"),
    ("memory not a quantity", {"orderApi": {"resources": {"limits": {"memory": "lots"}}}}, "memory"),
    ("issuer with a space", {"orderApi": {"auth": {"issuer": "my issuer"}}}, "/orderApi/auth/issuer"),
    ("JWKS URL not a URL", {"orderApi": {"auth": {"jwksUrl": "issuer.example.com/jwks"}}}, "jwksUrl"),
    ("empty audience", {"orderApi": {"auth": {"audience": ""}}}, "/orderApi/auth/audience"),
    ("token Secret not a name", {"tests": {"tokenSecret": "Token_Secret"}}, "/tests/tokenSecret"),
    ("no memory limit", {"orderApi": {"resources": {"limits": {"memory": None, "cpu": "1"}}}}, "memory"),
    ("storage size in GB", {"dynamodb": {"persistence": {"size": "1GB"}}}, "size"),
    ("bad access mode", {"dynamodb": {"persistence": {"accessModes": ["RWO"]}}}, "accessModes"),
    ("interval without unit", {"metrics": {"serviceMonitor": {"interval": "15"}}}, "interval"),
    ("bad log format", {"config": {"logFormat": "text"}}, "/config/logFormat"),
    ("endpoint not a URL", {"dynamodb": {"enabled": False, "endpoint": "dynamodb:8000"}}, "endpoint"),
    ("bad region", {"dynamodb": {"region": "Europe"}}, "/dynamodb/region"),
    ("short table name", {"dynamodb": {"tables": {"orders": "o"}}}, "/dynamodb/tables/orders"),
    ("attempts out of range", {"dynamodb": {"client": {"maxAttempts": 0}}}, "maxAttempts"),
    ("reconciler never gives up", {"orderApi": {"reconciler": {"maxAttempts": 0}}}, "/orderApi/reconciler/maxAttempts"),
    ("reconciler age over a week", {"orderApi": {"reconciler": {"maxAgeSeconds": 604801}}}, "/orderApi/reconciler/maxAgeSeconds"),
    ("CPU target over 100", {"orderApi": {"autoscaling": {"targetCPUUtilizationPercentage": 150}}}, "targetCPU"),
    ("bad name prefix", {"namePrefix": "Blue_"}, "namePrefix"),
    ("label value not a string", {"metrics": {"serviceMonitor": {"labels": {"release": 1}}}}, "release"),
    ("empty dashboard label", {"metrics": {"dashboards": {"labels": {"grafana_dashboard": None}}}}, "labels"),
    ("no DNS peers", {"networkPolicy": {"dnsTo": []}}, "dnsTo"),
    ("a key the chart no longer has", {"tableInit": {"watchSeconds": 10}}, "watchSeconds"),
    ("JWKS URL not a URL", {"orderApi": {"auth": {"jwksUrl": "issuer.example.com/jwks.json"}}}, "jwksUrl"),
    ("persistence as a string", {"dynamodb": {"persistence": {"enabled": "yes"}}}, "/dynamodb/persistence/enabled"),
    ("management port is the API's", {"management": {"port": 8000}}, "/management/port"),
    ("management port zero", {"management": {"port": 0}}, "/management/port"),
    ("management port out of range", {"management": {"port": 65536}}, "/management/port"),
    ("management port as a string", {"management": {"port": "9464"}}, "/management/port"),
    ("misspelt management key", {"management": {"prot": 9464}}, "prot"),
    ("token Secret of ours not a name", {"processorAuth": {"existingSecret": "Processor_Tokens"}}, "/processorAuth/existingSecret"),
    ("the token itself in values", {"processorAuth": {"tokens": "abc"}}, "tokens"),
]

# Values the schema cannot judge alone: the chart checks them while rendering.
BAD_COMBINATIONS: list[tuple[str, dict[str, Any], str]] = [
    (
        "grace period shorter than drain + timeout",
        {"orderApi": {"terminationGracePeriodSeconds": 25}},
        "orderApi.terminationGracePeriodSeconds (25) must be greater than",
    ),
    (
        "processor grace period",
        {"orderProcessor": {"shutdown": {"drainSeconds": 10, "timeoutSeconds": 25}}},
        "orderProcessor.terminationGracePeriodSeconds (30) must be greater than",
    ),
    (
        "autoscaling min above max",
        {"orderApi": {"autoscaling": {"enabled": True, "minReplicas": 6, "maxReplicas": 3}}},
        "minReplicas (6) must not exceed maxReplicas (3)",
    ),
    (
        "a real issuer's URL without its issuer",
        {"orderApi": {"auth": {"jwksUrl": "https://issuer.example.com/jwks.json"}}},
        "orderApi.auth.issuer is required with orderApi.auth.jwksUrl or orderApi.auth.jwks",
    ),
    (
        "a real issuer's JWKS without its issuer",
        {"orderApi": {"auth": {"jwks": '{"keys": []}'}}},
        "orderApi.auth.issuer is required with",
    ),
    (
        "an issuer for the development key",
        {"orderApi": {"auth": {"issuer": "https://issuer.example.com/"}}},
        "orderApi.auth.issuer (https://issuer.example.com/) needs a real issuer's keys",
    ),
    (
        "two key sources",
        {"orderApi": {"auth": {"issuer": "https://issuer.example.com/", "jwksUrl": "https://issuer.example.com/jwks.json", "jwks": '{"keys": []}'}}},
        "set at most one of orderApi.auth.jwksUrl",
    ),
    (
        "JWKS not a key set",
        {"orderApi": {"auth": {"issuer": "https://issuer.example.com/", "jwks": '{"kty": "EC"}'}}},
        "must be a JWKS document",
    ),
    (
        "endpoint with DynamoDB Local",
        {"dynamodb": {"endpoint": "http://elsewhere:8000"}},
        "dynamodb.endpoint is only used with dynamodb.enabled=false",
    ),
    (
        "credentials with an endpoint",
        {"dynamodb": {"enabled": False, "endpoint": "http://elsewhere:8000", "credentialsSecret": "aws"}},
        "dynamodb.credentialsSecret is for AWS's own endpoint",
    ),
    (
        "credentials with DynamoDB Local",
        {"dynamodb": {"credentialsSecret": "aws"}},
        "dynamodb.credentialsSecret is only used with dynamodb.enabled=false",
    ),
]


@pytest.mark.parametrize("values,fragment", [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES])
def test_schema_rejects(values: dict[str, Any], fragment: str) -> None:
    with helm.Chart.load(str(CHART)) as chart:
        with pytest.raises(helm.HelmValuesError) as caught:
            chart.validate_schema(values)
    assert fragment in str(caught.value), str(caught.value)


@pytest.mark.parametrize("values,fragment", [c[1:] for c in BAD_COMBINATIONS], ids=[c[0] for c in BAD_COMBINATIONS])
def test_render_rejects(values: dict[str, Any], fragment: str) -> None:
    with pytest.raises(helm.HelmError) as caught:
        render(values)
    assert fragment in str(caught.value), str(caught.value)


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_schema_accepts_every_value_set(name: str) -> None:
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(value_set(name))


def test_schema_describes_every_default_value() -> None:
    """Every key of values.yaml is declared in the schema (not merely allowed)."""
    with helm.Chart.load(str(CHART)) as chart:
        defaults = chart.values
        schema = chart.schema
    assert schema is not None
    definitions = schema["definitions"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[1]]
        return node

    missing = []

    def walk(value: Any, node: dict[str, Any], path: str) -> None:
        node = resolve(node)
        if not isinstance(value, dict) or "properties" not in node:
            return
        for key, child in value.items():
            if key not in node["properties"]:
                missing.append(f"{path}.{key}")
            else:
                walk(child, node["properties"][key], f"{path}.{key}")

    walk(defaults, schema, "")
    assert not missing, missing
    assert json.dumps(schema).count('"additionalProperties": false') >= 20
