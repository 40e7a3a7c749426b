# AWS deployment (deliverables/deploy): ECR, the state bucket and the ECS
# cluster. Every target here acts on a real AWS account except tf-check; none
# runs during `make test` (that runs scripts/checks/terraform.sh, which never
# leaves loopback).

TERRAFORM_ECS_DIR := deliverables/deploy/ecs-ec2/terraform
TERRAFORM_ECR_DIR := deliverables/deploy/ecr/terraform
ECR_SCRIPTS_DIR := deliverables/deploy/ecr/scripts
TERRAFORM_STATE_DIR := deliverables/deploy/ecs-ec2/bootstrap-state
TERRAFORM_ECS_VAR_FILE ?= $(TERRAFORM_ECS_DIR)/terraform.tfvars
TERRAFORM_ECR_VAR_FILE ?= $(TERRAFORM_ECR_DIR)/terraform.tfvars
TERRAFORM_STATE_VAR_FILE ?= $(TERRAFORM_STATE_DIR)/terraform.tfvars
# Extra arguments for upload.sh, e.g. PUSH_IMAGES_ARGS="--platforms linux/amd64,linux/arm64"
PUSH_IMAGES_ARGS ?=

# terraform_var_file FILE: stops with a hint when the variables file is missing.
define terraform_var_file
@test -f $(1) || { echo "$(1) is missing: cp $(1).example $(1), then edit it" >&2; exit 1; }
endef

.PHONY: tf-check
tf-check: ## Terraform checks without AWS: fmt, validate, terraform test, checkov, apply/destroy on moto
	scripts/checks/terraform.sh

.PHONY: tf-state-bootstrap
tf-state-bootstrap: ## Optional: create the S3 state bucket (local state), print backend.hcl settings
	$(call terraform_var_file,$(TERRAFORM_STATE_VAR_FILE))
	$(call preflight,aws)
	terraform -chdir=$(TERRAFORM_STATE_DIR) init -input=false
	terraform -chdir=$(TERRAFORM_STATE_DIR) apply -var-file=$(abspath $(TERRAFORM_STATE_VAR_FILE))
	terraform -chdir=$(TERRAFORM_STATE_DIR) output -raw backend_config

.PHONY: ecr-init
ecr-init: ## terraform init for the ECR repositories
	terraform -chdir=$(TERRAFORM_ECR_DIR) init -input=false

.PHONY: ecr-apply
ecr-apply: ## Create the ECR repositories (shows the plan and asks first)
	$(call preflight,aws)
	$(call terraform_var_file,$(TERRAFORM_ECR_VAR_FILE))
	$(MAKE) --no-print-directory ecr-init
	terraform -chdir=$(TERRAFORM_ECR_DIR) apply -var-file=$(abspath $(TERRAFORM_ECR_VAR_FILE))

.PHONY: ecr-destroy
ecr-destroy: ## Delete the ECR repositories and their images (ecr/scripts/cleanup.sh; shows what goes and asks first)
	$(call terraform_var_file,$(TERRAFORM_ECR_VAR_FILE))
	TERRAFORM_ECR_VAR_FILE=$(abspath $(TERRAFORM_ECR_VAR_FILE)) $(ECR_SCRIPTS_DIR)/cleanup.sh

.PHONY: images-push
images-push: ## Build the two service images for the ECS instances' architecture and push them to ECR (ecr/scripts/upload.sh)
	$(call preflight,aws images)
	$(ECR_SCRIPTS_DIR)/upload.sh $(PUSH_IMAGES_ARGS)

# With backend.tf (copied from backend.tf.example), init reads backend.hcl.
.PHONY: tf-init
tf-init: ## terraform init for the ECS deployment (uses backend.hcl when backend.tf exists)
	terraform -chdir=$(TERRAFORM_ECS_DIR) init -input=false $(if $(wildcard $(TERRAFORM_ECS_DIR)/backend.tf),-backend-config=backend.hcl)

.PHONY: tf-plan
tf-plan: ## Plan the ECS deployment with its var-file into tfplan (runs tf-init first)
	$(call terraform_var_file,$(TERRAFORM_ECS_VAR_FILE))
	$(call preflight,aws)
	$(MAKE) --no-print-directory tf-init
	terraform -chdir=$(TERRAFORM_ECS_DIR) plan -input=false -var-file=$(abspath $(TERRAFORM_ECS_VAR_FILE)) -out=tfplan

