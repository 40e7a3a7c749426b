# Kubernetes: Minikube, kube-prometheus-stack and the order system's Helm chart.
#
# The whole path on a laptop (helm 3.17+, kubectl, minikube with Docker as its driver; `make doctor`
# checks them):
#   make minikube-start minikube-images monitoring-install helm-install helm-test helm-token grafana-open
# These targets drive a real cluster (no Rust needed); `make test` never runs them. The offline checks of the
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
# Identity: with its default values the chart is its own development issuer (an ES256 key in
# Secret dev-issuer, made in the cluster at install and kept across upgrades); `helm test` and
# helm-token sign with it in the cluster, so no Rust is needed here. For a real issuer:
# HELM_ARGS='--set orderApi.auth.jwksUrl=https://… --set orderApi.auth.issuer=…'.
# The one-off token pod: the chart's NOTES.txt prints the same command (tests/test_workloads.py
# keeps the two equal). It mounts the dev-issuer Secret, takes AUTH_ISSUER and AUTH_AUDIENCE from
# order-api's ConfigMap and meets the namespace's restricted Pod Security Standard.
HELM_TOKEN_POD := orderctl-token
HELM_TOKEN_OVERRIDES := {"spec":{"automountServiceAccountToken":false,"containers":[{"env":[{"name":"ORDER_API_SIGNING_KEY","value":"/etc/dev-issuer/signing-key.pem"}],"envFrom":[{"configMapRef":{"name":"order-api"}}],"name":"orderctl-token","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"privileged":false,"readOnlyRootFilesystem":true},"volumeMounts":[{"mountPath":"/etc/dev-issuer","name":"dev-issuer","readOnly":true}]}],"securityContext":{"runAsGroup":65532,"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}},"volumes":[{"name":"dev-issuer","secret":{"items":[{"key":"signing-key.pem","path":"signing-key.pem"}],"secretName":"dev-issuer"}}]}}

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
# Smaller Docker: MINIKUBE_MEMORY=4g still fits the requests, with less headroom. Kubernetes is the
# version your minikube starts by default (1.32 for minikube 1.35, 1.35 for 1.38; the chart is
# validated against every minor from 1.32 to 1.37); MINIKUBE_KUBERNETES_VERSION=v1.35.1 picks one.
# Calico enforces the chart's NetworkPolicies (the default CNI ignores them).
MINIKUBE_CPUS ?= 4
MINIKUBE_MEMORY ?= 6g
MINIKUBE_CNI ?= calico
MINIKUBE_KUBERNETES_VERSION ?=
export MINIKUBE_CPUS MINIKUBE_MEMORY

.PHONY: minikube-start
minikube-start: ## Start Minikube (MINIKUBE_CPUS=4, MINIKUBE_MEMORY=6g, its default Kubernetes, Calico) with metrics-server
	$(call preflight,minikube kubernetes)
	$(MINIKUBE) start --cpus $(MINIKUBE_CPUS) --memory $(MINIKUBE_MEMORY) --cni $(MINIKUBE_CNI) \
	  $(if $(MINIKUBE_KUBERNETES_VERSION),--kubernetes-version $(MINIKUBE_KUBERNETES_VERSION))
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

# The namespace enforces the restricted Pod Security Standard (and warns and audits at it): every
# pod of the chart, its `helm test` pod and the helm-token pod meet it. Applied on every install,
# so a namespace that exists gets the labels too.
.PHONY: helm-install
helm-install: ## Install or upgrade the order system into namespace orders; waits until the tables exist and both services are ready
	$(call preflight,kubernetes)
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/audit: restricted\n' \
	  '$(HELM_NAMESPACE)' | $(KUBECTL) apply --filename -
	$(HELM) upgrade --install $(HELM_RELEASE) $(HELM_CHART) --namespace $(HELM_NAMESPACE) \
	  --wait --wait-for-jobs --timeout $(HELM_TIMEOUT) $(HELM_ARGS)

.PHONY: helm-test
helm-test: ## Run `helm test`: orderctl smoke (create + read an order) inside the cluster, with a token it mints there
	$(HELM) test $(HELM_RELEASE) --namespace $(HELM_NAMESPACE) --logs

.PHONY: helm-token
helm-token: ## Print a bearer token of the chart's development issuer (CUSTOMER=CUST001; ADMIN=1: an admin's), from a one-off pod
	@$(KUBECTL) --namespace $(HELM_NAMESPACE) run $(HELM_TOKEN_POD) --rm --attach --quiet --restart=Never \
	  --image=orderctl:$(HELM_APP_VERSION) --image-pull-policy=IfNotPresent \
	  --override-type=strategic --overrides='$(HELM_TOKEN_OVERRIDES)' \
	  -- token --customer '$(CUSTOMER)' $(if $(filter 1,$(ADMIN)),--admin)

.PHONY: helm-url
helm-url: ## Print order-api's URL on Minikube (NodePort)
	$(MINIKUBE) service order-api --namespace $(HELM_NAMESPACE) --url

.PHONY: helm-uninstall
helm-uninstall: ## Remove the order system (a persistence PVC is kept: delete it to drop the tables)
	$(HELM) uninstall $(HELM_RELEASE) --namespace $(HELM_NAMESPACE) --wait

.PHONY: helm-lint
helm-lint: ## helm lint --strict on the chart (real helm CLI)
	$(HELM) lint --strict $(HELM_CHART)

.PHONY: helm-template
helm-template: ## Render the chart as installed next to kube-prometheus-stack (real helm CLI)
	$(HELM) template $(HELM_RELEASE) $(HELM_CHART) --namespace $(HELM_NAMESPACE) \
	  --api-versions monitoring.coreos.com/v1 $(HELM_ARGS)

.PHONY: helm-check
helm-check: ## Offline chart checks, no cluster or helm CLI needed (what make test runs)
	scripts/checks/helm.sh
