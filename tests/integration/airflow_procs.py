"""Running Airflow components as local processes in integration tests: the CLI, long-lived
components (api-server, scheduler, dag-processor, celery worker) in their own process
groups, readiness checks and a clean stop.

Shared by test_airflow_backfill.py (LocalExecutor on SQLite) and test_celery_topology.py
(CeleryExecutor on Postgres + Redis).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from upsell.dag_support import local_airflow_settings

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the machine is shared: no fixed ports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow(env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run an `airflow` CLI command to completion; fail with its output when it fails."""
    proc = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"airflow {' '.join(args)}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


def json_output(proc: subprocess.CompletedProcess):
    """The JSON list an `airflow ... -o json` command printed (after any log lines)."""
    out = proc.stdout
    return json.loads(out[min(i for i in (out.find("[{"), out.find("[]")) if i >= 0):])


def start(argv: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a long-lived component in its own session (so that stop() reaches every
    process it forks), its output to ``log``."""
    with open(log, "w") as out:
        return subprocess.Popen(list(argv), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """Stop a component started in its own session, and everything it started."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


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


def http_ok(url: str) -> bool:
    """True when ``url`` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (a local test server)
            return 200 <= resp.status < 300
    except OSError:
        return False


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
