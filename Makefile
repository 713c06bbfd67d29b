# service garden — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.8
BOOT := .local/bootstrap
UV := $(BOOT)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install run up stop status logs test test-unit test-integration soak bench catalog lint format infra-up infra-down clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -m venv $(BOOT)
	@$(BOOT)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	@$(UV) sync --frozen --quiet --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced ## Create .venv with the locked dependencies
	@deploy/kafka/kafkactl.sh fetch

infra-up: install ## Start Kafka (KRaft) and PostgreSQL natively, apply migrations
	@scripts/stack.sh infra-up

infra-down: ## Stop Kafka and PostgreSQL
	@scripts/stack.sh infra-down

run: install ## Start everything with a demo load, follow the logs (Ctrl-C stops)
	@scripts/stack.sh run

up: install ## Start everything with a demo load in the background
	@scripts/stack.sh up

stop: ## Stop the services, the demo load and the infrastructure
	@scripts/stack.sh stop

status: ## Show what is running
	@scripts/stack.sh status

logs: ## Follow the services' logs
	@scripts/stack.sh logs

test: install ## Set up and run the whole test suite (unit, integration, e2e)
	@scripts/test.sh

test-unit: install ## Run the unit tests only (no Kafka or PostgreSQL)
	@$(PY) -m pytest tests/unit -q

soak: install ## The long fault soak: more agents, days and faults (RELIABILITY_SEED=… replays)
	@RELIABILITY_SOAK=1 $(PY) -m pytest tests/reliability/test_pipeline_faults.py -p no:cacheprovider -s

bench: install ## Run the benchmarks and write bench-results/
	@scripts/bench.sh

catalog: install ## Write the events catalog (AsyncAPI) to docs/events.asyncapi.json
	@$(PY) -m shared.contracts.asyncapi docs/events.asyncapi.json

lint: install ## ruff (lint + format check) and mypy on shared/
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

format: install ## Format and fix what ruff can
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

clean: stop ## Stop everything and delete local state (.local, .venv)
	@rm -rf .local $(VENV)
