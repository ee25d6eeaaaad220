"""Run the dbt project (``dbt_project/``) in-process for one as-of date.

The CLI and the DAG call ``run_dbt`` so both pass the same vars and environment: the
as-of date, the warehouse path and the email-hash salt.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from upsell.target import selected_target

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
SALT_ENV = "UPSELL_EMAIL_SALT"


class DbtError(RuntimeError):
    """dbt failed: a model error or a failing error-severity test."""


@dataclass
class DbtResult:
    success: bool
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def ensure_salt(warehouse: Path) -> str:
    """The salt for email hashes: ``$UPSELL_EMAIL_SALT``, else a random one kept beside the
    warehouse (created once, mode 0600). Never in the repository; stable across runs so
    hashes join across nights."""
    if salt := os.environ.get(SALT_ENV):
        return salt
    path = Path(str(warehouse) + ".salt")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        log.info("created a random email-hash salt at %s (set %s to manage it yourself)", path, SALT_ENV)
    return path.read_text().strip()


# Postgres plans a join of two staging views (window "latest version" filters it cannot
# estimate) as a nested loop over ~1/200 of the real rows: customer_engagement took 139 s
# at S scale instead of 4 s. The marts are analytic scans without indexes, where hash and
# merge joins are right; PG still uses a nested loop where nothing else can (range joins).
# Prepended, so settings in the caller's own PGOPTIONS come later and win.
PG_SESSION_OPTIONS = "-c enable_nestloop=off"


# The nightly build runs every model and data test but not the dbt unit tests: their
# inputs are static fixtures, so a night's data cannot change their outcome (dbt's own
# advice: run them in development and CI). `make test` runs them on every change
# (tests/integration/test_dbt_unit_tests.py). UPSELL_DBT_UNIT_TESTS=1 puts them back.
NIGHTLY_BUILD_FLAGS: list[str] = (
    [] if os.environ.get("UPSELL_DBT_UNIT_TESTS") == "1" else ["--exclude-resource-type", "unit_test"])


def dbt_env(warehouse: Path, target: str = "duckdb") -> dict[str, str]:
    """Environment of the dbt child process: profile target, warehouse file, email salt.

    The salt file stays beside the DuckDB warehouse file for both targets, so the email
    hashes of one installation are the same whichever warehouse the marts are built in.
    """
    env = {
        "UPSELL_DBT_TARGET": target,
        "UPSELL_WAREHOUSE": str(Path(warehouse).resolve()),
        SALT_ENV: ensure_salt(warehouse),
    }
    if target == "postgres":
        env["PGOPTIONS"] = f"{PG_SESSION_OPTIONS} {os.environ.get('PGOPTIONS', '')}".strip()
    # dbt.log at info, not dbt's default debug: the debug lines (≈ 37 per test node, each
    # scrubbed and serialised) cost ≈ 4 % of a dbt test run (docs/benchmarks.md); the SQL
    # of every node stays in target/compiled and target/run. DBT_LOG_LEVEL_FILE=debug in
    # the caller's environment brings the debug log back.
    if "DBT_LOG_LEVEL_FILE" not in os.environ:
        env["DBT_LOG_LEVEL_FILE"] = "info"
    return env


def dbt_work_dir(warehouse: Path, target: str = "duckdb") -> Path:
    """dbt's artifacts (``target/``: manifest, run_results) and logs for one target: one
    folder per target, so a Postgres build never overwrites DuckDB's run_results."""
    return Path(warehouse).resolve().parent / ("dbt" if target == "duckdb" else f"dbt-{target}")


AS_OF_ENV = "UPSELL_AS_OF"  # the as-of date for dbt (macros/dates.sql: why not --vars)


def dbt_args(command: str, warehouse: Path, extra: list[str] | None = None,
             vars_: dict | None = None, target: str = "duckdb") -> list[str]:
    """dbt's command line. The as-of date is not among the vars (see ``AS_OF_ENV``): vars
    that differ from the last invocation's make dbt re-parse the whole project."""
    work = dbt_work_dir(warehouse, target)
    return [command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
            *(["--vars", json.dumps(vars_)] if vars_ else []), *(extra or [])]


