"""The nightly job as plain functions: the CLI calls ``run_nightly``; the DAG calls the steps.

Today the job is ingestion; dbt build, validation and publish are added as steps here so
that the command line and Airflow always run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from upsell.ingest import IngestResult, ingest
from upsell.transform import DbtResult, run_dbt


@dataclass
class RunResult:
    as_of: date
    run_id: str
    ingest: IngestResult
    dbt: DbtResult | None = None

    @property
    def ok(self) -> bool:
        return self.dbt is None or self.dbt.success


def default_run_id(as_of: date) -> str:
    """Deterministic id for a manual run of one as-of date (no wall clock: re-runs match)."""
    return f"manual__{as_of.isoformat()}"


def run_nightly(landing: Path, warehouse: Path, as_of: date, run_id: str | None = None,
                tz: str = "Asia/Tokyo", mapping_dirs: list[Path] | None = None,
                progress=None) -> RunResult:
    run_id = run_id or default_run_id(as_of)
    result = ingest(landing, warehouse, run_id, tz=tz, mapping_dirs=mapping_dirs, progress=progress)
    built = run_dbt("build", warehouse, as_of, vars_={"business_tz": tz})
    return RunResult(as_of, run_id, result, built)
