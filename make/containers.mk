# Container images and the Docker Compose stack: starter/apps/Dockerfile and
# starter/apps/docker-compose.yaml. Needs Docker Engine 25+ with Compose v2.24+;
# `make containers-check` needs no Docker at all.
#
# Variables (make VAR=value):
#   CONTAINERS_TAG       tag of the images `make images` builds (default: the
#                        git revision, with -dirty when the tree has changes)
#   CONTAINERS_PLATFORM  e.g. linux/arm64: build for that platform (default:
#                        this machine's)
#   CUSTOMER, ADMIN      compose-token's subject and scope (see Makefile)

CONTAINERS_COMPOSE = docker compose --file $(APPS)/docker-compose.yaml
CONTAINERS_BINARIES := order-api order-processor orderctl
CONTAINERS_IMAGE_TARGETS := $(addprefix image-,$(CONTAINERS_BINARIES))
CONTAINERS_REVISION = $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CONTAINERS_VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(APPS)/Cargo.toml | head -n 1)
CONTAINERS_SOURCE_URL = $(shell git remote get-url origin 2>/dev/null)
CONTAINERS_TAG ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)$(shell git status --porcelain 2>/dev/null | grep -q . && echo -dirty)
CONTAINERS_PLATFORM ?=

.PHONY: compose-up compose-down compose-logs compose-ps compose-test compose-token up logs images $(CONTAINERS_IMAGE_TARGETS) containers-check

compose-up: ## Build the images, start the Compose stack (ports 8000-8002, 9090, 3000); returns once all are healthy
	$(call preflight,compose)
	$(CONTAINERS_COMPOSE) up --detach --wait --build

up: compose-up ## Same as compose-up

compose-down: ## Stop and remove the Compose stack's containers (its data volumes are kept; see Instructions.md)
	$(CONTAINERS_COMPOSE) down

compose-logs: ## Follow the Compose stack's logs
	$(CONTAINERS_COMPOSE) logs --follow --tail=100

logs: compose-logs ## Same as compose-logs

compose-ps: ## Show the Compose stack's containers and their health
	$(CONTAINERS_COMPOSE) ps --all

compose-test: ## Run scripts/test_docker_compose.sh against the running Compose stack
	$(APPS)/scripts/test_docker_compose.sh

# Silent (@): only the token on stdout, so TOKEN=$(make compose-token) works.
compose-token: ## Print a bearer token from the Compose stack's development key (CUSTOMER=CUST001; ADMIN=1 for any customer's orders)
	@$(CONTAINERS_COMPOSE) run --rm --no-deps -T auth-keys token --customer $(CUSTOMER) $(if $(filter 1,$(ADMIN)),--admin)

images: $(CONTAINERS_IMAGE_TARGETS) ## Build the three images (one alone: make image-order-api), tagged CONTAINERS_TAG

$(CONTAINERS_IMAGE_TARGETS): image-%:
	docker build $(APPS) \
	  $(if $(CONTAINERS_PLATFORM),--platform $(CONTAINERS_PLATFORM)) \
	  --build-arg BINARY=$* \
	  --build-arg VERSION=$(CONTAINERS_VERSION) \
	  --build-arg REVISION=$(CONTAINERS_REVISION) \
	  --build-arg SOURCE_URL=$(CONTAINERS_SOURCE_URL) \
	  --tag $*:$(CONTAINERS_TAG)

containers-check: ## Lint, validate, build and run the images without Docker (what make test runs)
	scripts/checks/containers.sh
