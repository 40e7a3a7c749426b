"""Monitoring objects: ServiceMonitors, the PrometheusRule built from files/rules/*.yaml and the
dashboard ConfigMaps from files/dashboards/*.json, gated on values and on the Prometheus
Operator's API; and the kube-prometheus-stack values that must agree with them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from conftest import CHART, FIXTURE_FILES, KUBERNETES, Release, chart_with_files, render, selects

MONITORING_VALUES = KUBERNETES / "monitoring" / "values.yaml"
HELM_MK = KUBERNETES.parents[2] / "make" / "helm.mk"
MONITORING_KINDS = {"ServiceMonitor", "PrometheusRule"}


def _monitoring_objects(release: Release) -> list[str]:
    return sorted(
        f"{o['kind']}/{o['metadata']['name']}"
        for o in release.objects
        if o["kind"] in MONITORING_KINDS or "grafana_dashboard" in o["metadata"]["labels"]
    )


def test_service_monitors_scrape_the_management_services(default_release: Release) -> None:
    for name in ("order-api", "order-processor"):
        monitor = default_release.get("ServiceMonitor", name)
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        [service] = [s for s in default_release.all("Service") if selects(selector, s["metadata"]["labels"])]
        assert service["metadata"]["name"] == f"{name}-management", "never the API Service"
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["orders"]}
        assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/component"
        assert service["metadata"]["labels"]["app.kubernetes.io/component"] == name, "job label value"
        [endpoint] = monitor["spec"]["endpoints"]
        assert endpoint == {"port": "management", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}
        assert [p["name"] for p in service["spec"]["ports"]] == ["management"]


def test_monitor_labels_and_relabelings_are_configurable() -> None:
    relabel = [{"action": "replace", "targetLabel": "cluster", "replacement": "minikube"}]
    # Helm merges maps: null removes the default release label.
    labels = {"release": None, "prometheus": "main"}
    release = render({"metrics": {"serviceMonitor": {"labels": labels, "relabelings": relabel, "metricRelabelings": relabel}, "prometheusRule": {"labels": labels}}})
    monitor = release.get("ServiceMonitor", "order-api")
    assert monitor["metadata"]["labels"]["prometheus"] == "main"
    assert "release" not in monitor["metadata"]["labels"]
    assert monitor["spec"]["endpoints"][0]["relabelings"] == relabel
    assert monitor["spec"]["endpoints"][0]["metricRelabelings"] == relabel
    assert release.all("PrometheusRule")[0]["metadata"]["labels"]["prometheus"] == "main"


def test_gated_on_values_and_on_the_operator_api(tmp_path: Path) -> None:
    chart = chart_with_files(tmp_path, FIXTURE_FILES)
    expected = [
        "ConfigMap/dashboard-order-api",
        "ConfigMap/dashboard-order-processor",
        "PrometheusRule/prometheus-rules",
        "ServiceMonitor/order-api",
        "ServiceMonitor/order-processor",
    ]
    assert _monitoring_objects(render(chart=chart)) == expected
    assert _monitoring_objects(render(chart=chart, monitoring_api=False)) == [], "no CRDs: nothing"
    assert _monitoring_objects(render({"metrics": {"enabled": False}}, chart=chart)) == []
    only_monitors = render({"metrics": {"prometheusRule": {"enabled": False}, "dashboards": {"enabled": False}}}, chart=chart)
    assert _monitoring_objects(only_monitors) == ["ServiceMonitor/order-api", "ServiceMonitor/order-processor"]


def test_dashboards_become_labelled_configmaps(tmp_path: Path) -> None:
    release = render(chart=chart_with_files(tmp_path, FIXTURE_FILES))
    for name, file in (("dashboard-order-api", "order-api.json"), ("dashboard-order-processor", "Order_Processor.json")):
        config_map = release.get("ConfigMap", name)
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"]["grafana_folder"] == "Order system"
        assert list(config_map["data"]) == [file]
        original = (FIXTURE_FILES / "dashboards" / file).read_text()
        assert json.loads(config_map["data"][file]) == json.loads(original)


def test_rules_file_becomes_the_prometheus_rule(tmp_path: Path) -> None:
    release = render(chart=chart_with_files(tmp_path, FIXTURE_FILES))
    [rule] = release.all("PrometheusRule")
    expected = yaml.safe_load((FIXTURE_FILES / "rules" / "fixture.yaml").read_text())["groups"]
    assert rule["spec"]["groups"] == expected
    assert rule["spec"]["groups"][1]["rules"][0]["annotations"]["summary"] == "{{ $labels.job }} is down", "alert templates pass through untouched"


def test_empty_files_folder_renders_nothing(tmp_path: Path) -> None:
    release = render(chart=chart_with_files(tmp_path, None))
    assert _monitoring_objects(release) == ["ServiceMonitor/order-api", "ServiceMonitor/order-processor"]


def test_a_broken_rules_file_fails_the_render(tmp_path: Path) -> None:
    chart = chart_with_files(tmp_path, FIXTURE_FILES)
    (chart / "files" / "rules" / "broken.yaml").write_text("groups: [unclosed\n")
    with pytest.raises(helm.HelmError, match="broken.yaml is not valid YAML"):
        render(chart=chart)
    (chart / "files" / "rules" / "broken.yaml").write_text("rules:\n  - alert: X\n    expr: up == 0\n")
    with pytest.raises(helm.HelmError, match="broken.yaml has no rule groups"):
        render(chart=chart)
    (chart / "files" / "rules" / "broken.yaml").write_text((FIXTURE_FILES / "rules" / "fixture.yaml").read_text())
    with pytest.raises(helm.HelmError, match='rule group "fixture.rules" is defined twice'):
        render(chart=chart)


def test_the_chart_ships_the_observability_files(default_release: Release) -> None:
    """Whatever files/ holds now (the observability work) is packaged completely."""
    rules = sorted((CHART / "files" / "rules").glob("*.yaml"))
    dashboards = sorted((CHART / "files" / "dashboards").glob("*.json"))
    groups = [g for path in rules for g in yaml.safe_load(path.read_text())["groups"]]
    packaged = default_release.all("PrometheusRule")
    assert [g for r in packaged for g in r["spec"]["groups"]] == groups
    shipped = {key for o in default_release.all("ConfigMap") if "grafana_dashboard" in o["metadata"]["labels"] for key in o["data"]}
    assert shipped == {p.name for p in dashboards}
    for path in dashboards:
        assert re.fullmatch(r"[-._a-zA-Z0-9]+", path.name), f"{path.name} is not a valid ConfigMap key"


def test_kube_prometheus_stack_values_agree_with_the_chart() -> None:
    stack = yaml.safe_load(MONITORING_VALUES.read_text())
    with helm.Chart.load(str(CHART)) as chart:
        app = chart.values
    prometheus = stack["prometheus"]["prometheusSpec"]
    for selector in ("serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"):
        assert prometheus[f"{selector}SelectorNilUsesHelmValues"] is False, selector
    assert prometheus["retention"] and prometheus["retentionSize"]
    assert prometheus["resources"]["limits"]["memory"]
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert stack[component]["enabled"] is False, f"{component} is DOWN on Minikube"
    sidecar = stack["grafana"]["sidecar"]["dashboards"]
    [(label, value)] = app["metrics"]["dashboards"]["labels"].items()
    assert (sidecar["label"], sidecar["labelValue"]) == (label, value)
    assert sidecar["searchNamespace"] == "ALL"
    assert sidecar["folderAnnotation"] == "grafana_folder"
    assert stack["prometheus-node-exporter"]["hostRootFsMount"]["enabled"] is False
    release_label = app["metrics"]["serviceMonitor"]["labels"]["release"]
    assert f"HELM_MONITORING_RELEASE ?= {release_label}" in HELM_MK.read_text(), "the default label must name the stack's release"