.PHONY: tf-apply
tf-apply: ## Apply exactly the plan tf-plan saved
	@test -f $(TERRAFORM_ECS_DIR)/tfplan || { echo "no saved plan: run make tf-plan first" >&2; exit 1; }
	terraform -chdir=$(TERRAFORM_ECS_DIR) apply -input=false tfplan
	rm -f $(TERRAFORM_ECS_DIR)/tfplan

.PHONY: tf-output
tf-output: ## Show the ECS deployment's outputs (api_url, cluster, tables, ...)
	terraform -chdir=$(TERRAFORM_ECS_DIR) output

# ECS injects PROCESSOR_TOKENS only when a task starts: after each change of
# the token parameter (rotation: old -> old,new -> new,old -> new) both
# services must roll, and the next change must wait until they are stable.
.PHONY: ecs-redeploy
ecs-redeploy: ## Restart both ECS services' tasks (force new deployment) and wait until stable, e.g. after changing the processor token list
	$(call preflight,aws)
	@cluster=$$(terraform -chdir=$(TERRAFORM_ECS_DIR) output -raw cluster_name) && \
	region=$$(terraform -chdir=$(TERRAFORM_ECS_DIR) output -raw aws_region) && \
	for service in order-processor order-api; do \
	  aws ecs update-service --region "$$region" --cluster "$$cluster" --service "$$service" --force-new-deployment --query 'service.serviceName' --output text || exit 1; \
	done && \
	echo "waiting for both services to be stable (up to 10 minutes)" && \
	aws ecs wait services-stable --region "$$region" --cluster "$$cluster" --services order-processor order-api

# ECS's development issuer (the default; terraform.tfvars sets no auth_*): a
# signing key made on this machine by the orderctl image, so no Rust is
# needed. ecs-keygen writes it once into .run/ecs-auth (kept across runs: an
# existing key is kept); Terraform hands order-api the public jwks.json
# (modules/auth), and ecs-token signs with the private key, which never
# leaves this machine. The container runs as the caller, so the files are
# the caller's on Linux too.
ECS_AUTH_DIR := .run/ecs-auth
ECS_ORDERCTL_IMAGE ?= orderctl:$(CONTAINERS_TAG)
# make ecs-token CUSTOMER=CUST002 ADMIN=1 ECS_TOKEN_TTL=15m (CUSTOMER, ADMIN: see Makefile)
ECS_TOKEN_TTL ?= 1h
ecs_orderctl = docker run --rm --user "$$(id -u):$$(id -g)" --volume "$(CURDIR)/$(ECS_AUTH_DIR):/auth" $(ECS_ORDERCTL_IMAGE)

# The orderctl image, built (make image-orderctl, output to stderr so that
# ecs-token prints the token alone) unless it exists.
.PHONY: ecs-orderctl-image
ecs-orderctl-image:
	@docker image inspect $(ECS_ORDERCTL_IMAGE) >/dev/null 2>&1 || \
	  $(MAKE) --no-print-directory image-orderctl >&2

.PHONY: ecs-keygen
ecs-keygen: ecs-orderctl-image ## Make the ECS development issuer's signing key (.run/ecs-auth, kept if present) with the orderctl image; run before tf-plan
	@mkdir -p $(ECS_AUTH_DIR)
	$(ecs_orderctl) keygen --dir /auth

.PHONY: ecs-token
ecs-token: ecs-orderctl-image ## Print a token for order-api on ECS: CUSTOMER=CUST001 (default), ADMIN=1 for any customer's orders, ECS_TOKEN_TTL=1h
	@test -f $(ECS_AUTH_DIR)/signing-key.pem || { echo "$(ECS_AUTH_DIR)/signing-key.pem is missing: run make ecs-keygen, then make tf-plan tf-apply" >&2; exit 1; }
	@$(ecs_orderctl) token --signing-key /auth/signing-key.pem --customer "$(CUSTOMER)" --ttl "$(ECS_TOKEN_TTL)" $(if $(filter 1,$(ADMIN)),--admin)

.PHONY: ecs-smoke
ecs-smoke: ## Check the ALB hides /metrics and /health and the processor wants its SSM token, then run test_docker_compose.sh (token from ecs-token unless ORDER_API_TOKEN; processor through a Session Manager port forward)
	deliverables/deploy/scripts/ecs-smoke-test.sh

.PHONY: tf-destroy
tf-destroy: ## Destroy the ECS deployment (shows what goes and asks first)
	$(call terraform_var_file,$(TERRAFORM_ECS_VAR_FILE))
	terraform -chdir=$(TERRAFORM_ECS_DIR) destroy -var-file=$(abspath $(TERRAFORM_ECS_VAR_FILE))
