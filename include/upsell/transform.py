"""Run the dbt project (``dbt_project/``) in-process for one as-of date.

The CLI and the DAG call ``dbt_build`` so both pass the same vars and environment: the
as-of date, the warehouse path and the email-hash salt. dbt is invoked through its
programmatic entry point (``dbtRunner``), which is what ``dbt build`` on the command line
runs, without a second Python start-up.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {
        "UPSELL_WAREHOUSE": str(Path(warehouse).resolve()),
        SALT_ENV: ensure_salt(warehouse),
    }


def dbt_args(command: str, warehouse: Path, as_of: date, extra: list[str] | None = None,
             vars_: dict | None = None) -> list[str]:
    work = Path(warehouse).resolve().parent / "dbt"
    all_vars = {"as_of": as_of.isoformat(), **(vars_ or {})}
    return [command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
            "--vars", json.dumps(all_vars), *(extra or [])]


def run_dbt(command: str, warehouse: Path, as_of: date, extra: list[str] | None = None,
            vars_: dict | None = None) -> DbtResult:
    """Invoke dbt and summarise; raise DbtError naming failed nodes when it fails."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(warehouse))
    args = dbt_args(command, warehouse, as_of, extra, vars_)
    log.info("dbt %s", " ".join(args))
    res = dbtRunner().invoke(args)
    result = DbtResult(success=bool(res.success))
    if res.exception is not None:
        raise DbtError(f"dbt {command} could not run: {res.exception}")
    for node_result in getattr(res.result, "results", None) or []:
        status = str(node_result.status)
        result.counts[status] = result.counts.get(status, 0) + 1
        if status in ("error", "fail"):
            result.failures.append(f"{node_result.node.unique_id}: {status}: {node_result.message}")
    if not result.success:
        raise DbtError(f"dbt {command} failed: " + "; ".join(result.failures or ["see dbt log"]))
    return result
