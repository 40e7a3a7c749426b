# The starter's make target names, kept so its instructions still work. Each
# runs the target that replaced it; `make help` marks them "(starter)".

.PHONY: docker-build docker-build-api docker-build-processor \
  compose-all compose-build compose-start compose-stop ddb-seed \
  tf-cluster-init tf-cluster-plan tf-cluster-apply tf-cluster-destroy tf-cluster-graph \
  ecr-upload ecr-cleanup \
  helm-apply helm-destroy helm-restart helm-monitoring-apply helm-monitoring-destroy

docker-build: images ## (starter) = images
docker-build-api: image-order-api ## (starter) = image-order-api
docker-build-processor: image-order-processor ## (starter) = image-order-processor

compose-all: compose-up ## (starter) = compose-up
compose-start: compose-up ## (starter) = compose-up
compose-stop: compose-down ## (starter) = compose-down
compose-build: ## (starter) Build the Compose stack's images without starting it
	$(CONTAINERS_COMPOSE) build
ddb-seed: ## (starter) Seed the Compose stack's inventory again (it seeds itself on start)
	$(CONTAINERS_COMPOSE) run --rm dynamodb-seed

tf-cluster-init: tf-init ## (starter) = tf-init
tf-cluster-plan: tf-plan ## (starter) = tf-plan
# The starter applied in one step; so does this, after showing the plan and
# asking (tf-plan + tf-apply is the reviewed two-step way).
tf-cluster-apply: ## (starter) terraform apply of the ECS deployment: shows the plan and asks first
	$(call terraform_var_file,$(TERRAFORM_ECS_VAR_FILE))
	$(call preflight,aws)
	$(MAKE) --no-print-directory tf-init
	terraform -chdir=$(TERRAFORM_ECS_DIR) apply -var-file=$(abspath $(TERRAFORM_ECS_VAR_FILE))
tf-cluster-destroy: tf-destroy ## (starter) = tf-destroy
tf-cluster-graph: ## (starter) The ECS deployment's resource graph (DOT) on stdout
	terraform -chdir=$(TERRAFORM_ECS_DIR) graph

ecr-upload: images-push ## (starter) = images-push
ecr-cleanup: ecr-destroy ## (starter) = ecr-destroy

helm-apply: helm-install ## (starter) = helm-install
helm-destroy: helm-uninstall ## (starter) = helm-uninstall
helm-restart: ## (starter) Rolling restart of order-api and order-processor (DynamoDB Local keeps running)
	$(KUBECTL) rollout restart deployment --namespace $(HELM_NAMESPACE) \
	  --selector 'app.kubernetes.io/instance=$(HELM_RELEASE),app.kubernetes.io/component in (order-api,order-processor)'
helm-monitoring-apply: monitoring-install ## (starter) = monitoring-install
helm-monitoring-destroy: monitoring-uninstall ## (starter) = monitoring-uninstall
