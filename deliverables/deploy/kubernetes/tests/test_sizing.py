"""The whole stack fits a Minikube of 6 GiB (`minikube start --cpus 4 --memory 6g`): the order
system as the chart renders it plus kube-prometheus-stack with monitoring/values.yaml.

The budget. Minikube reserves no memory for the system (no kube-reserved or system-reserved), so
the node offers the scheduler nearly all of its 6 GiB, while Kubernetes itself runs on the same
node mostly without requests: API server, etcd, controller manager, scheduler, kubelet and
container runtime, Calico, CoreDNS, metrics-server and the storage provisioner take about
1.5 GiB (an estimate: there is no cluster on this machine to measure one). So:

- REQUESTS <= 3 GiB: half the node. The scheduler never refuses a pod, and what the requests
  leave (3 GiB) covers Kubernetes itself and pods using more than they request.
- LIMITS <= 4.5 GiB, the node less Kubernetes: even with every container at its limit at once,
  the node does not run out of memory.

Every replica counts: a Deployment's replicas, or its HorizontalPodAutoscaler's minReplicas; the
table-init Job and the `helm test` pod too, since they run beside everything else.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from conftest import KUBERNETES, VALUE_SET_NAMES, Release, render, value_set

MIB = 1024**2
GIB = 1024**3
REQUESTS_BUDGET = 3 * GIB
LIMITS_BUDGET = int(4.5 * GIB)

MONITORING_VALUES = KUBERNETES / "monitoring" / "values.yaml"
# Where each `resources` block of monitoring/values.yaml is used in kube-prometheus-stack 81.4
# (the release that file pins) with those values: the number of long-running containers that get
# it. The admission webhook's certificate Jobs run only during install and upgrade. Init containers run
# before the others and do not add to a pod's total. A block that is not listed here fails the
# test, so nothing is left out of the sum.
STACK_CONTAINERS = {
    "prometheus.prometheusSpec": 1,
    "alertmanager.alertmanagerSpec": 1,
    "prometheusOperator": 1,
    # The config-reloader in the Prometheus pod and in the Alertmanager pod.
    "prometheusOperator.prometheusConfigReloader": 2,
    "kube-state-metrics": 1,
    # A DaemonSet: one pod on a one-node Minikube.
    "prometheus-node-exporter": 1,
    "grafana": 1,
    # Grafana's chart gives sidecar.resources to each sidecar, and kube-prometheus-stack turns on
    # two: dashboards and datasources.
    "grafana.sidecar": 2,
}
UNITS = {"": 1, "k": 1000, "M": 1000**2, "G": 1000**3, "Ki": 1024, "Mi": MIB, "Gi": GIB}


def quantity(value: str | int) -> int:
    """A Kubernetes memory quantity in bytes: 64Mi, 1Gi, 500M, 1048576."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(k|M|G|Ki|Mi|Gi)?", str(value))
    assert match, f"not a memory quantity: {value!r}"
    return int(float(match.group(1)) * UNITS[match.group(2) or ""])


