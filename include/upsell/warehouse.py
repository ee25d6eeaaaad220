"""The DuckDB warehouse file: connection settings and the raw/audit table definitions."""

from __future__ import annotations

import os
from pathlib import Path

from upsell.contracts import DATASETS, Dataset

LINEAGE_COLUMNS: list[tuple[str, str]] = [
    ("_source_file", "VARCHAR NOT NULL"),
    ("_source_line", "BIGINT NOT NULL"),
    ("_file_sha256", "VARCHAR NOT NULL"),
    ("_load_id", "VARCHAR NOT NULL"),
    ("_loaded_at", "TIMESTAMPTZ NOT NULL"),
]

AUDIT_DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS audit",
    """CREATE TABLE IF NOT EXISTS audit.file_loads (
        load_id VARCHAR PRIMARY KEY,
        run_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        dataset VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        file_bytes BIGINT NOT NULL,
        format VARCHAR NOT NULL,
        encoding VARCHAR,
        status VARCHAR NOT NULL,          -- loaded | quarantined
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        duplicates_collapsed BIGINT NOT NULL,
        message VARCHAR,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ NOT NULL,
        CHECK (rows_read = rows_loaded + rows_quarantined + duplicates_collapsed)
    )""",
    """CREATE TABLE IF NOT EXISTS audit.quarantine (
        load_id VARCHAR NOT NULL,
        dataset VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        line BIGINT,                      -- NULL when the whole file is quarantined
        raw_text VARCHAR,
        reason VARCHAR NOT NULL,
        quarantined_at TIMESTAMPTZ NOT NULL
    )""",
]


# DuckDB's own default is 80 % of RAM per process; the nightly job runs two DuckDB
# processes at once (the pipeline's and dbt's, see dbt_project/profiles.yml), which at L
# scale reached 16.5 GiB together. With a limit each spills to disk instead.
DEFAULT_MEMORY_LIMIT = "4GB"


def connect(path: Path | str, read_only: bool = False):
    """Open the warehouse with session settings every module relies on.

    TimeZone is UTC so TIMESTAMPTZ values print and cast as UTC regardless of the host.
    ``UPSELL_DUCKDB_MEMORY_LIMIT`` (default ``DEFAULT_MEMORY_LIMIT``) / ``UPSELL_DUCKDB_THREADS``
    bound resources; spill files go beside the warehouse.
    """
    import duckdb

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # no bar in Airflow task logs
    if not read_only:
        con.execute(f"SET temp_directory = '{path.parent / (path.name + '.tmp')}'")
    con.execute(f"SET memory_limit = '{os.environ.get('UPSELL_DUCKDB_MEMORY_LIMIT', DEFAULT_MEMORY_LIMIT)}'")
    if threads := os.environ.get("UPSELL_DUCKDB_THREADS"):
        con.execute(f"SET threads = {int(threads)}")
    return con


def raw_table_ddl(dataset: Dataset) -> str:
    cols = [f'"{c.name}" {c.sql_type}' for c in dataset.columns]
    cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS raw.{dataset.name} (\n    " + ",\n    ".join(cols) + "\n)"


def ensure_schema(con) -> None:
    """Create the raw and audit schemas and tables if they do not exist (idempotent)."""
    for ddl in AUDIT_DDL:
        con.execute(ddl)
    for dataset in DATASETS.values():
        con.execute(raw_table_ddl(dataset))
