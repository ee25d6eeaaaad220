"""Airflow's components as local processes: what the benchmark of a deployed night
(``upsell.bench.airflow_deployed``) and the integration tests that run a real scheduler
share — free ports, a LocalExecutor deployment's settings, starting and stopping a
component with everything it forks, its readiness, and the JSON of ``airflow ... -o json``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the machine is shared: no fixed ports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_executor_settings(api_port: int) -> dict[str, str]:
    """A scheduler with LocalExecutor (four task slots) and the execution API server on
    ``api_port``, running only the runs it is given: with ``USE_JOB_SCHEDULE`` off,
    unpausing the DAG does not also start its latest scheduled run."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex(),  # shared by scheduler and API server
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
    }


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


def http_ok(url: str) -> bool:
    """True when ``url`` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (a local server)
            return 200 <= resp.status < 300
    except OSError:
        return False


def json_output(output: str | subprocess.CompletedProcess):
    """The JSON list an ``airflow ... -o json`` command printed (after any log lines): its
    stdout, or the finished command itself."""
    out = output.stdout if isinstance(output, subprocess.CompletedProcess) else output
    return json.loads(out[min(i for i in (out.find("[{"), out.find("[]")) if i >= 0):])
