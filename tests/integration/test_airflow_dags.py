"""Real Airflow 3: DagBag integrity of every DAG file, and `airflow dags test upsell_nightly`
on the bundled sample with a temporary AIRFLOW_HOME and a SQLite metadata DB."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from upsell.tasks import as_of_for

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p.name for p in (REPO / "dags").glob("*.py"))
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow_home")
    data = tmp_path_factory.mktemp("airflow_data")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "UPSELL_LANDING": str(data / "landing"),
        "UPSELL_HEADER_MAPPINGS": str(REPO / "include" / "mappings" / "salesforce"),
        "UPSELL_WAREHOUSE": str(data / "wh" / "warehouse.duckdb"),
        "UPSELL_EMAIL_SALT": "airflow-test-salt",
    }
    shutil.copytree(REPO / "include" / "sample", data / "landing")
    for cmd in (["db", "migrate"], ["pools", "set", "upsell_duckdb", "1", "DuckDB single writer"]):
        proc = subprocess.run([str(BIN / "airflow"), *cmd], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
    return env


DAGBAG_PROBE = """
import json, sys
from airflow.models.dagbag import DagBag
bag = DagBag(sys.argv[1])
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "fileloc": dag.fileloc, "tags": sorted(dag.tags), "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs, "doc_md": bool(dag.doc_md),
        "tasks": {t.task_id: {"owner": t.owner, "pool": t.pool, "retries": t.retries,
                              "upstream": sorted(t.upstream_task_ids),
                              "outlets": [getattr(o, "uri", None) for o in t.outlets]}
                  for t in dag.tasks},
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def dagbag(airflow_env) -> dict:
    proc = subprocess.run([sys.executable, "-c", DAGBAG_PROBE, str(REPO / "dags")], env=airflow_env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("dag_file", DAG_FILES)
def test_dag_file_imports_and_defines_a_documented_dag(dagbag, dag_file):
    assert not {k: v for k, v in dagbag["errors"].items() if k.endswith(dag_file)}
    dags = [d for d in dagbag["dags"].values() if d["fileloc"].endswith(dag_file)]
    assert dags, f"{dag_file} defines no DAG"
    for dag in dags:
        assert dag["tags"] and dag["doc_md"] and dag["catchup"] is False and dag["max_active_runs"] == 1
        assert {t["owner"] for t in dag["tasks"].values()} == {"data-engineering"}


def test_nightly_dag_shape(dagbag):
    tasks = dagbag["dags"]["upsell_nightly"]["tasks"]
    for expected in ("resolve_as_of", "discover", "ingest.crm", "ingest.billing", "ingest.email", "ingest.plan",
                     "validate_raw", "dbt.dbt_producer_watcher", "validate", "publish", "data_docs"):
        assert expected in tasks, expected
    # one watcher task per dbt model, each started by the single dbt build
    models = [t for t in tasks if t.startswith("dbt.") and t.endswith(".run")]
    assert len(models) >= 30
    assert "dbt.customer_rfm.run" in tasks and "dbt.campaign_pdca.run" in tasks
    assert set(tasks["validate_raw"]["upstream"]) >= {"ingest.crm", "ingest.billing", "ingest.email", "ingest.plan"}
    assert "validate_raw" in tasks["dbt.dbt_producer_watcher"]["upstream"]
    assert "validate" in tasks["publish"]["upstream"]
    # every task that opens the warehouse shares the one-slot pool
    for task_id in ("discover", "ingest.crm", "validate_raw", "dbt.dbt_producer_watcher", "validate", "publish"):
        assert tasks[task_id]["pool"] == "upsell_duckdb", task_id
    assert all(t["retries"] >= 1 for tid, t in tasks.items() if tid.startswith("ingest."))
    outlets = tasks["publish"]["outlets"]
    assert any(u.endswith("/parquet/current/upsell_next_best_action.parquet") for u in outlets)
    assert len(outlets) == len(models) - sum(1 for m in models if ".stg_" in m or ".int_" in m)


def test_consumer_dag_is_scheduled_on_the_next_best_action_asset(dagbag):
    assert "upsell_crm_sync" in dagbag["dags"]


@pytest.mark.parametrize("interval_end, expected", [
    (datetime(2026, 10, 31, 17, 0, tzinfo=UTC), date(2026, 10, 31)),   # 2026-11-01 02:00 JST
    (datetime(2026, 11, 1, 0, 0, tzinfo=UTC), date(2026, 10, 31)),     # 09:00 JST on the 1st
    (datetime(2026, 11, 1, 15, 30, tzinfo=UTC), date(2026, 11, 1)),    # 00:30 JST on the 2nd
])
def test_as_of_is_the_last_complete_business_day(interval_end, expected):
    assert as_of_for(interval_end, "Asia/Tokyo") == expected


def test_dags_test_runs_the_nightly_job_end_to_end(airflow_env):
    proc = subprocess.run([str(BIN / "airflow"), "dags", "test", "upsell_nightly", "2026-11-01"],
                          env=airflow_env, capture_output=True, text=True, timeout=1800)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert "state=success" in log.split("DagRun Finished")[-1], log[-5000:]
    served = Path(airflow_env["UPSELL_WAREHOUSE"]).parent / "serving" / "upsell.duckdb"
    con = duckdb.connect(str(served), read_only=True)
    # logical date 2026-11-01 00:00 UTC -> interval ends 2026-11-01 02:00 JST -> as of 2026-10-31
    assert con.execute("SELECT as_of_date FROM marts._publish").fetchone() == (date(2026, 10, 31),)
    assert con.execute("SELECT count(*) FROM marts.customer_rfm").fetchone()[0] > 0
    assert con.execute("SELECT DISTINCT as_of_date FROM marts.customer_rfm").fetchall() == [(date(2026, 10, 31),)]
