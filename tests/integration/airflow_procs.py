"""Running Airflow components as local processes in integration tests: the CLI, long-lived
components (api-server, scheduler, dag-processor, celery worker) in their own process
groups, readiness checks and a clean stop (the process helpers are the package's own,
``upsell.airflow_local``, which the deployed-night benchmark uses too).

Shared by test_airflow_backfill.py (LocalExecutor on SQLite) and test_celery_topology.py
(CeleryExecutor on Postgres + Redis).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from upsell.airflow_local import free_port, http_ok, json_output, local_executor_settings, start, stop
from upsell.dag_support import local_airflow_settings

__all__ = ["free_port", "http_ok", "json_output", "local_executor_settings", "start", "stop"]

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def airflow(env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run an `airflow` CLI command to completion; fail with its output when it fails."""
    proc = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"airflow {' '.join(args)}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


def wait_until(ready: Callable[[], bool], timeout: float, what: str, components: Sequence[subprocess.Popen] = (),
               logs: Path | None = None, interval: float = 2) -> None:
    """Poll ``ready`` until it is true; fail after ``timeout`` s, or as soon as one of the
    components has exited (with the tail of every log in ``logs``)."""
    deadline = time.monotonic() + timeout
    while not ready():
        dead = [p.args for p in components if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            tails = "".join(f"\n--- {f.name}\n{f.read_text()[-2000:]}" for f in sorted(logs.glob("*.log"))) \
                if logs else ""
            problem = f"exited: {dead}" if dead else f"not ready after {timeout:.0f} s"
            raise AssertionError(f"waiting for {what}: {problem}{tails}")
        time.sleep(interval)


def airflow_env(home: Path, landing: Path, warehouse: Path, salt: str, **extra: str) -> dict[str, str]:
    """The environment every Airflow test runs the DAG with: ``make run``'s Airflow settings
    (``upsell.dag_support.local_airflow_settings``), the pipeline's landing folder, warehouse and email salt, plus
    ``extra`` (executor, ports, target...)."""
    return {
        **os.environ,
        **local_airflow_settings(home),
        "UPSELL_LANDING": str(landing),
        "UPSELL_HEADER_MAPPINGS": str(REPO / "include" / "mappings" / "salesforce"),
        "UPSELL_WAREHOUSE": str(warehouse),
        "UPSELL_EMAIL_SALT": salt,
        **extra,
    }


def sample_airflow_env(tmp_path_factory, name: str, salt: str, **extra: str) -> dict[str, str]:
    """Environment for `airflow dags test` on a copy of the bundled sample: a temporary
    AIRFLOW_HOME with a migrated SQLite metadata DB and the DuckDB single-writer pool, a
    landing folder and warehouse of its own. ``extra``: more variables (e.g. the target)."""
    home = tmp_path_factory.mktemp(f"airflow_home_{name}")
    data = tmp_path_factory.mktemp(f"airflow_data_{name}")
    env = airflow_env(home, data / "landing", data / "wh" / "warehouse.duckdb", salt, **extra)
    shutil.copytree(REPO / "include" / "sample", data / "landing")
    airflow(env, "db", "migrate")
    airflow(env, "pools", "set", "upsell_duckdb", "1", "DuckDB single writer")
    return env
