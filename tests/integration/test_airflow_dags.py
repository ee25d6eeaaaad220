"""Real Airflow 3: DagBag integrity of every DAG file, and `airflow dags test upsell_nightly`
on the bundled sample with a temporary AIRFLOW_HOME and a SQLite metadata DB: a good night
publishes; a bad-but-parseable night then fails at the raw gate, publishes nothing and
leaves the previous marts served."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.integration.airflow_procs import sample_airflow_env
from upsell.dag_support import COSMOS_CACHE_ID, MANIFEST
from upsell.tasks import as_of_for

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p.name for p in (REPO / "dags").glob("*.py"))
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    """As a deployment: the dbt parse for this warehouse seeded into Cosmos' cache
    (what docker-compose's airflow-init runs)."""
    env = sample_airflow_env(tmp_path_factory, "duckdb", "airflow-test-salt")
    parsed = Path(env["AIRFLOW_HOME"]) / "dbt-parse"
    proc = subprocess.run([sys.executable, "-m", "upsell.cosmos_parse", "--warehouse", env["UPSELL_WAREHOUSE"],
                           "--target-path", str(parsed), "--log-path", str(parsed / "logs"),
                           "--cosmos-cache", env["AIRFLOW__COSMOS__CACHE_DIR"]],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
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
                              "downstream": sorted(t.downstream_task_ids),
                              "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                              "is_setup": t.is_setup, "is_teardown": t.is_teardown,
                              "outlets": [getattr(o, "uri", None) for o in t.outlets],
                              "emit_datasets": getattr(t, "emit_datasets", None),
                              "dbt_executable_path": getattr(t, "dbt_executable_path", None)}
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


def manifest_models(folder: str) -> set[str]:
    nodes = json.loads(MANIFEST.read_text())["nodes"].values()
    return {n["name"] for n in nodes if n["resource_type"] == "model" and n["original_file_path"].startswith(folder)}


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
                     "validate_raw", "dbt.dbt_producer_watcher", "validate", "publish", "report", "data_docs"):
        assert expected in tasks, expected
    # one watcher task per model and seed, each started by the single dbt build of the
    # whole project (a watcher's retry re-runs its model alone, so intermediate tables
    # need theirs too)
    models = {t.removeprefix("dbt.").removesuffix("_run") for t in tasks if t.startswith("dbt.") and t.endswith("_run")}
    assert models == manifest_models("models/") and len(models) >= 30
    assert {"dbt.rfm_segments_seed", "dbt.pdca_actions_seed"} <= set(tasks)
    # Asset events come from publish (validated marts), never from dbt's unvalidated tables
    assert {tasks[t]["emit_datasets"] for t in tasks if t.endswith(("_run", "_seed"))} == {False}
    # the data tests run inside that build, without a task each (UPSELL_AIRFLOW_TEST_TASKS)
    assert not [t for t in tasks if t.startswith("dbt.") and t.endswith(("_test", ".test"))]
    assert set(tasks["validate_raw"]["upstream"]) >= {"ingest.crm", "ingest.billing", "ingest.email", "ingest.plan"}
    assert "validate_raw" in tasks["dbt.dbt_producer_watcher"]["upstream"]
    assert "validate" in tasks["publish"]["upstream"]
    assert tasks["report"]["upstream"] == ["publish"] and tasks["report"]["trigger_rule"] == "all_success"
    # every task that opens the warehouse shares the one-slot pool
    for task_id in ("discover", "ingest.crm", "validate_raw", "dbt.dbt_producer_watcher", "validate", "publish"):
        assert tasks[task_id]["pool"] == "upsell_duckdb", task_id
    # the model watchers only read the build's statuses: they run side by side outside it,
    # and every dbt they may start (their fallback, like the producer's build) is upsell-dbt,
    # which holds the warehouse's dbt lock (tests/integration/test_dbt_lock.py)
    watchers = {tid: t for tid, t in tasks.items() if tid.startswith("dbt.") and tid.endswith(("_run", "_seed"))}
    assert {t["pool"] for t in watchers.values()} == {"default_pool"}
    dbt_tasks = [*watchers.values(), tasks["dbt.dbt_producer_watcher"]]
    assert {Path(t["dbt_executable_path"]).name for t in dbt_tasks} == {"upsell-dbt"}
    assert all(t["retries"] >= 1 for tid, t in tasks.items() if tid.startswith("ingest."))
    outlets = tasks["publish"]["outlets"]
    assert any(u.endswith("/parquet/current/upsell_next_best_action.parquet") for u in outlets)
    assert len(outlets) == len(manifest_models("models/marts/"))


