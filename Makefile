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
# Compile the venv's bytecode at install time: with PYTHONDONTWRITEBYTECODE set (as on CI
# machines and in many containers) every process (each Airflow task, dbt, GX) would
# otherwise compile Airflow, dbt and Great Expectations from source on every start.
export UV_COMPILE_BYTECODE := 1

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

# Cosmos renders the DAG from this pre-built manifest (no dbt ls at DAG-parse time), and
# copies the partial-parse file written beside it into its dbt build. upsell.cosmos_parse
# parses with the warehouse path, profile, target and vars that the DAG's dbt producer
# passes, so that `make run`'s build re-parses only the few models that read the salt;
# another warehouse path or UPSELL_BUSINESS_TZ only costs dbt a full parse (≈ 2.4 s).
# Cosmos' cache (the newest partial-parse file wins) is this checkout's own
# (AIRFLOW__COSMOS__CACHE_DIR below), not /tmp/cosmos, which every DAG run on the machine
# shares.
dbt_project/target/manifest.json: $(VENV)/.synced $(shell find dbt_project -name '*.sql' -o -name '*.py' -o -name '*.yml' -o -name '*.csv' | grep -v '/target/')
	@echo ">> building the dbt manifest for Airflow/Cosmos (dbt parse)"
	$(BIN)/python -m upsell.cosmos_parse --warehouse $(CURDIR)/$(WAREHOUSE) \
		--target-path $(CURDIR)/dbt_project/target --log-path $(CURDIR)/var/dbt-logs
	@touch $@

manifest: dbt_project/target/manifest.json  ## (re)build the dbt manifest

# `make run` runs the nightly DAG with real Airflow on a SQLite metadata DB (no servers):
# logical date 2026-11-01 -> data interval ending 2026-11-01 02:00 JST -> as of 2026-10-31.
AIRFLOW_ENV := AIRFLOW_HOME=$(CURDIR)/var/airflow AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__COSMOS__ENABLE_TELEMETRY=False DO_NOT_TRACK=1 \
	AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY=False AIRFLOW__COSMOS__CACHE_DIR=$(CURDIR)/var/airflow/cosmos \
	UPSELL_LANDING=$(CURDIR)/$(LANDING) UPSELL_WAREHOUSE=$(CURDIR)/$(WAREHOUSE) \
	UPSELL_HEADER_MAPPINGS=$(CURDIR)/$(MAPPINGS)
LOGICAL_DATE ?= 2026-11-01

run: setup  ## set up, then run the nightly DAG on the bundled sample (DuckDB + SQLite Airflow metadata)
	@mkdir -p var/airflow
	@echo ">> Airflow metadata DB: SQLite in var/airflow (airflow db migrate)"
	@$(AIRFLOW_ENV) $(BIN)/airflow db migrate > var/airflow/db-migrate.log 2>&1 || (tail -20 var/airflow/db-migrate.log; exit 1)
	@$(AIRFLOW_ENV) $(BIN)/airflow pools set upsell_duckdb 1 "DuckDB single writer" > /dev/null
	@echo ">> airflow dags test upsell_nightly $(LOGICAL_DATE) on $(LANDING) (task logs: var/airflow/dags-test.log)"
	@$(AIRFLOW_ENV) $(BIN)/airflow dags test upsell_nightly $(LOGICAL_DATE) > var/airflow/dags-test.log 2>&1; \
		status=$$?; grep -o "DagRun Finished.*state=[a-z]*" var/airflow/dags-test.log | sed -E 's/, run_start.*(state=)/ \1/' ; \
		grep -E "FAILED at|error-level expectation" var/airflow/dags-test.log | head -20; \
		$(BIN)/upsell summary --warehouse $(WAREHOUSE); \
		grep -q "DagRun Finished.*state=success" var/airflow/dags-test.log && exit $$status || exit 1

run-cli: setup  ## the same job without Airflow: upsell run (ingest, validate, dbt, validate, publish)
	@echo ">> running the nightly job on $(LANDING) as of $(AS_OF) into $(WAREHOUSE)"
	$(BIN)/upsell run --landing $(LANDING) --warehouse $(WAREHOUSE) --as-of $(AS_OF) --mappings $(MAPPINGS)

