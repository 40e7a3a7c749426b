# Observability: dashboards, alert rules and their checks.
# Dashboards and rules live in the Helm chart (deliverables/deploy/kubernetes/
# charts/microservices/files/); tests and configuration in deliverables/observability/.

OBSERVABILITY_TESTS := deliverables/observability/tests

.PHONY: observability-check
observability-check: ## Every observability check: rules, unit tests, configs, dashboards, live queries
	scripts/checks/observability.sh

.PHONY: observability-static
observability-static: ## Observability checks without the live one (no services started, about 30 s)
	OBSERVABILITY_SKIP_LIVE=1 scripts/checks/observability.sh

.PHONY: observability-live
observability-live: ## Live check: Prometheus scrapes a native stack on ports 18100-18102; every dashboard query must return data
	$(OBSERVABILITY_TESTS)/live-check.sh

.PHONY: observability-cluster
observability-cluster: ## On a cluster with helm-install and monitoring-install done: failure paths and traffic, then every dashboard query and rule against its Prometheus
	HELM_NAMESPACE=$(HELM_NAMESPACE) HELM_MONITORING_NAMESPACE=$(HELM_MONITORING_NAMESPACE) \
	  HELM_MONITORING_RELEASE=$(HELM_MONITORING_RELEASE) KUBECTL=$(KUBECTL) \
	  $(OBSERVABILITY_TESTS)/cluster-check.sh

# ---- Grafana and Alertmanager of kube-prometheus-stack (make monitoring-install) -------------
# 3001, not 3000: Compose's Grafana is on 3000, and both may run at once.
GRAFANA_OPEN_PORT ?= 3001
ALERTMANAGER_OPEN_PORT ?= 9093
# Dashboard uids: ours (files/dashboards/<uid>.json in the app chart) and kube-prometheus-stack's
# cluster dashboards, fixed in its chart (checked in the pinned version, versions.env).
GRAFANA_DASHBOARDS := \
  'Order system / Overview=order-system-overview' \
  'Order system / Kubernetes resources=order-system-resources' \
  'Kubernetes / Compute Resources / Cluster=efa86fd1d0c121a26444b636a3f509a8' \
  'Kubernetes / Compute Resources / Namespace (Pods)=85a562078cdf77779eaa1add43ccec1e' \
  'Kubernetes / Compute Resources / Workload=a164a7f0339f99e89cea5cb47e9be617' \
  'Node Exporter / Nodes=7d57716318ee0dddbac5a7f451fb7753'

.PHONY: grafana-open
grafana-open: ## Print Grafana's admin password and the dashboards' URLs (ours and the cluster's), forward it to localhost:3001 (GRAFANA_OPEN_PORT; Ctrl-C stops)
	@printf 'Grafana: http://localhost:$(GRAFANA_OPEN_PORT)  user: admin  password: '
	@$(KUBECTL) --namespace $(HELM_MONITORING_NAMESPACE) get secret $(HELM_MONITORING_RELEASE)-grafana \
	  -o go-template='{{index .data "admin-password" | base64decode}}'
	@echo
	@for dashboard in $(GRAFANA_DASHBOARDS); do \
	  printf '  %-52s http://localhost:$(GRAFANA_OPEN_PORT)/d/%s\n' "$${dashboard%=*}" "$${dashboard##*=}"; \
	done
	$(KUBECTL) --namespace $(HELM_MONITORING_NAMESPACE) port-forward service/$(HELM_MONITORING_RELEASE)-grafana $(GRAFANA_OPEN_PORT):80

.PHONY: alertmanager-open
alertmanager-open: ## Forward Alertmanager's UI to localhost:9093 (ALERTMANAGER_OPEN_PORT; Ctrl-C stops): the order system's alerts and Watchdog
	@echo 'Alertmanager: http://localhost:$(ALERTMANAGER_OPEN_PORT)/#/alerts?receiver=order-system  (Watchdog: receiver=watchdog)'
	$(KUBECTL) --namespace $(HELM_MONITORING_NAMESPACE) port-forward service/$(HELM_MONITORING_RELEASE)-alertmanager $(ALERTMANAGER_OPEN_PORT):9093
