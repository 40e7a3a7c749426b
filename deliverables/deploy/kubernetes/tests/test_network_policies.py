"""NetworkPolicies: default deny for every pod of the release, then exactly the flows the system
needs. Peers are checked against the rendered pods, so a label typo cannot silently open or
close a flow."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import VALUE_SET_NAMES, Release, render, selects, value_set


def _policies_for(release: Release, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [p for p in release.all("NetworkPolicy") if selects(p["spec"]["podSelector"]["matchLabels"], labels)]


def _component(labels: dict[str, str]) -> str:
    return labels["app.kubernetes.io/component"]


def _peers_reach(release: Release, peers: list[dict[str, Any]]) -> set[str]:
    """Components of this release that in-namespace pod-selector peers match."""
    reached = set()
    for peer in peers:
        if "namespaceSelector" in peer or "ipBlock" in peer:
            continue
        for labels in release.pod_labels().values():
            if selects(peer["podSelector"]["matchLabels"], labels):
                reached.add(_component(labels))
    return reached


def _egress_components(release: Release, component: str) -> dict[str, list[int]]:
    """component -> ports that `component` may open connections to, within the release."""
    labels = next(l for l in release.pod_labels().values() if _component(l) == component)
    reached: dict[str, list[int]] = {}
    for policy in _policies_for(release, labels):
        for rule in policy["spec"].get("egress", []):
            for target in _peers_reach(release, rule.get("to", [])):
                reached.setdefault(target, []).extend(p["port"] for p in rule.get("ports", []))
    return reached


def _ingress_components(release: Release, component: str) -> set[str]:
    labels = next(l for l in release.pod_labels().values() if _component(l) == component)
    sources = set()
    for policy in _policies_for(release, labels):
        for rule in policy["spec"].get("ingress", []):
            sources |= _peers_reach(release, rule.get("from", [])) if "from" in rule else {"*"}
    return sources


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_every_pod_is_default_denied_and_can_resolve_names(name: str) -> None:
    release = render(value_set(name))
    dns = release.get("NetworkPolicy", f"{value_set(name).get('namePrefix', '')}default-deny")
    assert dns["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in dns["spec"] and "egress" not in dns["spec"]
    for workload, labels in release.pod_labels().items():
        policies = _policies_for(release, labels)
        assert dns in policies, f"{workload} escapes the default deny"
        if _component(labels) == "dynamodb-local":
            continue
        dns_rules = [r for p in policies for r in p["spec"].get("egress", []) if {"port": 53, "protocol": "UDP"} in r.get("ports", [])]
        assert dns_rules, f"{workload} cannot resolve Service names"


def test_allowed_flows(default_release: Release) -> None:
    release = default_release
    assert _ingress_components(release, "order-api") == {"*"}, "the public API takes any caller"
    assert _ingress_components(release, "order-processor") == {"order-api"}
    assert _ingress_components(release, "dynamodb-local") == {"order-api", "order-processor", "table-init"}
    assert _ingress_components(release, "table-init") == set()
    assert _ingress_components(release, "smoke-test") == set()
    assert _egress_components(release, "order-api") == {"order-processor": [8000], "dynamodb-local": [8000]}
    assert _egress_components(release, "order-processor") == {"dynamodb-local": [8000]}
    assert _egress_components(release, "table-init") == {"dynamodb-local": [8000]}
    assert _egress_components(release, "smoke-test") == {"order-api": [8000]}
    assert _egress_components(release, "dynamodb-local") == {}


HTTP = [{"port": "http", "protocol": "TCP"}]
MANAGEMENT = [{"port": "management", "protocol": "TCP"}]
PROMETHEUS = [
    {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
]


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_only_prometheus_reaches_the_management_port(name: str) -> None:
    """/metrics and /health answer without a token: the management port is open to Prometheus
    alone, and every ingress rule names its port (a rule without ports would open them all)."""
    values = value_set(name)
    release = render(values)
    prefix = values.get("namePrefix", "")
    metrics = values.get("metrics", {}).get("enabled", True)
    for component in ("order-api", "order-processor"):
        rules = release.get("NetworkPolicy", f"{prefix}{component}")["spec"]["ingress"]
        assert all(rule.get("ports") for rule in rules), component
        management = [rule for rule in rules if rule["ports"] == MANAGEMENT]
        assert management == ([{"ports": MANAGEMENT, "from": PROMETHEUS}] if metrics else []), component
        assert all(rule["ports"] in (HTTP, MANAGEMENT) for rule in rules), component
    for policy in release.all("NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            if "management" in [p["port"] for p in rule["ports"]]:
                assert rule["from"] == PROMETHEUS, policy["metadata"]["name"]


def test_prometheus_no_longer_reaches_the_api_ports() -> None:
    """Metrics left the API port: its rules are the callers' alone."""
    processor = render().get("NetworkPolicy", "order-processor")["spec"]["ingress"]
    assert [r for r in processor if r["ports"] == HTTP] == [{"ports": HTTP, "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "microservices", "app.kubernetes.io/instance": "microservices", "app.kubernetes.io/component": "order-api"}}}]}]
    restricted = render(value_set("production-like"))
    api_rules = restricted.get("NetworkPolicy", "blue-order-api")["spec"]["ingress"]
    assert [(r["ports"], r["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]) for r in api_rules] == [
        (HTTP, "ingress-nginx"),
        (MANAGEMENT, "monitoring"),
    ]


def test_external_dynamodb_egress() -> None:
    release = render(value_set("external-dynamodb"))
    assert not release.has("NetworkPolicy", "dynamodb-local")
    for name in ("order-api", "order-processor", "table-init"):
        egress = release.get("NetworkPolicy", name)["spec"]["egress"]
        assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}]} in egress
    other_port = render({"dynamodb": {"enabled": False, "endpoint": "http://dynamodb.shared.svc:8123"}})
    egress = other_port.get("NetworkPolicy", "order-processor")["spec"]["egress"]
    assert egress[-1]["ports"] == [{"port": 8123, "protocol": "TCP"}]
    plain_http = render({"dynamodb": {"enabled": False, "endpoint": "http://dynamodb.shared.svc"}})
    assert plain_http.get("NetworkPolicy", "order-api")["spec"]["egress"][-1]["ports"] == [{"port": 80, "protocol": "TCP"}]


def test_extra_egress_is_appended_to_both_services() -> None:
    release = render(value_set("production-like"))
    extra = value_set("production-like")["networkPolicy"]["extraEgress"][0]
    for name in ("blue-order-api", "blue-order-processor"):
        assert release.get("NetworkPolicy", name)["spec"]["egress"][-1] == extra


def test_network_policies_can_be_turned_off() -> None:
    assert render({"networkPolicy": {"enabled": False}}).all("NetworkPolicy") == []
