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