def test_nightly_dag_fails_instead_of_hanging_or_succeeding_when_a_gate_fails(dagbag):
    tasks = dagbag["dags"]["upsell_nightly"]["tasks"]
    # the root watchers start after the dbt build, whatever its outcome (dbt.built, a
    # teardown: all done), but only if the group started (dbt.start, its setup, after the
    # raw gate): a failed raw gate makes them upstream_failed instead of polling forever
    assert tasks["dbt.start"]["is_setup"] and tasks["dbt.start"]["upstream"] == ["validate_raw"]
    built = tasks["dbt.built"]
    assert built["is_teardown"] and built["trigger_rule"] == "all_done_setup_success"
    assert built["upstream"] == ["dbt.dbt_producer_watcher", "dbt.start"]
    roots = [tid for tid, t in tasks.items() if tid.startswith("dbt.") and (tid.endswith("_run") or
             tid.endswith("_seed")) and not any(u.startswith("dbt.") and u != "dbt.built" for u in t["upstream"])]
    assert roots and set(roots) == set(built["downstream"])
    for tid in roots:
        assert tasks[tid]["upstream"] == ["dbt.built"] and tasks[tid]["trigger_rule"] == "all_success", tid
    # report (after publish, all_success) is a leaf and decides the run's state with it;
    # data_docs runs after validate whatever its outcome but is not downstream of publish
    # (an all_done leaf would let a failed validation end as a successful run)
    leaves = sorted(tid for tid, t in tasks.items() if not t["downstream"])
    assert leaves == ["data_docs", "report"]
    assert tasks["data_docs"]["upstream"] == ["validate"] and tasks["data_docs"]["trigger_rule"] == "all_done"


def test_consumer_dag_is_scheduled_on_the_next_best_action_asset(dagbag):
    assert "upsell_crm_sync" in dagbag["dags"]


RUNTIME_PROBE = """
import json, os, sys
from datetime import datetime, timezone
from types import SimpleNamespace
from airflow.dag_processing.dagbag import DagBag
from upsell.dag_support import runtime_settings

resolve = DagBag(sys.argv[1]).dags["upsell_nightly"].get_task("resolve_as_of").python_callable
utc = timezone.utc
runtime_settings()
print(json.dumps({
    "scheduled": resolve(params={"as_of": None}, data_interval_end=datetime(2026, 10, 31, 17, tzinfo=utc),
                         dag_run=SimpleNamespace(run_after=datetime(2026, 11, 20, tzinfo=utc)), run_id="s")["as_of"],
    # `airflow dags trigger` without --logical-date: no data interval, run_after = trigger time
    "manual": resolve(params={}, data_interval_end=None,
                      dag_run=SimpleNamespace(run_after=datetime(2026, 11, 1, 15, 30, tzinfo=utc)), run_id="m")["as_of"],
    # `airflow dags trigger --logical-date 2026-11-01T00:00:00+00:00` on 2026-11-24: Airflow
    # infers the interval from the trigger time; the logical date given decides
    "manual_logical": resolve(params={}, data_interval_end=datetime(2026, 11, 23, 17, tzinfo=utc),
                              logical_date=datetime(2026, 11, 1, tzinfo=utc),
                              dag_run=SimpleNamespace(run_type="manual", run_after=datetime(2026, 11, 24, 3, tzinfo=utc)),
                              run_id="ml")["as_of"],
    "manual_now": resolve(params={}, data_interval_end=None, logical_date=None,
                          dag_run=SimpleNamespace(run_type="manual", run_after=datetime(2026, 11, 24, 3, tzinfo=utc)),
                          run_id="mn")["as_of"],
    "backfill": resolve(params={}, data_interval_end=datetime(2026, 10, 30, 17, tzinfo=utc),
                        logical_date=datetime(2026, 10, 29, 17, tzinfo=utc),
                        dag_run=SimpleNamespace(run_type="backfill", run_after=datetime(2026, 10, 30, 17, tzinfo=utc)),
                        run_id="b")["as_of"],
    "override": resolve(params={"as_of": "2026-10-15"}, data_interval_end=None,
                        dag_run=SimpleNamespace(run_after=datetime(2026, 11, 1, tzinfo=utc)), run_id="o")["as_of"],
    "env": {k: os.environ.get(k) for k in ("UPSELL_LANDING", "UPSELL_WAREHOUSE", "UPSELL_SERVING_DIR")},
}))
"""


