# Two commands matter: `make run` and `make test`. Both create .venv from uv.lock first.
# Nothing here downloads anything except packages from the package registry (PyPI).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON   ?= python3.11
UV_VERSION ?= 0.13.9
UV       ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV     := .venv
BIN      := $(VENV)/bin
AS_OF    ?= 2026-10-31
LANDING  ?= include/sample
WAREHOUSE ?= var/warehouse.duckdb
# the bundled sample has a Salesforce-style deals export: load its header mapping
MAPPINGS ?= include/mappings/salesforce
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(UV):
	@echo ">> uv not found: installing uv==$(UV_VERSION) from the package registry (pip --user)"
	$(PYTHON) -m pip install --user --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	@echo ">> creating $(VENV) from uv.lock (uv sync --frozen; no resolution, registry only)"
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced dbt_project/target/manifest.json  ## create .venv from the lock file, build the dbt manifest
	@echo ">> environment ready: $$($(BIN)/python --version), upsell at $(BIN)/upsell"

# Cosmos renders the DAG from this pre-built manifest (no dbt ls at DAG-parse time).
dbt_project/target/manifest.json: $(VENV)/.synced $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' | grep -v '/target/')
	@echo ">> building the dbt manifest for Airflow/Cosmos (dbt parse)"
	UPSELL_EMAIL_SALT=parse-only $(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project \
		--target-path $(CURDIR)/dbt_project/target --log-path $(CURDIR)/var/dbt-logs --quiet
	@touch $@

manifest: dbt_project/target/manifest.json  ## (re)build the dbt manifest

run: setup  ## set up, then run the nightly job on the bundled sample (embedded DuckDB)
	@echo ">> running the nightly job on $(LANDING) as of $(AS_OF) into $(WAREHOUSE)"
	$(BIN)/upsell run --landing $(LANDING) --warehouse $(WAREHOUSE) --as-of $(AS_OF) --mappings $(MAPPINGS)

test: setup  ## set up, then run every test (unit + integration)
	@echo ">> running the test suite"
	$(BIN)/python -m pytest -q
	@echo ">> linting (ruff, incl. Airflow rules)"
	$(BIN)/ruff check dags include tests

lint: setup  ## ruff
	$(BIN)/ruff check dags include tests

bench-ingest: setup  ## benchmark ingestion vs bare DuckDB read_csv on M-scale email events
	$(BIN)/python -m upsell.bench.ingest --scale M --out bench-data

clean:  ## remove build output and the local warehouse (keeps .venv)
	rm -rf var .pytest_cache .ruff_cache

.PHONY: help setup manifest run test lint bench-ingest clean