def _replicas(release: Release, deployment: dict[str, Any]) -> int:
    for hpa in release.all("HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        if target["kind"] == "Deployment" and target["name"] == deployment["metadata"]["name"]:
            return int(hpa["spec"].get("minReplicas", 1))
    return int(deployment["spec"].get("replicas", 1))


def _pod_memory(spec: dict[str, Any], kind: str) -> int:
    """What the scheduler counts for one pod: its containers together, or its largest init
    container if that is more (init containers run one at a time, before the others)."""
    def memory(container: dict[str, Any]) -> int:
        return quantity(container.get("resources", {}).get(kind, {}).get("memory", 0))

    containers = sum(memory(c) for c in spec["containers"])
    return max([containers] + [memory(c) for c in spec.get("initContainers", [])])


def chart_memory(release: Release, kind: str) -> dict[str, int]:
    """Bytes of memory `kind` (requests or limits) per workload, every replica counted."""
    totals = {}
    for obj in release.objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Deployment":
            totals[name] = _replicas(release, obj) * _pod_memory(obj["spec"]["template"]["spec"], kind)
        elif obj["kind"] == "Job":
            totals[name] = int(obj["spec"].get("parallelism", 1)) * _pod_memory(obj["spec"]["template"]["spec"], kind)
        elif obj["kind"] == "Pod":
            totals[name] = _pod_memory(obj["spec"], kind)
        else:
            assert obj["kind"] not in ("StatefulSet", "DaemonSet", "ReplicaSet", "CronJob"), f"{name}: count it here"
    return totals


def _resource_blocks(node: Any, path: str = "") -> dict[str, dict[str, Any]]:
    """Every container `resources` block of a values tree (not a volume claim's storage), by the
    path of the object holding it."""
    found = {}
    if isinstance(node, dict):
        for key, child in node.items():
            if key == "resources" and isinstance(child, dict) and "storage" not in child.get("requests", {}):
                found[path] = child
            else:
                found.update(_resource_blocks(child, f"{path}.{key}" if path else key))
    return found


def monitoring_memory(kind: str) -> dict[str, int]:
    blocks = _resource_blocks(yaml.safe_load(MONITORING_VALUES.read_text()))
    assert set(blocks) == set(STACK_CONTAINERS), "classify every resources block in STACK_CONTAINERS"
    totals = {}
    for path, block in blocks.items():
        assert "memory" in block.get(kind, {}), f"{path}: no memory {kind}, so it would escape the budget"
        totals[path] = STACK_CONTAINERS[path] * quantity(block[kind]["memory"])
    return totals


def _report(totals: dict[str, int]) -> str:
    return "\n".join(f"  {value / MIB:7.0f} MiB  {name}" for name, value in sorted(totals.items(), key=lambda t: -t[1]))


def test_quantities() -> None:
    assert quantity("64Mi") == 64 * MIB
    assert quantity("1Gi") == GIB
    assert quantity("1.5Gi") == int(1.5 * GIB)
    assert quantity("500M") == 500_000_000
    assert quantity(1048576) == MIB
    with pytest.raises(AssertionError):
        quantity("lots")


def test_every_replica_counts() -> None:
    default = chart_memory(render(), "requests")
    scaled = chart_memory(render(value_set("autoscaling")), "requests")
    fixed = chart_memory(render(value_set("replicas")), "requests")
    assert scaled["Deployment/order-api"] == 2 * default["Deployment/order-api"], "the HPA's minReplicas"
    assert fixed["Deployment/order-api"] == 3 * default["Deployment/order-api"]
    init = {"containers": [{"resources": {"requests": {"memory": "16Mi"}}}], "initContainers": [{"resources": {"requests": {"memory": "64Mi"}}}]}
    assert _pod_memory(init, "requests") == 64 * MIB, "a larger init container sets the pod's request"


def _assert_fits(release: Release, kind: str, budget: int) -> None:
    """The chart's and kube-prometheus-stack's memory KIND (requests or limits) within budget."""
    chart = chart_memory(release, kind)
    stack = monitoring_memory(kind)
    total = sum(chart.values()) + sum(stack.values())
    assert total <= budget, (
        f"memory {kind} {total / MIB:.0f} MiB exceed the {budget / MIB:.0f} MiB budget:\n"
        f"order system:\n{_report(chart)}\nkube-prometheus-stack:\n{_report(stack)}"
    )


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_memory_requests_fit_a_6_gib_minikube(name: str) -> None:
    _assert_fits(render(value_set(name)), "requests", REQUESTS_BUDGET)


def test_memory_limits_fit_a_6_gib_minikube_beside_kubernetes(default_release: Release) -> None:
    _assert_fits(default_release, "limits", LIMITS_BUDGET)


def test_the_stated_sums_are_the_real_ones(default_release: Release) -> None:
    """monitoring/values.yaml's header states the sums: they must not go stale."""
    comments = [line.lstrip("#").strip() for line in MONITORING_VALUES.read_text().splitlines() if line.startswith("#")]
    text = " ".join(" ".join(comments).split())
    stack = sum(monitoring_memory("requests").values()) // MIB
    chart = sum(chart_memory(default_release, "requests").values()) // MIB
    assert f"add up to {stack} MiB" in text, text
    assert f"order system's {chart} MiB" in text, text
    assert "--memory 6g" in text