def test_as_of_of_scheduled_manual_and_overridden_runs_and_which_variables_apply(airflow_env, tmp_path):
    env = {**airflow_env,
           "AIRFLOW_VAR_UPSELL_LANDING": str(tmp_path / "var-landing"),
           # parse-time settings: a Variable must not split the tasks between two warehouses
           "AIRFLOW_VAR_UPSELL_WAREHOUSE": str(tmp_path / "var-wh" / "warehouse.duckdb"),
           "AIRFLOW_VAR_UPSELL_SERVING_DIR": str(tmp_path / "var-serving")}
    env.pop("UPSELL_SERVING_DIR", None)
    proc = subprocess.run([sys.executable, "-c", RUNTIME_PROBE, str(REPO / "dags")], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (got["scheduled"], got["manual"], got["override"]) == ("2026-10-31", "2026-11-01", "2026-10-15")
    assert (got["manual_logical"], got["manual_now"], got["backfill"]) == ("2026-10-31", "2026-11-23", "2026-10-30")
    assert got["env"] == {"UPSELL_LANDING": str(tmp_path / "var-landing"),
                          "UPSELL_WAREHOUSE": airflow_env["UPSELL_WAREHOUSE"], "UPSELL_SERVING_DIR": None}


@pytest.mark.parametrize("interval_end, expected", [
    (datetime(2026, 10, 31, 17, 0, tzinfo=UTC), date(2026, 10, 31)),   # 2026-11-01 02:00 JST
    (datetime(2026, 11, 1, 0, 0, tzinfo=UTC), date(2026, 10, 31)),     # 09:00 JST on the 1st
    (datetime(2026, 11, 1, 15, 30, tzinfo=UTC), date(2026, 11, 1)),    # 00:30 JST on the 2nd
])
def test_as_of_is_the_last_complete_business_day(interval_end, expected):
    assert as_of_for(interval_end, "Asia/Tokyo") == expected


def dags_test(env: dict[str, str], logical_date: str) -> tuple[subprocess.CompletedProcess, str, str, str]:
    """`airflow dags test upsell_nightly <date>`: the process, its log, and the run's id and state."""
    proc = subprocess.run([str(BIN / "airflow"), "dags", "test", "upsell_nightly", logical_date],
                          env=env, capture_output=True, text=True, timeout=1800)
    log = proc.stdout + proc.stderr
    finished = re.findall(r"DagRun Finished: .*?run_id=([^,\s]+),.*?state=(\w+)", log)
    assert finished, log[-5000:]
    run_id, state = finished[-1]
    return proc, log, run_id, state


def task_states(env: dict[str, str], run_id: str) -> dict[str, str]:
    proc = subprocess.run([str(BIN / "airflow"), "tasks", "states-for-dag-run", "upsell_nightly", run_id, "-o", "json"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(proc.stdout[proc.stdout.index("[{"):])
    return {r["task_id"]: r["state"] for r in rows}


def served_file(env: dict[str, str]) -> Path:
    return Path(env["UPSELL_WAREHOUSE"]).parent / "serving" / "upsell.duckdb"


@pytest.fixture(scope="module")
def nightly_run(airflow_env) -> tuple[str, str, str]:
    """One good night (shared: each `airflow dags test` takes minutes): log, run id, state."""
    proc, log, run_id, state = dags_test(airflow_env, "2026-11-01")
    assert proc.returncode == 0, log[-5000:]
    return log, run_id, state


def test_dags_test_runs_the_nightly_job_end_to_end(airflow_env, nightly_run):
    log, run_id, state = nightly_run
    assert state == "success", log[-5000:]
    states = task_states(airflow_env, run_id)
    assert states["publish"] == "success" and states["dbt.customer_rfm_run"] == "success"
    assert states["report"] == "success"
    # the producer's one dbt build ran every model, seed and data test of the manifest
    manifest = json.loads(MANIFEST.read_text())["nodes"]
    nodes = Counter(n["resource_type"] for n in manifest.values())
    totals = re.findall(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=0 SKIP=0 NO-OP=\d+ TOTAL=(\d+)", log)
    assert totals and int(totals[-1][2]) == nodes["model"] + nodes["seed"] + nodes["test"], totals
    # upsell.cosmos_parse parsed with the producer's vars, profile, target and this
    # warehouse's path into Cosmos' cache (newer than the project's own file from `make
    # manifest`): the producer took it and dbt kept the whole parse
    cache = Path(airflow_env["AIRFLOW__COSMOS__CACHE_DIR"]) / COSMOS_CACHE_ID / "target" / "partial_parse.msgpack"
    assert f"Partial parse is enabled and the latest partial parse file is {cache}" in log
    assert "Unable to do partial parsing" not in log
    # ... and those tests cover every staging model and every mart
    tested = {n.get("attached_node") for n in manifest.values() if n["resource_type"] == "test"}
    layers = {uid: n["original_file_path"].split("/")[1] for uid, n in manifest.items() if n["resource_type"] == "model"}
    for layer in ("staging", "marts"):
        models = {uid for uid, lay in layers.items() if lay == layer}
        assert models and models <= tested, sorted(models - tested)
    report_dir = served_file(airflow_env).parent / "report"
    assert (report_dir / "2026-10-31.html").exists() and (report_dir / "latest.html").exists()
    con = duckdb.connect(str(served_file(airflow_env)), read_only=True)
    # logical date 2026-11-01 00:00 UTC -> interval ends 2026-11-01 02:00 JST -> as of 2026-10-31
    assert con.execute("SELECT as_of_date FROM marts._publish").fetchone() == (date(2026, 10, 31),)
    assert con.execute("SELECT count(*) FROM marts.customer_rfm").fetchone()[0] > 0
    assert con.execute("SELECT DISTINCT as_of_date FROM marts.customer_rfm").fetchall() == [(date(2026, 10, 31),)]


def test_validation_failure_fails_the_run_at_validate_raw_and_keeps_the_served_marts(airflow_env, nightly_run):
    served = served_file(airflow_env)
    before = hashlib.sha256(served.read_bytes()).hexdigest()
    with duckdb.connect(str(served), read_only=True) as con:
        published_before = con.execute("SELECT run_id, as_of_date FROM marts._publish").fetchone()
    # the next night brings a day of email events that are all bounces: every value parses,
    # the data is wrong (the raw gate's "mostly" check on event_type)
    landing = Path(airflow_env["UPSELL_LANDING"])
    lines = ["event_id,campaign_id,step,message_id,recipient_email,event_type,occurred_at"]
    lines += [f"BAD{i},CMP-BAD,1,MSG-BAD{i},nobody{i}@example.co.jp,bounced,2026-10-31 10:00:00" for i in range(500)]
    (landing / "email" / "email_events_20261031-bad.csv").write_text("\n".join(lines) + "\n")

    proc, log, run_id, state = dags_test(airflow_env, "2026-11-02")
    assert state == "failed", log[-5000:]
    states = task_states(airflow_env, run_id)
    assert states["ingest.email"] == "success"
    assert states["validate_raw"] == "failed"
    # the on-failure callback names the step and the validation result
    assert re.search(r"upsell_nightly FAILED at validate_raw \(run [^)]+\): \d+ error-level expectation", log), log[-5000:]
    assert "previously published marts stay served" in log and "expect_column_values_to_not_be_in_set" in log
    # nothing downstream of the gate ran: no dbt build, no watcher polling, no publish
    for task_id in ("dbt.start", "dbt.dbt_producer_watcher", "dbt.built", "dbt.customer_rfm_run", "validate", "publish",
                    "report"):
        assert states[task_id] == "upstream_failed", (task_id, states[task_id])
    assert not [t for t, s in states.items() if s not in ("success", "failed", "upstream_failed")], states
    assert states["data_docs"] == "success"
    # the served marts are the previous night's, byte for byte
    assert hashlib.sha256(served.read_bytes()).hexdigest() == before
    with duckdb.connect(str(served), read_only=True) as con:
        assert con.execute("SELECT run_id, as_of_date FROM marts._publish").fetchone() == published_before
