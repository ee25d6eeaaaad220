"""The full nightly run through Airflow: ``airflow dags test upsell_nightly <logical date>``.

Set up like ``make run`` or a deployment's ``airflow-init`` (SQLite metadata DB in a
throw-away ``AIRFLOW_HOME``, ``airflow db migrate``, the one-slot pool ``upsell_duckdb`` and
the dbt parse for this warehouse in Cosmos' cache first, none of it timed), on a fresh
warehouse and the same landing folder as the CLI's full run. The run is timed wall-clock
as one process tree (the serial ``dags test`` runner, each task, dbt under Cosmos).

Which logical date gives the CLI's as-of date: a manual run computes as of the Tokyo
calendar day before its logical date (``upsell.tasks.as_of_for``; README "The schedule and
the as-of date"), so ``dags test`` at midnight UTC of as-of + 1 day (09:00 JST that day)
computes as of ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from upsell import cosmos_parse
from upsell.bench.measure import gib, run_tree
from upsell.dag_support import POOL, local_airflow_settings

SUCCESS = re.compile(r"DagRun Finished.*state=success")
AS_OF_RETURNED = re.compile(r"Returned value was: \{'as_of': '(\d{4}-\d{2}-\d{2})'")


def logical_date_for(as_of: dt.date) -> str:
    """The ``dags test`` logical date whose run computes the marts as of ``as_of``."""
    return (as_of + dt.timedelta(days=1)).isoformat()


def airflow_env(home: Path, landing: Path, warehouse: Path, mappings: Path) -> dict[str, str]:
    """The environment of ``make run``: metadata DB and DAGs, the landing, warehouse, mappings."""
    return {**local_airflow_settings(home),
            "UPSELL_LANDING": str(landing), "UPSELL_WAREHOUSE": str(warehouse),
            "UPSELL_HEADER_MAPPINGS": str(mappings), "UPSELL_EMAIL_SALT": "bench-salt",
            "UPSELL_TARGET": "duckdb"}


def _airflow(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("airflow")), *args]


def prepare(env: dict[str, str], log: Path) -> None:
    """``airflow db migrate``, the pool and the dbt parse (not timed: a deployment does this
    once, upsell.cosmos_parse)."""
    with open(log, "w") as fh:
        for cmd in (_airflow("db", "migrate"), _airflow("pools", "set", POOL, "1", "DuckDB single writer")):
            subprocess.run(cmd, env={**os.environ, **env}, stdout=fh, stderr=subprocess.STDOUT, check=True)
    home = Path(env["AIRFLOW_HOME"])
    parsed = cosmos_parse.parse(Path(env["UPSELL_WAREHOUSE"]), home / "dbt-parse", home / "dbt-parse" / "logs")
    cosmos_parse.seed_cosmos_cache(parsed, Path(env["AIRFLOW__COSMOS__CACHE_DIR"]))


def run_dag_test(env: dict[str, str], as_of: dt.date, log: Path) -> dict:
    """Time ``airflow dags test``; raise when the DAG run did not end in success."""
    run = run_tree(_airflow("dags", "test", "upsell_nightly", logical_date_for(as_of)), env=env, log=log)
    text = log.read_text(errors="replace")
    if run.returncode or not SUCCESS.search(text):
        failed = [line for line in text.splitlines() if "FAILED at" in line or "error-level" in line][:10]
        raise RuntimeError(f"airflow dags test did not succeed (exit {run.returncode}); log {log}:\n"
                           + "\n".join(failed or text.splitlines()[-40:]))
    computed = AS_OF_RETURNED.search(text)
    if computed and computed.group(1) != as_of.isoformat():  # then it did not run the CLI's night
        raise RuntimeError(f"the DAG computed as of {computed.group(1)}, not {as_of} (log {log})")
    return {"wall_s": run.wall_s, "peak_rss_gib": gib(run.peak_tree_bytes),
            "max_process_rss_gib": gib(run.max_process_bytes), "logical_date": logical_date_for(as_of)}


def measure_airflow(work: Path, landing: Path, as_of: dt.date, mappings: Path) -> dict:
    """The full nightly run through Airflow on a fresh warehouse under ``work/airflow``."""
    root = work / "airflow"
    env = airflow_env(root / "home", landing, root / "wh" / "warehouse.duckdb", mappings)
    (root / "home").mkdir(parents=True, exist_ok=True)
    prepare(env, root / "prepare.log")
    return run_dag_test(env, as_of, root / "dags-test.log")
