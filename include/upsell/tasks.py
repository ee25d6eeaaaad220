"""The nightly job's steps as the Airflow DAG calls them (plain functions, no Airflow import).

Each step is idempotent for a given run: ingestion skips files already loaded (by hash),
dbt rebuilds the marts for the as-of date (history models replace that day), validation
only reads, and publish atomically replaces the served marts with the validated ones.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from upsell.discover import discover
from upsell.ingest import DEFAULT_TZ, ingest, sha256_file
from upsell.warehouse import connect

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]


def setting(name: str, default: str) -> str:
    """Configuration from the environment (Airflow Variables are mapped onto it by the DAG)."""
    return os.environ.get(name) or default


def landing_dir() -> Path:
    return Path(setting("UPSELL_LANDING", str(REPO / "include" / "sample")))


def warehouse_path() -> Path:
    return Path(setting("UPSELL_WAREHOUSE", str(REPO / "var" / "warehouse.duckdb")))


def business_tz() -> str:
    return setting("UPSELL_BUSINESS_TZ", DEFAULT_TZ)


def mapping_dirs() -> list[Path] | None:
    env = os.environ.get("UPSELL_HEADER_MAPPINGS")
    return [Path(p) for p in env.split(os.pathsep) if p] if env else None


def as_of_for(data_interval_end: datetime, tz: str | None = None) -> date:
    """The business date a run computes: the last complete business day before the end of
    its data interval. A run at 02:00 JST on the 24th (interval end 24th 02:00 JST)
    computes the marts as of the 23rd; the same logical date always gives the same as-of."""
    # via the POSIX timestamp: pendulum's DateTime (Airflow's context type) does not convert
    # reliably with datetime.astimezone and a ZoneInfo
    local = datetime.fromtimestamp(data_interval_end.timestamp(), ZoneInfo(tz or business_tz()))
    return (local - timedelta(days=1)).date()


def new_files(landing: Path, warehouse: Path) -> dict[str, list[str]]:
    """Export files not loaded yet (by content hash), per source system."""
    files, ignored = discover(landing)
    for item in ignored:
        log.warning("ignored %s: %s", item.relpath, item.reason)
    loaded: set[tuple[str, str]] = set()
    if warehouse.exists():
        con = connect(warehouse, read_only=True)
        try:
            exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' "
                                 "AND table_name = 'file_loads'").fetchone()[0]
            if exists:
                loaded = set(con.execute("SELECT dataset, file_sha256 FROM audit.file_loads").fetchall())
        finally:
            con.close()
    result: dict[str, list[str]] = {}
    for f in files:
        if (f.dataset, sha256_file(f.path)) not in loaded:
            result.setdefault(f.source, []).append(f.relpath)
    return result


def ingest_source(source: str, run_id: str) -> dict:
    """Load one source system's new files; returns counts for the task's XCom."""
    res = ingest(landing_dir(), warehouse_path(), run_id, tz=business_tz(), mapping_dirs=mapping_dirs(),
                 sources=[source])
    summary = {"files_loaded": res.count("loaded"), "files_skipped": res.count("skipped"),
               "files_quarantined": res.count("quarantined"), "rows_read": res.total("rows_read"),
               "rows_loaded": res.total("rows_loaded"), "rows_quarantined": res.total("rows_quarantined"),
               "duplicates_collapsed": res.total("duplicates_collapsed")}
    for f in res.files:
        if f.status == "quarantined":
            log.error("QUARANTINED %s: %s", f.relpath, f.message)
    log.info("%s: %s", source, summary)
    return summary


def gate(layer: str, info: dict) -> dict:
    """Run one validation gate; raise AirflowFailException (no retry: a data problem) on
    error-level failures, with the failed expectations and the Data Docs link."""
    from airflow.sdk.exceptions import AirflowFailException

    from upsell.pipeline import ValidationFailed, check
    from upsell.target import selected_target
    from upsell.validate import validate_marts, validate_raw

    as_of = date.fromisoformat(info["as_of"])
    if layer == "raw":
        report = validate_raw(warehouse_path(), info["run_id"], as_of, business_tz())
    else:
        report = validate_marts(warehouse_path(), info["run_id"], as_of, selected_target())
    print(report.summary())
    try:
        check([report])
    except ValidationFailed as exc:
        raise AirflowFailException(str(exc)) from exc
    return {"suites": report.suites_run, "warnings": len(report.warnings), "data_docs": str(report.data_docs)}
