# Kubernetes: Minikube, kube-prometheus-stack and the order system's Helm chart.
#
# The whole path on a laptop (helm 3.17+, kubectl, minikube with Docker as its driver; `make doctor`
# checks them):
#   make minikube-start minikube-images monitoring-install helm-install helm-test grafana-open
# These targets drive a real cluster; `make test` never runs them. The offline checks of the
# chart (lint, render, schemas, checkov) are `make helm-check`, part of `make test`.

HELM ?= helm
KUBECTL ?= kubectl
MINIKUBE ?= minikube

HELM_CHART := deliverables/deploy/kubernetes/charts/microservices
HELM_RELEASE ?= microservices
HELM_NAMESPACE ?= orders
# Extra arguments for helm install/template, e.g. HELM_ARGS='--set dynamodb.persistence.enabled=false'
HELM_ARGS ?=
HELM_TIMEOUT ?= 10m
# The app images are tagged with the chart's appVersion, which the chart uses as default tag.
HELM_APP_VERSION := $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(HELM_CHART)/Chart.yaml)
HELM_IMAGES := order-api order-processor orderctl
# order-api trusts a development key made on this machine (`orderctl keygen`, kept across runs;
# the same one `make dev` uses): helm-install passes its public JWKS, helm-test mints a
# 15-minute token with it for the test pod. The private key never enters the cluster. For a real
# issuer: HELM_ARGS='--set orderApi.auth.jwks= --set orderApi.auth.jwksUrl=https://…
# --set orderApi.auth.issuer=…'.
HELM_AUTH_DIR ?= .run/auth
HELM_TEST_TOKEN_SECRET := order-api-test-token
# An issuer and a public key for rendering without a cluster (helm-lint, helm-template).
HELM_DEV_AUTH_VALUES := deliverables/deploy/kubernetes/tests/fixtures/dev-auth.yaml
ORDERCTL ?= $(CARGO) run --quiet $(CARGO_MANIFEST) --bin orderctl --

# kube-prometheus-stack, pinned. The app chart's ServiceMonitors carry `release: <this name>`.
HELM_MONITORING_RELEASE ?= kube-prometheus-stack
HELM_MONITORING_NAMESPACE ?= monitoring
HELM_MONITORING_CHART := kube-prometheus-stack
HELM_MONITORING_REPO := https://prometheus-community.github.io/helm-charts
HELM_MONITORING_VERSION := $(KUBE_PROMETHEUS_STACK_VERSION)
HELM_MONITORING_VALUES := deliverables/deploy/kubernetes/monitoring/values.yaml

# A Minikube that fits Docker Desktop's default: the whole stack (both services, DynamoDB Local,
# kube-prometheus-stack) requests 1.3 GiB and is limited to 3.8 GiB; 6 GiB leaves about 1.5 GiB
# to Kubernetes itself (deliverables/deploy/kubernetes/tests/test_sizing.py keeps the sums).
# Smaller Docker: MINIKUBE_MEMORY=4g still fits the requests, with less headroom. The Kubernetes version is
# pinned (versions.env) to one the chart is validated against. Calico enforces the chart's
# NetworkPolicies (the default CNI ignores them).
MINIKUBE_CPUS ?= 4
MINIKUBE_MEMORY ?= 6g
MINIKUBE_CNI ?= calico
MINIKUBE_KUBERNETES_VERSION ?= v$(KUBERNETES_VERSION)
export MINIKUBE_CPUS MINIKUBE_MEMORY

.PHONY: minikube-start
minikube-start: ## Start Minikube (MINIKUBE_CPUS=4, MINIKUBE_MEMORY=6g, pinned Kubernetes, Calico) with metrics-server
	$(call preflight,minikube kubernetes)
	$(MINIKUBE) start --cpus $(MINIKUBE_CPUS) --memory $(MINIKUBE_MEMORY) --cni $(MINIKUBE_CNI) \
	  --kubernetes-version $(MINIKUBE_KUBERNETES_VERSION)
	$(MINIKUBE) addons enable metrics-server

.PHONY: minikube-images
minikube-images: ## Build order-api, order-processor and orderctl into Minikube's runtime (tag: appVersion)
	$(call preflight,minikube)
	for binary in $(HELM_IMAGES); do \
	  $(MINIKUBE) image build -t "$$binary:$(HELM_APP_VERSION)" -f Dockerfile \
	    --build-opt="build-arg=BINARY=$$binary" --build-opt="build-arg=VERSION=$(HELM_APP_VERSION)" \
	    --build-opt=target=runtime $(APPS); \
	done
	$(MINIKUBE) image ls | grep -E '(^|/)(order-api|order-processor|orderctl):$(HELM_APP_VERSION)$$'

