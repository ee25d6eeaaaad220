"""The DuckDB warehouse file: connection settings and the raw/audit table definitions."""

from __future__ import annotations

import os
from pathlib import Path

from upsell.contracts import DATASETS, Dataset

# The lineage every raw row carries, as `raw.<dataset>` shows it (and Postgres stores it).
LINEAGE_COLUMNS: list[tuple[str, str]] = [
    ("_source_file", "VARCHAR NOT NULL"),
    ("_source_line", "BIGINT NOT NULL"),
    ("_file_sha256", "VARCHAR NOT NULL"),
    ("_load_id", "VARCHAR NOT NULL"),
    ("_loaded_at", "TIMESTAMPTZ NOT NULL"),
]

# In DuckDB the rows are stored in `raw_rows.<dataset>` with the lineage that differs per row
# or that the models filter on; the file's name and hash are the same for every row of a
# load, so `raw.<dataset>` (a view) takes them from its `audit.file_loads` row. Written per
# row they were 7 % of ingestion's CPU (two constant strings copied into every row group:
# docs/benchmarks.md, seventeenth round); read through the view they cost a join with one
# row per file (≈ 10 ms per 5M rows).
RAW_ROWS_SCHEMA = "raw_rows"
PER_FILE_LINEAGE = {"_source_file": "source_file", "_file_sha256": "file_sha256"}  # view column -> file_loads
STORED_LINEAGE: list[tuple[str, str]] = [(n, t) for n, t in LINEAGE_COLUMNS if n not in PER_FILE_LINEAGE]

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


def raw_rows_table_ddl(dataset: Dataset) -> str:
    """The table ingestion appends a dataset's rows to: typed columns and ``STORED_LINEAGE``."""
    cols = [f'"{c.name}" {c.sql_type}' for c in dataset.columns]
    cols += [f"{name} {typ}" for name, typ in STORED_LINEAGE]
    return f"CREATE TABLE IF NOT EXISTS {RAW_ROWS_SCHEMA}.{dataset.name} (\n    " + ",\n    ".join(cols) + "\n)"


def raw_view_ddl(dataset: Dataset) -> str:
    """``raw.<dataset>``: the stored rows with every lineage column, in ``LINEAGE_COLUMNS``' order.

    A LEFT join, so a row never disappears from the view: every load commits its rows and its
    ``audit.file_loads`` row in one transaction, and ``load_id`` is that table's key."""
    cols = [f'r."{c.name}"' for c in dataset.columns]
    cols += [f"f.{PER_FILE_LINEAGE[name]} AS {name}" if name in PER_FILE_LINEAGE else f"r.{name}"
             for name, _ in LINEAGE_COLUMNS]
    return (f"CREATE OR REPLACE VIEW raw.{dataset.name} AS SELECT\n    " + ",\n    ".join(cols)
            + f"\nFROM {RAW_ROWS_SCHEMA}.{dataset.name} AS r\n"
            "LEFT JOIN audit.file_loads AS f ON f.load_id = r._load_id")


def ensure_schema(con) -> None:
    """Create the raw and audit schemas, tables and views if they do not exist (idempotent).

    A warehouse written before ``raw_rows`` existed (``raw.<dataset>`` a table holding all
    five lineage columns) is migrated in the same transaction: its rows move to
    ``raw_rows.<dataset>`` unchanged, and the view takes the table's name."""
    con.execute("BEGIN TRANSACTION")
    try:
        for ddl in AUDIT_DDL:
            con.execute(ddl)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_ROWS_SCHEMA}")
        kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                 "WHERE table_schema = 'raw' AND table_catalog = current_database()").fetchall())
        for dataset in DATASETS.values():
            con.execute(raw_rows_table_ddl(dataset))
            if kinds.get(dataset.name) == "BASE TABLE":
                _move_rows(con, dataset)
            if kinds.get(dataset.name) != "VIEW":
                con.execute(raw_view_ddl(dataset))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _move_rows(con, dataset: Dataset) -> None:
    """Migrate a pre-``raw_rows`` table: its rows into ``raw_rows``, then drop it."""
    cols = ", ".join([f'"{c.name}"' for c in dataset.columns] + [name for name, _ in STORED_LINEAGE])
    con.execute(f"INSERT INTO {RAW_ROWS_SCHEMA}.{dataset.name} ({cols}) SELECT {cols} FROM raw.{dataset.name}")
    con.execute(f"DROP TABLE raw.{dataset.name}")
