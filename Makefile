# The one task runner. `make help` lists the targets.
#
# Every target works on a fresh Debian/Ubuntu machine with Rust, Java 17 and
# Node/npm: tools the checks need are installed into .tools/ on first use.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

APPS := starter/apps

# Every pinned tool version (versions.env), and the tools installed on first use
# (.tools/cargo/bin: cargo-nextest at the pinned version) ahead of the machine's.
include versions.env
export PATH := $(CURDIR)/.tools/cargo/bin:$(PATH)
CARGO := cargo
CARGO_MANIFEST := --manifest-path $(APPS)/Cargo.toml

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

# ---- preflight --------------------------------------------------------------

# Which tools each deploy path needs; `make doctor DOCTOR_TARGETS=compose` checks one.
DOCTOR_TARGETS ?=
SKIP_DOCTOR ?=
# $(call preflight,TARGET...): the doctor's check, first in each deploy target; SKIP_DOCTOR=1 skips it.
preflight = $(if $(filter 1,$(SKIP_DOCTOR)),@true,scripts/doctor.sh $(1))

.PHONY: doctor
doctor: ## Check the tools and versions each deploy path needs (native, compose, minikube, kubernetes, aws, images)
	scripts/doctor.sh $(DOCTOR_TARGETS)

# ---- local development (no Docker) ---------------------------------------

.PHONY: dev
dev: ## Start DynamoDB Local, both services and seed data as local processes (ports 8000-8002)
	$(call preflight,native)
	$(APPS)/scripts/native-stack.sh up

.PHONY: down
down: ## Stop everything `make dev` started
	$(APPS)/scripts/native-stack.sh down

.PHONY: status
status: ## Show what `make dev` runs
	$(APPS)/scripts/native-stack.sh status

.PHONY: smoke
smoke: ## Run the smoke test against order-api (SERVER_ENDPOINT, default http://localhost:8001)
	$(CARGO) run --quiet $(CARGO_MANIFEST) --bin orderctl -- smoke

# ---- build and checks -----------------------------------------------------

.PHONY: build
build: ## Build every binary (debug)
	$(CARGO) build $(CARGO_MANIFEST) --bins

.PHONY: fmt
fmt: ## Format the Rust code
	$(CARGO) fmt $(CARGO_MANIFEST) --all

.PHONY: lint
lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt $(CARGO_MANIFEST) --all -- --check
	$(CARGO) clippy $(CARGO_MANIFEST) --workspace --all-targets --locked -- -D warnings

.PHONY: test-rust
test-rust: ## Unit and black-box tests (cargo nextest) against a fresh DynamoDB Local
	@# system-tests start the service binaries as processes: build them first.
	$(CARGO) build $(CARGO_MANIFEST) --workspace --bins --locked
	$(APPS)/scripts/with-dynamodb-local.sh $(CARGO) nextest run $(CARGO_MANIFEST) --workspace --locked --no-fail-fast

.PHONY: openapi
openapi: ## Write each service's generated OpenAPI document to its committed openapi.json
	UPDATE_OPENAPI=1 $(CARGO) test $(CARGO_MANIFEST) --locked -p order-api -p order-processor --lib openapi_document_is_committed

# The development tokens every path prints (compose-token, helm-token, ecs-token): whose, and
# ADMIN=1 for an admin's (the orders:admin scope: any customer's orders).
CUSTOMER ?= CUST001
ADMIN ?=

# Each deploy target keeps its own targets in make/<area>.mk.
-include make/*.mk

.PHONY: test
test: ## Every check: lint, all tests, the smoke test against the native stack. Ends with "N passed, N failed"
	$(call preflight,native)
	scripts/test.sh