.PHONY: monitoring-install
monitoring-install: ## Install kube-prometheus-stack (pinned) into namespace monitoring
	$(call preflight,kubernetes)
	$(HELM) upgrade --install $(HELM_MONITORING_RELEASE) $(HELM_MONITORING_CHART) \
	  --repo $(HELM_MONITORING_REPO) --version $(HELM_MONITORING_VERSION) \
	  --namespace $(HELM_MONITORING_NAMESPACE) --create-namespace \
	  --values $(HELM_MONITORING_VALUES) --wait --timeout $(HELM_TIMEOUT)

.PHONY: monitoring-uninstall
monitoring-uninstall: ## Remove kube-prometheus-stack (its CRDs stay, as Helm leaves them)
	$(HELM) uninstall $(HELM_MONITORING_RELEASE) --namespace $(HELM_MONITORING_NAMESPACE) --wait

.PHONY: helm-install
helm-install: ## Install or upgrade the order system into namespace orders; waits until both services are ready
	$(call preflight,kubernetes)
	$(ORDERCTL) keygen --dir $(HELM_AUTH_DIR)
	$(HELM) upgrade --install $(HELM_RELEASE) $(HELM_CHART) \
	  --namespace $(HELM_NAMESPACE) --create-namespace \
	  --set orderApi.auth.issuer=urn:order-system:dev --set-file orderApi.auth.jwks=$(HELM_AUTH_DIR)/jwks.json \
	  --wait --wait-for-jobs --timeout $(HELM_TIMEOUT) $(HELM_ARGS)

.PHONY: helm-test
helm-test: ## Run `helm test`: orderctl smoke (create + read an order) inside the cluster, with a fresh token
	$(ORDERCTL) token --customer CUST001 --ttl 15m --signing-key $(HELM_AUTH_DIR)/signing-key.pem \
	  | $(KUBECTL) --namespace $(HELM_NAMESPACE) create secret generic $(HELM_TEST_TOKEN_SECRET) \
	    --from-file=token=/dev/stdin --dry-run=client --output yaml \
	  | $(KUBECTL) --namespace $(HELM_NAMESPACE) apply --filename -
	$(HELM) test $(HELM_RELEASE) --namespace $(HELM_NAMESPACE) --logs

.PHONY: helm-url
helm-url: ## Print order-api's URL on Minikube (NodePort)
	$(MINIKUBE) service order-api --namespace $(HELM_NAMESPACE) --url

# 3001, not 3000: Compose's Grafana is on 3000, and both may run at once.
GRAFANA_OPEN_PORT ?= 3001

.PHONY: grafana-open
grafana-open: ## Print Grafana's admin password and forward it to http://localhost:3001 (GRAFANA_OPEN_PORT; Ctrl-C stops)
	@printf 'Grafana: http://localhost:$(GRAFANA_OPEN_PORT)  user: admin  password: '
	@$(KUBECTL) --namespace $(HELM_MONITORING_NAMESPACE) get secret $(HELM_MONITORING_RELEASE)-grafana \
	  -o jsonpath='{.data.admin-password}' | base64 --decode
	@echo
	$(KUBECTL) --namespace $(HELM_MONITORING_NAMESPACE) port-forward service/$(HELM_MONITORING_RELEASE)-grafana $(GRAFANA_OPEN_PORT):80

.PHONY: helm-uninstall
helm-uninstall: ## Remove the order system (a persistence PVC is kept: delete it to drop the tables)
	$(HELM) uninstall $(HELM_RELEASE) --namespace $(HELM_NAMESPACE) --wait

.PHONY: helm-lint
helm-lint: ## helm lint --strict on the chart (real helm CLI)
	$(HELM) lint --strict $(HELM_CHART) --values $(HELM_DEV_AUTH_VALUES)

.PHONY: helm-template
helm-template: ## Render the chart as installed next to kube-prometheus-stack (real helm CLI)
	$(HELM) template $(HELM_RELEASE) $(HELM_CHART) --namespace $(HELM_NAMESPACE) \
	  --api-versions monitoring.coreos.com/v1 --values $(HELM_DEV_AUTH_VALUES) $(HELM_ARGS)

.PHONY: helm-check
helm-check: ## Offline chart checks, no cluster or helm CLI needed (what make test runs)
	scripts/checks/helm.sh
