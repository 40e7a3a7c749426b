"""What the rendered workloads do: discovery, configuration, probes, security, scaling,
DynamoDB Local and its persistence, the table-init Job, the development issuer and the `helm
test` pod."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml

from conftest import CHART, NAMESPACE, VALUE_SET_NAMES, FakeCluster, Release, container_env, render, render_on_cluster, selects, value_set

SERVICES = ["order-api", "order-processor"]
APP_VERSION = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]


def test_default_objects(default_release: Release) -> None:
    assert default_release.names() == sorted(
        [
            "ConfigMap/order-api",
            "ConfigMap/order-processor",
            "ConfigMap/table-init",
            "Deployment/dynamodb-local",
            "Deployment/order-api",
            "Deployment/order-processor",
            "Job/table-init-1",
            "NetworkPolicy/default-deny",
            "NetworkPolicy/dynamodb-local",
            "NetworkPolicy/order-api",
            "NetworkPolicy/order-processor",
            "NetworkPolicy/smoke-test",
            "NetworkPolicy/table-init",
            "PersistentVolumeClaim/dynamodb-local",
            "Pod/smoke-test",
            "PrometheusRule/prometheus-rules",
            "Secret/dev-issuer",
            "Secret/processor-auth",
            "Service/dynamodb-local",
            "Service/order-api",
            "Service/order-api-management",
            "Service/order-processor",
            "Service/order-processor-management",
            "ServiceAccount/order-api",
            "ServiceAccount/order-processor",
            "ServiceAccount/table-init",
            "ServiceMonitor/order-api",
            "ServiceMonitor/order-processor",
        ]
        + [f"ConfigMap/{o['metadata']['name']}" for o in default_release.all("ConfigMap") if "dashboard" in o["metadata"]["name"]]
    )


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_every_object_is_namespaced_and_labelled(name: str) -> None:
    release = render(value_set(name))
    for obj in release.objects:
        meta = obj["metadata"]
        assert meta["namespace"] == NAMESPACE, f"{obj['kind']}/{meta['name']}"
        for label in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "helm.sh/chart"):
            assert label in meta["labels"], f"{obj['kind']}/{meta['name']} lacks {label}"


def test_api_is_a_node_port_and_processor_internal(default_release: Release) -> None:
    api = default_release.get("Service", "order-api")
    processor = default_release.get("Service", "order-processor")
    assert api["spec"]["type"] == "NodePort"
    assert processor["spec"]["type"] == "ClusterIP"
    for service in (api, processor):
        assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}]


@pytest.mark.parametrize("name", VALUE_SET_NAMES + ["load-balancer"])
def test_the_management_port_has_cluster_ip_services_of_its_own(name: str) -> None:
    """/metrics and /health answer without a token: never on a NodePort or LoadBalancer."""
    values = {"orderApi": {"service": {"type": "LoadBalancer"}}} if name == "load-balancer" else value_set(name)
    release = render(values)
    prefix = values.get("namePrefix", "")
    for component in SERVICES:
        api = release.get("Service", f"{prefix}{component}")
        assert [p["name"] for p in api["spec"]["ports"]] == ["http"]
        assert "order-system/port" not in api["metadata"]["labels"]
        management = release.get("Service", f"{prefix}{component}-management")
        assert management["spec"]["type"] == "ClusterIP"
        assert management["spec"]["ports"] == [{"name": "management", "port": 9464, "targetPort": "management", "protocol": "TCP"}]
        assert management["spec"]["selector"] == api["spec"]["selector"]
        assert management["metadata"]["labels"]["app.kubernetes.io/component"] == component, "the job label"
        assert management["metadata"]["labels"]["order-system/port"] == "management"
    exposed = [s for s in release.all("Service") if s["spec"]["type"] != "ClusterIP"]
    assert all(p["name"] == "http" for s in exposed for p in s["spec"]["ports"])


def test_the_management_port_is_configurable() -> None:
    release = render({"management": {"port": 9100}})
    for component in SERVICES:
        assert release.get("Service", f"{component}-management")["spec"]["ports"][0]["port"] == 9100
        assert container_env(release, f"Deployment/{component}")["MANAGEMENT_PORT"] == "9100"
        container = release.get("Deployment", component)["spec"]["template"]["spec"]["containers"][0]
        assert {"name": "management", "containerPort": 9100, "protocol": "TCP"} in container["ports"]


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_services_select_their_pods_and_discovery_urls_resolve(name: str) -> None:
    release = render(value_set(name))
    pods = release.pod_labels()
    for service in release.all("Service"):
        component = service["metadata"]["labels"]["app.kubernetes.io/component"]
        matching = [n for n, labels in pods.items() if selects(service["spec"]["selector"], labels)]
        assert matching, f"Service {service['metadata']['name']} selects no pod"
        assert all(pods[n]["app.kubernetes.io/component"] == component for n in matching)
    api_env = container_env(release, _deployment(release, "order-api"))
    host, port = api_env["ORDER_PROCESSOR_URL"].removeprefix("http://").split(":")
    processor = release.get("Service", host)
    assert processor["metadata"]["labels"]["app.kubernetes.io/component"] == "order-processor"
    assert int(port) == processor["spec"]["ports"][0]["port"]
    if value_set(name).get("dynamodb", {}).get("enabled", True):
        host, port = api_env["DYNAMODB_ENDPOINT"].removeprefix("http://").split(":")
        assert release.get("Service", host)["spec"]["ports"][0]["port"] == int(port)


def _deployment(release: Release, component: str) -> str:
    names = [d["metadata"]["name"] for d in release.all("Deployment") if d["metadata"]["labels"]["app.kubernetes.io/component"] == component]
    assert len(names) == 1
    return f"Deployment/{names[0]}"


def test_configuration_comes_from_configmaps(default_release: Release) -> None:
    api = container_env(default_release, "Deployment/order-api")
    processor = container_env(default_release, "Deployment/order-processor")
    assert api == {
        "PORT": "8000",
        "MANAGEMENT_PORT": "9464",
        "PROCESSOR_TOKENS_FILE": "/etc/processor-auth/tokens",
        "AWS_REGION": "us-east-1",
        "DYNAMODB_ENDPOINT": "http://dynamodb-local:8000",
        "DYNAMODB_TIMEOUT_MS": "1000",
        "DYNAMODB_MAX_ATTEMPTS": "3",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
        "SHUTDOWN_DRAIN_SECONDS": "5",
        "SHUTDOWN_TIMEOUT_SECONDS": "20",
        "HTTP_HEADER_TIMEOUT_SECONDS": "10",
        "HTTP_IDLE_TIMEOUT_SECONDS": "75",
        "HTTP_REQUEST_TIMEOUT_SECONDS": "25",
        "HTTP_MAX_CONNECTIONS": "1024",
        "HTTP_MAX_IN_FLIGHT": "128",
        "HTTP_MAX_HEADER_BYTES": "16384",
        "HTTP_RATE_LIMIT_PER_SECOND": "1000",
        "HTTP_RATE_LIMIT_BURST": "2000",
        "HTTP_TRUSTED_PROXY_HOPS": "0",
        "ORDERS_TABLE": "orders",
        "ORDER_PROCESSOR_URL": "http://order-processor:8000",
        "PROCESSOR_TIMEOUT_MS": "2000",
        "PROCESSOR_MAX_ATTEMPTS": "3",
        "RECONCILER_INTERVAL_SECONDS": "5",
        "RECONCILER_GRACE_SECONDS": "10",
        "RECONCILER_MAX_ATTEMPTS": "10",
        "RECONCILER_MAX_AGE_SECONDS": "3600",
        "AUTH_ISSUER": "urn:order-system:dev",
        "AUTH_AUDIENCE": "order-api",
        "AUTH_SUBJECT_CLAIM": "sub",
        "CUSTOMER_RATE_LIMIT_PER_SECOND": "1000",
        "CUSTOMER_RATE_LIMIT_BURST": "2000",
        "AUTH_JWKS_FILE": "/etc/order-api/auth/jwks.json",
    }
    assert not any(key.startswith("AUTH_") for key in processor)
    assert processor["INVENTORY_TABLE"] == "inventory"
    assert processor["MANAGEMENT_PORT"] == "9464"
    assert processor["PROCESSOR_TOKENS_FILE"] == "/etc/processor-auth/tokens"
    assert processor["RESERVATIONS_TABLE"] == "reservations"
    # Its reservation transaction also confirms order-api's order record.
    assert processor["ORDERS_TABLE"] == "orders"
    assert "ORDER_PROCESSOR_URL" not in processor
    table_init = container_env(default_release, "Job/table-init-1")
    assert {k: table_init[k] for k in ("ORDERS_TABLE", "INVENTORY_TABLE", "RESERVATIONS_TABLE", "DYNAMODB_ENDPOINT")} == {
        "ORDERS_TABLE": "orders",
        "INVENTORY_TABLE": "inventory",
        "RESERVATIONS_TABLE": "reservations",
        "DYNAMODB_ENDPOINT": "http://dynamodb-local:8000",
    }


def _checksums(release: Release) -> dict[str, str]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        for d in release.all("Deployment")
        if d["metadata"]["name"] in SERVICES
    }


def test_a_config_change_rolls_only_the_affected_pods(default_release: Release) -> None:
    before = _checksums(default_release)
    assert _checksums(render()) == before, "the checksum must be stable for unchanged values"
    after = _checksums(render({"orderApi": {"processor": {"timeoutMs": 3000}}}))
    assert after["order-api"] != before["order-api"]
    assert after["order-processor"] == before["order-processor"]
    shared = _checksums(render({"config": {"logLevel": "debug"}}))
    assert all(shared[s] != before[s] for s in SERVICES)


def test_probes_use_the_right_endpoints(default_release: Release) -> None:
    for service in SERVICES:
        container = default_release.get("Deployment", service)["spec"]["template"]["spec"]["containers"][0]
        assert container["ports"] == [
            {"name": "http", "containerPort": 8000, "protocol": "TCP"},
            {"name": "management", "containerPort": 9464, "protocol": "TCP"},
        ]
        assert container["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    dynamodb = default_release.get("Deployment", "dynamodb-local")["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "livenessProbe"):
        assert dynamodb[probe]["tcpSocket"] == {"port": "http"}
    # Readiness sends a real request (test_runtime.py runs it against DynamoDB Local).
    assert dynamodb["readinessProbe"]["exec"]["command"][:2] == ["bash", "-c"]


# Volume types the restricted Pod Security Standard allows.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}


def _assert_restricted(workload: str, spec: dict[str, Any]) -> None:
    """The restricted Pod Security Standard (what the namespace enforces, make/helm.mk), checked
    field by field, plus the chart's own rules (read-only root, memory limit)."""
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True, workload
    assert pod["runAsUser"] != 0, workload
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, workload
    assert spec["automountServiceAccountToken"] is False, workload
    for field_name in ("hostNetwork", "hostPID", "hostIPC", "hostUsers"):
        assert field_name not in spec, f"{workload} {field_name}"
    for volume in spec.get("volumes", []):
        assert set(volume) - {"name"} <= RESTRICTED_VOLUMES, f"{workload} volume {volume}"
    for container in spec.get("initContainers", []) + spec["containers"]:
        context = container["securityContext"]
        where = f"{workload} {container['name']}"
        assert context["allowPrivilegeEscalation"] is False, where
        assert context.get("privileged", False) is False, where
        assert context["capabilities"] == {"drop": ["ALL"]}, where
        assert context.get("runAsNonRoot", True) is True and context.get("runAsUser", 1) != 0, where
        assert context.get("seccompProfile", {"type": "RuntimeDefault"})["type"] in ("RuntimeDefault", "Localhost"), where
        assert all("hostPort" not in port for port in container.get("ports", [])), where
        assert context["readOnlyRootFilesystem"] is True, where


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_every_pod_meets_the_restricted_pod_security_standard(name: str) -> None:
    release = render(value_set(name))
    for workload, spec in release.pod_specs():
        _assert_restricted(workload, spec)
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{workload} {container['name']}"
            assert "memory" in container["resources"]["limits"], where
            assert container["resources"]["requests"]["cpu"], where
        expected_uid = 1000 if "dynamodb-local" in workload else 65532
        assert spec["securityContext"]["runAsUser"] == expected_uid, workload
    for account in release.all("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False
    if release.has("Secret", f"{value_set(name).get('namePrefix', '')}dev-issuer"):
        # The token pod of NOTES.txt (and make helm-token) runs in the same namespace.
        _assert_restricted("token pod", _overrides(_token_command(release.notes))["spec"])


def test_the_restricted_check_catches_a_violation(default_release: Release) -> None:
    spec = copy.deepcopy(dict(default_release.pod_specs())["Deployment/dynamodb-local"])
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/var/lib"}})
    with pytest.raises(AssertionError, match="hostPath"):
        _assert_restricted("dynamodb-local", spec)
    spec = copy.deepcopy(dict(default_release.pod_specs())["Deployment/order-api"])
    spec["initContainers"][0]["securityContext"]["capabilities"] = {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    with pytest.raises(AssertionError, match="jwks"):
        _assert_restricted("order-api", spec)


def test_images_default_to_the_app_version(default_release: Release) -> None:
    images = {w: s["containers"][0]["image"] for w, s in default_release.pod_specs()}
    assert images == {
        "Deployment/dynamodb-local": "amazon/dynamodb-local:3.3.0",
        "Deployment/order-api": f"order-api:{APP_VERSION}",
        "Deployment/order-processor": f"order-processor:{APP_VERSION}",
        "Job/table-init-1": f"orderctl:{APP_VERSION}",
        "Pod/smoke-test": f"orderctl:{APP_VERSION}",
    }
    jwks = default_release.get("Deployment", "order-api")["spec"]["template"]["spec"]["initContainers"][0]
    assert jwks["image"] == f"orderctl:{APP_VERSION}"
    for _, spec in default_release.pod_specs():
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["imagePullPolicy"] == "IfNotPresent"


def test_registry_and_tags_override() -> None:
    release = render({"image": {"registry": "registry.example:5000/shop/", "tag": "1.2.3"}, "orderApi": {"image": {"tag": "1.2.4"}}})
    images = {w: s["containers"][0]["image"] for w, s in release.pod_specs()}
    assert images["Deployment/order-api"] == "registry.example:5000/shop/order-api:1.2.4"
    assert images["Deployment/order-processor"] == "registry.example:5000/shop/order-processor:1.2.3"
    assert images["Job/table-init-1"] == "registry.example:5000/shop/orderctl:1.2.3"
    assert images["Deployment/dynamodb-local"] == "amazon/dynamodb-local:3.3.0"


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_grace_period_covers_drain_and_shutdown(name: str) -> None:
    release = render(value_set(name))
    for deployment in release.all("Deployment"):
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        if component not in SERVICES:
            continue
        env = container_env(release, f"Deployment/{deployment['metadata']['name']}")
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace > int(env["SHUTDOWN_DRAIN_SECONDS"]) + int(env["SHUTDOWN_TIMEOUT_SECONDS"])


def test_single_replicas_get_no_disruption_budget_or_autoscaler(default_release: Release) -> None:
    assert default_release.all("PodDisruptionBudget") == []
    assert default_release.all("HorizontalPodAutoscaler") == []
    for service in SERVICES:
        deployment = default_release.get("Deployment", service)
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_replicas_above_one_get_a_disruption_budget() -> None:
    release = render(value_set("replicas"))
    assert release.get("Deployment", "order-api")["spec"]["replicas"] == 3
    for service in SERVICES:
        budget = release.get("PodDisruptionBudget", service)
        assert budget["spec"]["maxUnavailable"] == 1
        assert budget["spec"]["selector"]["matchLabels"] == release.get("Deployment", service)["spec"]["selector"]["matchLabels"]
    assert release.all("HorizontalPodAutoscaler") == []


def test_autoscaling() -> None:
    release = render(value_set("autoscaling"))
    api = release.get("HorizontalPodAutoscaler", "order-api")["spec"]
    assert api["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "order-api"}
    assert (api["minReplicas"], api["maxReplicas"]) == (2, 6)
    assert api["metrics"][0]["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    for service in SERVICES:
        assert "replicas" not in release.get("Deployment", service)["spec"], "the HPA owns the replica count"
        release.get("PodDisruptionBudget", service)


def test_autoscaling_from_one_replica_has_no_budget() -> None:
    release = render({"orderApi": {"autoscaling": {"enabled": True, "minReplicas": 1}}})
    release.get("HorizontalPodAutoscaler", "order-api")
    assert release.all("PodDisruptionBudget") == []


def test_replicas_spread_over_nodes_and_zones(default_release: Release) -> None:
    for service in SERVICES:
        spec = default_release.get("Deployment", service)["spec"]
        constraints = spec["template"]["spec"]["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in constraints] == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
        for constraint in constraints:
            assert constraint["whenUnsatisfiable"] == "ScheduleAnyway", "a one-node Minikube must still schedule"
            assert constraint["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    custom = [{"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"}]
    release = render({"orderApi": {"topologySpreadConstraints": custom}})
    assert release.get("Deployment", "order-api")["spec"]["template"]["spec"]["topologySpreadConstraints"] == custom


@pytest.mark.parametrize("name", ["defaults", "persistence"])
def test_dynamodb_local_is_persistent_by_default(name: str) -> None:
    release = render(value_set(name))
    claim = release.get("PersistentVolumeClaim", "dynamodb-local")
    assert "storageClassName" not in claim["spec"], "no class: the cluster default (Minikube: standard), never gp2"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == value_set(name).get("dynamodb", {}).get("persistence", {}).get("size", "1Gi")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    deployment = release.get("Deployment", "dynamodb-local")["spec"]
    # A rolling update would start the new pod beside the old one, waiting for ever for the
    # ReadWriteOnce volume the old one holds.
    assert deployment["replicas"] == 1 and deployment["strategy"] == {"type": "Recreate"}
    pod = deployment["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"] == ["-jar", "DynamoDBLocal.jar", "-sharedDb", "-port", "8000", "-disableTelemetry", "-dbPath", "/home/dynamodblocal/data"]
    assert {"name": "data", "mountPath": "/home/dynamodblocal/data"} in container["volumeMounts"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "dynamodb-local"}} in pod["volumes"]
    # The image's user (uid 1000, non-root) must be able to write a volume created as root's.
    context = pod["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (1000, 1000, 1000)
    assert context["fsGroupChangePolicy"] == "OnRootMismatch"


def test_dynamodb_local_in_memory_by_choice() -> None:
    release = render(value_set("in-memory"))
    spec = release.get("Deployment", "dynamodb-local")["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    assert container["args"] == ["-jar", "DynamoDBLocal.jar", "-sharedDb", "-port", "8000", "-disableTelemetry", "-inMemory"]
    assert release.all("PersistentVolumeClaim") == []
    assert [v["name"] for v in spec["template"]["spec"]["volumes"]] == ["tmp"]
    assert release.has("Job", "table-init-1"), "in memory too, the Job creates the tables"
    assert "the tables\n   come back only with the next `helm upgrade`" in release.notes


def test_dynamodb_local_existing_claim_and_storage_class() -> None:
    release = render({"dynamodb": {"persistence": {"enabled": True, "existingClaim": "tables"}}})
    assert release.all("PersistentVolumeClaim") == []
    volumes = release.get("Deployment", "dynamodb-local")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "tables"}} in volumes
    release = render({"dynamodb": {"persistence": {"enabled": True, "storageClass": "fast-ssd"}}})
    assert release.get("PersistentVolumeClaim", "dynamodb-local")["spec"]["storageClassName"] == "fast-ssd"


def test_external_dynamodb_with_a_credentials_file() -> None:
    release = render(value_set("external-dynamodb"))
    assert not any(o["metadata"]["labels"]["app.kubernetes.io/component"] == "dynamodb-local" for o in release.objects)
    for workload in ("Deployment/order-api", "Deployment/order-processor", "Job/table-init-1"):
        env = container_env(release, workload)
        assert "DYNAMODB_ENDPOINT" not in env, "AWS's regional endpoint"
        assert env["AWS_REGION"] == "eu-west-1"
        assert env["AWS_SHARED_CREDENTIALS_FILE"] == "/etc/aws/credentials"
        spec = dict(release.pod_specs())[workload]
        assert {"name": "aws-credentials", "secret": {"secretName": "aws-credentials", "items": [{"key": "credentials", "path": "credentials"}]}} in spec["volumes"]
        # Every container that talks to DynamoDB (not order-api's `jwks` init container).
        for container in [c for c in spec.get("initContainers", []) + spec["containers"] if "envFrom" in c]:
            assert {"name": "aws-credentials", "mountPath": "/etc/aws", "readOnly": True} in container["volumeMounts"]
            assert all("secretRef" not in source for source in container["envFrom"]), "secrets as files, not env"
    assert release.get("Service", "order-api")["spec"]["type"] == "ClusterIP"


def test_external_endpoint_and_pod_identity() -> None:
    role = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/order-api"}
    release = render({"dynamodb": {"enabled": False, "endpoint": "http://dynamodb.shared.svc:8000", "region": "eu-west-1"}, "orderApi": {"serviceAccount": {"annotations": role}}})
    env = container_env(release, "Deployment/order-api")
    assert env["DYNAMODB_ENDPOINT"] == "http://dynamodb.shared.svc:8000" and env["AWS_REGION"] == "eu-west-1"
    assert "AWS_SHARED_CREDENTIALS_FILE" not in env
    pod = release.get("Deployment", "order-api")["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["auth-jwks", "dev-issuer", "processor-auth"], "no credentials file"
    assert [m["name"] for m in pod["containers"][0]["volumeMounts"]] == ["auth-jwks", "processor-auth"]
    assert release.get("ServiceAccount", "order-api")["metadata"]["annotations"] == role


@pytest.mark.parametrize("name", ["defaults", "in-memory", "external-dynamodb"])
def test_tables_are_set_up_by_a_plain_job(name: str) -> None:
    """One Job per revision creates the tables, then seeds (never resetting stock), whether
    DynamoDB Local runs in the release (persistent or not) or outside it; no Deployment polls."""
    release = render(value_set(name), revision=3)
    job = release.get("Job", "table-init-3")
    assert "helm.sh/hook" not in (job["metadata"].get("annotations") or {}), "a release object, not a hook (see job.yaml)"
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "OnFailure"
    assert [c["args"] for c in pod["initContainers"]] == [["create-tables"]]
    assert [c["args"] for c in pod["containers"]] == [["seed"]], "seed without --reset"
    assert pod["serviceAccountName"] == "table-init"
    for container in pod["initContainers"] + pod["containers"]:
        assert container["envFrom"] == [{"configMapRef": {"name": "table-init"}}]
        assert container["resources"]["requests"]["memory"] == "16Mi"
    components = {d["metadata"]["labels"]["app.kubernetes.io/component"] for d in release.all("Deployment")}
    assert components <= {"order-api", "order-processor", "dynamodb-local"}
    # A ConfigMap change (here: a table name) reaches the next revision's Job.
    renamed = render({**value_set(name), "dynamodb": {**value_set(name).get("dynamodb", {}), "tables": {"inventory": "stock"}}})
    assert container_env(renamed, "Job/table-init-1")["INVENTORY_TABLE"] == "stock"
    disabled = render({**value_set(name), "tableInit": {"enabled": False}})
    assert not any(o["metadata"]["labels"]["app.kubernetes.io/component"] == "table-init" for o in disabled.objects)


def test_table_init_job() -> None:
    external = value_set("external-dynamodb")
    release = render(external, revision=4)
    job = release.get("Job", "table-init-4")
    assert "helm.sh/hook" not in (job["metadata"].get("annotations") or {}), "a release object, not a hook (see job.yaml)"
    spec = job["spec"]
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "OnFailure"
    assert spec["backoffLimit"] == 8 and spec["activeDeadlineSeconds"] == 900
    assert spec["ttlSecondsAfterFinished"] == 3600
    assert [c["args"] for c in pod["initContainers"]] == [["create-tables"]]
    assert [c["args"] for c in pod["containers"]] == [["seed"]]
    assert pod["serviceAccountName"] == "table-init"
    endpoint = {"dynamodb": {"enabled": False, "endpoint": "http://dynamodb.shared.svc:8000"}}
    assert "ttlSecondsAfterFinished" not in render(endpoint).get("Job", "table-init-1")["spec"]
    disabled = render({**external, "tableInit": {"enabled": False}})
    assert not any(o["metadata"]["labels"]["app.kubernetes.io/component"] == "table-init" for o in disabled.objects)


def test_helm_test_pod_runs_the_smoke_test(default_release: Release) -> None:
    pod = default_release.get("Pod", "smoke-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["initContainers"][0]["args"] == ["wait-ready", "http://order-api:8000", "--timeout-seconds", "120"]
    assert pod["spec"]["containers"][0]["args"] == ["smoke", "--url", "http://order-api:8000"]
    assert not render({"tests": {"enabled": False}}).has("Pod", "smoke-test")


def test_name_prefix_renames_everything_consistently() -> None:
    release = render(value_set("production-like"))
    for obj in release.objects:
        assert obj["metadata"]["name"].startswith("blue-"), f"{obj['kind']}/{obj['metadata']['name']}"
        assert obj["metadata"]["labels"]["team"] == "platform"
    env = container_env(release, "Deployment/blue-order-api")
    assert env["ORDER_PROCESSOR_URL"] == "http://blue-order-processor:8000"
    assert env["DYNAMODB_ENDPOINT"] == "http://blue-dynamodb-local:8000"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.monitoring:4318"
    assert release.get("Service", "blue-order-api")["spec"]["ports"][0]["nodePort"] == 30080
    assert release.get("Pod", "blue-smoke-test")["spec"]["containers"][0]["args"][-1] == "http://blue-order-api:8000"
    assert release.get("Job", "blue-table-init-1")["spec"]["ttlSecondsAfterFinished"] == 86400
    assert container_env(release, "Job/blue-table-init-1")["DYNAMODB_ENDPOINT"] == "http://blue-dynamodb-local:8000"
    release.get("Secret", "blue-dev-issuer")
    for workload in ("Deployment/blue-order-api", "Pod/blue-smoke-test"):
        assert {"name": "dev-issuer", "secret": {"secretName": "blue-dev-issuer", "items": [{"key": "signing-key.pem", "path": "signing-key.pem"}]}} in dict(release.pod_specs())[workload]["volumes"]
    assert "run blue-orderctl-token" in release.notes and '"secretName":"blue-dev-issuer"' in release.notes
    assert release.get("Deployment", "blue-dynamodb-local")["spec"]["template"]["spec"]["volumes"][-1] == {"name": "data", "persistentVolumeClaim": {"claimName": "blue-dynamodb-local"}}
    for service in SERVICES:
        _assert_mounts_the_tokens(release, f"blue-{service}", "blue-processor-auth")


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_selectors_match_pod_templates(name: str) -> None:
    release = render(value_set(name))
    for deployment in release.all("Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selects(selector, deployment["spec"]["template"]["metadata"]["labels"])
        others = [d for d in release.all("Deployment") if d is not deployment]
        assert not any(selects(selector, d["spec"]["template"]["metadata"]["labels"]) for d in others)


def test_notes_tell_how_to_reach_the_api_and_grafana(default_release: Release) -> None:
    notes = default_release.notes
    assert "minikube service order-api -n orders --url" in notes
    assert "helm test microservices -n orders" in notes
    assert "kubectl -n orders logs job/table-init-1 --all-containers" in notes
    assert "To start empty, uninstall, then: kubectl -n orders delete pvc dynamodb-local" in notes
    assert "runs in memory: every restart empties it" in render(value_set("in-memory")).notes
    assert "port-forward service/kube-prometheus-stack-grafana 3001:80" in notes
    assert "kubectl -n orders port-forward service/order-api-management 9464" in notes
    assert "bearer token in Secret processor-auth (key `tokens`),\n   made at install and kept across upgrades" in notes
    assert "in Secret order-system-tokens (key `tokens`),\n   yours" in render({"processorAuth": {"existingSecret": "order-system-tokens"}}).notes
    without_crds = render(monitoring_api=False).notes
    assert "NOT installed: this cluster has no monitoring.coreos.com/v1 API" in without_crds
    external: dict[str, Any] = value_set("external-dynamodb")
    external_notes = render(external).notes
    assert "DynamoDB: AWS, region eu-west-1" in external_notes
    assert "kubectl -n orders logs job/table-init-1 --all-containers" in external_notes
    assert "PersistentVolumeClaim" not in external_notes


REAL_ISSUER = {"orderApi": {"auth": {"issuer": "https://issuer.example.com/", "jwksUrl": "https://issuer.example.com/.well-known/jwks.json"}}}
DEV_KEY_MOUNT = {"name": "dev-issuer", "mountPath": "/etc/dev-issuer", "readOnly": True}
DEV_KEY_VOLUME = {"name": "dev-issuer", "secret": {"secretName": "dev-issuer", "items": [{"key": "signing-key.pem", "path": "signing-key.pem"}]}}


def _dev_key(release: Release, secret: str = "dev-issuer") -> str:
    return base64.b64decode(release.get("Secret", secret)["data"]["signing-key.pem"]).decode()


def test_by_default_the_chart_is_its_own_development_issuer(default_release: Release) -> None:
    """No values needed: a P-256 key in Secret dev-issuer (SEC1 PEM, as Helm's genPrivateKey
    writes it; orderctl reads it), and order-api trusts urn:order-system:dev."""
    secret = default_release.get("Secret", "dev-issuer")
    assert secret["type"] == "Opaque" and list(secret["data"]) == ["signing-key.pem"]
    key = _dev_key(default_release)
    assert key.startswith("-----BEGIN EC PRIVATE KEY-----\n") and key.rstrip().endswith("-----END EC PRIVATE KEY-----")
    der = base64.b64decode("".join(key.strip().splitlines()[1:-1]))
    assert bytes.fromhex("06082a8648ce3d030107") in der, "the P-256 curve (OID 1.2.840.10045.3.1.7)"
    env = container_env(default_release, "Deployment/order-api")
    assert (env["AUTH_ISSUER"], env["AUTH_AUDIENCE"], env["AUTH_JWKS_FILE"]) == ("urn:order-system:dev", "order-api", "/etc/order-api/auth/jwks.json")
    assert "AUTH_JWKS_URL" not in env
    assert not default_release.has("ConfigMap", "order-api-jwks")
    # Made when rendered: another install gets another key.
    assert _dev_key(render({"config": {"logLevel": "debug"}})) != key


def test_an_init_container_publishes_the_jwks_and_order_api_never_sees_the_key(default_release: Release) -> None:
    spec = default_release.get("Deployment", "order-api")["spec"]["template"]["spec"]
    [init] = spec["initContainers"]
    assert init["name"] == "jwks"
    assert init["args"] == ["jwks", "--signing-key", "/etc/dev-issuer/signing-key.pem", "--out", "/etc/order-api/auth/jwks.json"], "exec form: the image has no shell"
    assert init["volumeMounts"] == [DEV_KEY_MOUNT, {"name": "auth-jwks", "mountPath": "/etc/order-api/auth"}]
    assert init["securityContext"] == spec["containers"][0]["securityContext"]
    assert {"name": "auth-jwks", "emptyDir": {"sizeLimit": "1Mi"}} in spec["volumes"]
    assert DEV_KEY_VOLUME in spec["volumes"]
    [api] = spec["containers"]
    assert {"name": "auth-jwks", "mountPath": "/etc/order-api/auth", "readOnly": True} in api["volumeMounts"]
    assert "dev-issuer" not in [m["name"] for m in api["volumeMounts"]]


@pytest.mark.parametrize("name", VALUE_SET_NAMES)
def test_no_long_running_container_mounts_the_private_key(name: str) -> None:
    """Only order-api's `jwks` init container and the `helm test` pod mount the development key."""
    release = render(value_set(name))
    mounting = []
    for workload, spec in release.pod_specs():
        keys = {v["name"] for v in spec.get("volumes", []) if v.get("secret", {}).get("secretName", "").endswith("dev-issuer")}
        for kind in ("initContainers", "containers"):
            for container in spec.get(kind, []):
                if any(m["name"] in keys for m in container.get("volumeMounts", [])):
                    mounting.append(f"{workload} {kind} {container['name']}")
    prefix = value_set(name).get("namePrefix", "")
    if value_set(name).get("orderApi", {}).get("auth", {}).get("jwksUrl"):
        assert mounting == []
    else:
        assert sorted(mounting) == [f"Deployment/{prefix}order-api initContainers jwks", f"Pod/{prefix}smoke-test containers smoke"]


def test_an_upgrade_keeps_the_development_key_the_cluster_holds(fake_cluster: FakeCluster) -> None:
    path = f"/api/v1/namespaces/{NAMESPACE}/secrets/dev-issuer"
    fresh = render_on_cluster(fake_cluster)
    assert path in fake_cluster.requested, "the chart looked the live Secret up"
    live_key = _dev_key(fresh)
    fake_cluster.objects[path] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "dev-issuer", "namespace": NAMESPACE},
        "type": "Opaque",
        "data": {"signing-key.pem": base64.b64encode(live_key.encode()).decode()},
    }
    assert _dev_key(render_on_cluster(fake_cluster, revision=3)) == live_key
    assert _dev_key(render_on_cluster(fake_cluster, {"config": {"logLevel": "debug"}}, revision=4)) == live_key


def test_a_real_issuer_turns_the_development_issuer_off() -> None:
    url = "https://issuer.example.com/.well-known/jwks.json"
    remote = render(REAL_ISSUER)
    assert remote.all("Secret") == [remote.get("Secret", "processor-auth")], "no development key"
    env = container_env(remote, "Deployment/order-api")
    assert (env["AUTH_JWKS_URL"], env["AUTH_ISSUER"]) == (url, "https://issuer.example.com/") and "AUTH_JWKS_FILE" not in env
    assert not remote.has("ConfigMap", "order-api-jwks")
    spec = dict(remote.pod_specs())["Deployment/order-api"]
    assert "initContainers" not in spec
    assert [v["name"] for v in spec["volumes"]] == ["processor-auth"]
    assert "TOKEN=$(kubectl" not in remote.notes and "order-api trusts tokens of https://issuer.example.com/" in remote.notes

    # The JWKS document given inline instead of its URL: a ConfigMap, mounted as AUTH_JWKS_FILE.
    document = '{"keys":[{"kty":"EC","crv":"P-256","x":"DlmrVbXVMMn_kOk5o69KjBbWw4t9iJDGwHP7cW-Ntgg","y":"HgVnHGtt3Gl6uALlsewOv9PN9nSHZTDbF2Z0PQqrCQc"}]}'
    inline = render({"orderApi": {"auth": {"issuer": "https://issuer.example.com/", "jwks": document}}})
    assert inline.get("ConfigMap", "order-api-jwks")["data"]["jwks.json"] == document
    spec = dict(inline.pod_specs())["Deployment/order-api"]
    assert "initContainers" not in spec and not inline.has("Secret", "dev-issuer")
    assert {"name": "auth-jwks", "configMap": {"name": "order-api-jwks"}} in spec["volumes"]
    assert {"name": "auth-jwks", "mountPath": "/etc/order-api/auth", "readOnly": True} in spec["containers"][0]["volumeMounts"]
    annotations = inline.get("Deployment", "order-api")["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/jwks" in annotations, "a new key set rolls the pods"


def test_the_smoke_test_mints_its_token_from_the_development_key(default_release: Release) -> None:
    pod = default_release.get("Pod", "smoke-test")["spec"]
    [container] = pod["containers"]
    assert container["env"] == [
        {"name": "ORDER_API_SIGNING_KEY", "value": "/etc/dev-issuer/signing-key.pem"},
        {"name": "AUTH_ISSUER", "value": "urn:order-system:dev"},
        {"name": "AUTH_AUDIENCE", "value": "order-api"},
    ]
    assert container["volumeMounts"] == [DEV_KEY_MOUNT]
    assert pod["volumes"] == [DEV_KEY_VOLUME]


def test_with_a_real_issuer_the_smoke_test_reads_a_token_secret() -> None:
    release = render(value_set("real-issuer"))
    pod = release.get("Pod", "smoke-test")["spec"]
    container = pod["containers"][0]
    assert container["env"] == [{"name": "ORDER_API_TOKEN_FILE", "value": "/var/run/secrets/order-api-test/token"}]
    assert container["volumeMounts"] == [{"name": "token", "mountPath": "/var/run/secrets/order-api-test", "readOnly": True}]
    assert pod["volumes"] == [{"name": "token", "secret": {"secretName": "issuer-test-token", "optional": True}}]
    assert "kubectl -n orders create secret generic issuer-test-token --from-literal=token=" in release.notes


def _token_command(notes: str) -> str:
    [line] = [line.strip() for line in notes.splitlines() if line.strip().startswith("TOKEN=$(kubectl")]
    return line


def _overrides(command: str) -> dict[str, Any]:
    match = re.search(r"--overrides='([^']+)'", command)
    assert match, command
    overrides: dict[str, Any] = json.loads(match[1])
    return overrides


def test_notes_print_a_token_command_that_make_helm_token_runs_too(default_release: Release) -> None:
    """NOTES.txt's one-off token pod: the orderctl image, the development key, order-api's issuer
    and audience; make/helm.mk's helm-token sends exactly the same overrides."""
    command = _token_command(default_release.notes)
    assert command.startswith("TOKEN=$(kubectl -n orders run orderctl-token --rm --attach --quiet --restart=Never ")
    assert f"--image=orderctl:{APP_VERSION} --image-pull-policy=IfNotPresent --override-type=strategic" in command
    assert command.endswith("-- token --customer CUST001)")
    spec = _overrides(command)["spec"]
    [container] = spec["containers"]
    assert container["name"] == "orderctl-token", "strategic merge: the container kubectl run makes"
    assert container["envFrom"] == [{"configMapRef": {"name": "order-api"}}], "AUTH_ISSUER and AUTH_AUDIENCE"
    assert container["env"] == [{"name": "ORDER_API_SIGNING_KEY", "value": "/etc/dev-issuer/signing-key.pem"}]
    assert container["volumeMounts"] == [DEV_KEY_MOUNT] and spec["volumes"] == [DEV_KEY_VOLUME]
    mk = (CHART.parents[4] / "make" / "helm.mk").read_text()
    match = re.search(r"^HELM_TOKEN_OVERRIDES := (.+)$", mk, re.MULTILINE)
    assert match, "make/helm.mk defines HELM_TOKEN_OVERRIDES"
    assert json.loads(match[1]) == _overrides(command)
    assert re.search(r"^HELM_TOKEN_POD := orderctl-token$", mk, re.MULTILINE)
    recipe = mk[mk.index("\nhelm-token:") :].split("\n\n", 1)[0]
    for flags in ("--rm --attach --quiet --restart=Never", "--image-pull-policy=IfNotPresent", "--override-type=strategic", "-- token --customer"):
        assert flags in recipe and flags in command, flags


def _assert_mounts_the_tokens(release: Release, deployment: str, secret: str) -> None:
    """The Deployment mounts key `tokens` of `secret`, read-only, exactly where its
    PROCESSOR_TOKENS_FILE points, and gets no token through its environment."""
    path = PurePosixPath(container_env(release, f"Deployment/{deployment}")["PROCESSOR_TOKENS_FILE"])
    spec = release.get("Deployment", deployment)["spec"]["template"]["spec"]
    [volume] = [v for v in spec["volumes"] if "secret" in v and v["secret"]["secretName"] == secret]
    assert volume["secret"]["items"] == [{"key": "tokens", "path": path.name}]
    [container] = spec["containers"]
    mounts = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mounts == [{"name": volume["name"], "mountPath": str(path.parent), "readOnly": True}]
    assert "env" not in container and all("secretRef" not in source for source in container["envFrom"])


def _token_list(release: Release, secret: str = "processor-auth") -> str:
    return base64.b64decode(release.get("Secret", secret)["data"]["tokens"]).decode()


def test_both_services_read_the_processor_token_from_the_chart_secret(default_release: Release) -> None:
    secret = default_release.get("Secret", "processor-auth")
    assert secret["type"] == "Opaque" and list(secret["data"]) == ["tokens"]
    assert re.fullmatch(r"[A-Za-z0-9]{64}", _token_list(default_release)), "one random token the services accept"
    for service in SERVICES:
        _assert_mounts_the_tokens(default_release, service, "processor-auth")
    # Made when rendered: another install gets another token.
    assert _token_list(render({"config": {"logLevel": "debug"}})) != _token_list(default_release)


def test_an_existing_secret_replaces_the_generated_one() -> None:
    release = render({"processorAuth": {"existingSecret": "order-system-tokens"}})
    assert not release.has("Secret", "processor-auth"), "the chart makes no token of its own"
    for service in SERVICES:
        _assert_mounts_the_tokens(release, service, "order-system-tokens")


def test_an_upgrade_keeps_the_tokens_the_cluster_holds(fake_cluster: FakeCluster) -> None:
    """lookup: the token made at install, or an operator's rotation (`old,new`) in the live
    Secret, survives `helm upgrade`; without a live Secret, a new token is made."""
    path = f"/api/v1/namespaces/{NAMESPACE}/secrets/processor-auth"
    fresh = render_on_cluster(fake_cluster)
    assert path in fake_cluster.requested, "the chart looked the live Secret up"
    assert re.fullmatch(r"[A-Za-z0-9]{64}", _token_list(fresh))

    rotating = "test-only-old-token-0000000000000000,test-only-new-token-1111111111111111"
    fake_cluster.objects[path] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "processor-auth", "namespace": NAMESPACE},
        "type": "Opaque",
        "data": {"tokens": base64.b64encode(rotating.encode()).decode()},
    }
    upgraded = render_on_cluster(fake_cluster, revision=3)
    assert _token_list(upgraded) == rotating
    for service in SERVICES:
        _assert_mounts_the_tokens(upgraded, service, "processor-auth")