def run_dbt(command: str, warehouse: Path, as_of: date, extra: list[str] | None = None,
            vars_: dict | None = None, target: str | None = None) -> DbtResult:
    """Run dbt in a child process and summarise; raise DbtError naming failed nodes.

    A child process, not ``dbtRunner`` in-process: dbt-duckdb keeps its connection to the
    warehouse open for the life of the process, and DuckDB then refuses any other
    connection to that file (validation, publish) from this process.
    """
    target = selected_target(target)
    args = dbt_args(command, warehouse, extra, vars_, target)
    exe = Path(sys.executable).with_name("dbt")
    cmd = [str(exe) if exe.exists() else "dbt", *args]
    log.info("running %s=%s %s", AS_OF_ENV, as_of.isoformat(), " ".join(cmd))
    proc = subprocess.run(cmd, env=_child_env(warehouse, as_of, target), text=True, capture_output=True)
    return _summarise(command, target, args, proc.returncode, proc.stdout, proc.stderr)


def _child_env(warehouse: Path, as_of: date, target: str) -> dict[str, str]:
    return {**os.environ, **dbt_env(warehouse, target), AS_OF_ENV: as_of.isoformat()}


def _summarise(command: str, target: str, args: list[str], returncode: int, stdout: str, stderr: str) -> DbtResult:
    """A finished dbt invocation as a DbtResult (counts per status from run_results.json)."""
    for line in stdout.splitlines():
        log.info("dbt: %s", line)
    result = DbtResult(success=returncode == 0)
    run_results = Path(args[args.index("--target-path") + 1]) / "run_results.json"
    if run_results.exists():
        for node in json.loads(run_results.read_text()).get("results", []):
            status = node.get("status", "")
            result.counts[status] = result.counts.get(status, 0) + 1
            if status in ("error", "fail"):
                result.failures.append(f"{node.get('unique_id')}: {status}: {node.get('message')}")
    if not result.success:
        tail = "\n".join(stdout.splitlines()[-20:] + stderr.splitlines()[-20:])
        raise DbtError(f"dbt {command} on {target} failed: " + "; ".join(result.failures or [tail]))
    return result


# What the dbt Python models import (models/intermediate/customer/clv_duckdb): the prepared
# child imports them while it waits (upsell.dbt_child)
PYTHON_MODEL_MODULES = ["upsell.clv_marts"]


class PreparedDbt:
    """A dbt child process started early: it imports dbt and parses the project (≈ 3 s of
    single-threaded Python, docs/benchmarks.md) while this process validates
    the raw data, then waits; :meth:`run` lets it build, :meth:`cancel` stops it unused.

    Same child, arguments and environment as :func:`run_dbt`, through ``dbtRunner`` with
    the parsed manifest (``upsell.dbt_child``). Parsing never opens the warehouse, so the
    waiting child holds no lock on the file that ingestion and the raw gate write and read
    (dbt-duckdb connects on the first query of the build). Use as a context manager: a
    child that was not run is stopped on exit, whatever happened in between."""

    def __init__(self, command: str, warehouse: Path, as_of: date, extra: list[str] | None = None,
                 vars_: dict | None = None, target: str | None = None, warm: list[str] | None = None) -> None:
        import tempfile

        self.command = command
        self.target = selected_target(target)
        common = dbt_args(command, warehouse, None, vars_, self.target)[1:]  # what parse takes too
        self.args = [command, *common, *(extra or [])]
        if warm is None:  # dbt-postgres runs no Python models
            warm = PYTHON_MODEL_MODULES if self.target == "duckdb" else []
        cmd = [sys.executable, "-m", "upsell.dbt_child", json.dumps({
            "command": command, "common": common, "extra": list(extra or []), "warm": warm})]
        log.info("preparing %s=%s dbt %s", AS_OF_ENV, as_of.isoformat(), " ".join(self.args))
        # files, not pipes: the child's output while it waits can never fill a pipe and stall it
        self._out = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._err = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, env=_child_env(warehouse, as_of, self.target), text=True,
                                     stdin=subprocess.PIPE, stdout=self._out, stderr=self._err)

    def run(self) -> DbtResult:
        """Let the child build; wait for it and summarise as :func:`run_dbt` does."""
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.close()
        except BrokenPipeError:  # it failed while parsing: its output says why
            pass
        returncode = self.proc.wait()
        return _summarise(self.command, self.target, self.args, returncode, self._read(self._out),
                          self._read(self._err))

    def cancel(self) -> None:
        """Stop a child that has not been told to build (closing stdin is its signal)."""
        if self.proc.poll() is None and not self.proc.stdin.closed:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @staticmethod
    def _read(fh) -> str:
        fh.seek(0)
        return fh.read()

    def __enter__(self) -> PreparedDbt:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()
        self._out.close()
        self._err.close()