# The report test opens the nightly report in headless Chromium: Debian's chromium and a
# Japanese font (Noto Sans CJK JP; without it Japanese text draws as tofu boxes).
BROWSER_PKGS := chromium fonts-noto-cjk
browser:  ## install Debian's chromium + fonts-noto-cjk with apt-get when missing (for the report test)
	@missing=$$(for p in $(BROWSER_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then echo ">> browser for the report test: $(BROWSER_PKGS) already installed"; \
	elif ! command -v apt-get >/dev/null; then echo ">> WARNING: no apt-get; install $$missing yourself (report browser test will skip)"; \
	else echo ">> installing $$missing for the report browser test (apt-get install --no-install-recommends)"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) \
			apt-get install -y -qq --no-install-recommends $$missing; fi

columns: dbt_project/target/manifest.json  ## regenerate docs/columns.md (column dictionary) from the dbt models' YAML
	$(BIN)/python -m upsell.coldict --manifest dbt_project/target/manifest.json --out docs/columns.md

report: setup  ## rebuild the nightly HTML report from the served marts (var/serving/report/latest.html)
	$(BIN)/upsell report --serving $(dir $(WAREHOUSE))serving

test: setup browser  ## set up, then run every test (unit + integration) and the linters
	@echo ">> running the test suite"
	$(BIN)/python -m pytest -q --durations=15
	@$(MAKE) --no-print-directory lint-only

lint: setup lint-only  ## ruff (incl. Airflow rules) and sqlfluff (dbt templater) on the dbt models and tests

# sqlfluff renders every model and test with dbt (refs, macros, vars) against a scratch, empty
# warehouse under var/lint (so incremental models are linted as their first run), compiling into
# var/lint/target (.sqlfluff) and leaving dbt_project/target alone. The salt and as-of date are
# placeholders that only let dbt compile; nothing is built.
SQLFLUFF_ENV = UPSELL_WAREHOUSE=$(CURDIR)/var/lint/warehouse.duckdb UPSELL_EMAIL_SALT=sqlfluff-compile-only UPSELL_AS_OF=2026-01-01
lint-only:
	@echo ">> linting Python (ruff, incl. Airflow rules)"
	$(BIN)/ruff check dags include tests
	@echo ">> linting SQL (sqlfluff, dbt templater: dbt_project/models, dbt_project/tests)"
	@mkdir -p var/lint
	$(SQLFLUFF_ENV) $(BIN)/sqlfluff lint dbt_project/models dbt_project/tests --processes 2 --disable-progress-bar

bench-ingest: setup  ## benchmark ingestion vs bare DuckDB read_csv on M-scale email events
	$(BIN)/python -m upsell.bench.ingest --scale M --out bench-data

bench-targets: setup  ## DuckDB vs Postgres target: ingest and dbt build timings on the S sample (needs a Postgres server, PG* vars)
	$(BIN)/python -m upsell.bench.targets --landing $(LANDING) --mappings $(MAPPINGS) --rounds 3

bench-nightly: setup  ## benchmark the nightly job at M: full run, incremental next night, vs bare read_csv
	$(BIN)/python -m upsell.bench.nightly --scale M --out bench-data --verify

bench-deployed: setup  ## the nightly DAG under a real scheduler (LocalExecutor, SQLite) at M vs the CLI's night: Airflow's share as deployed
	$(BIN)/python -m upsell.bench.airflow_deployed --scale M --out bench-data

# The whole suite (issue 9): hours at L. Results merge per scale into bench-data/suite-results.json,
# so `make bench BENCH_SCALES=L` later adds L; the report is bench-data/suite-report.md.
BENCH_SCALES ?= S M L
bench: setup  ## benchmark suite: S/M/L nights, Airflow, baselines, targets, docs/bench-scaling.png (needs Postgres)
	$(BIN)/python -m upsell.bench.suite --scales $(BENCH_SCALES) --out bench-data

clean:  ## remove build output and the local warehouse (keeps .venv)
	rm -rf var .pytest_cache .ruff_cache

bench-clv: setup  ## predictive CLV fit + scoring time at 50k..500k synthetic customers (linearity)
	$(BIN)/python -m upsell.bench.clv --sizes 50000 100000 250000 500000 --rounds 3

bench-dag-parse: setup  ## DAG parse time (median of 5 fresh interpreters)
	$(BIN)/python -m upsell.bench.dag_parse --rounds 5

.PHONY: help setup manifest run run-cli test lint lint-only bench bench-nightly bench-ingest bench-deployed bench-clv bench-dag-parse bench-targets clean browser columns report
