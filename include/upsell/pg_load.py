"""Copy committed file loads from the DuckDB warehouse file to the Postgres warehouse.

Ingestion parses, types, quarantines and audits in DuckDB (``upsell.ingest``). With the
Postgres target this module then copies every file load that Postgres does not have yet,
**one Postgres transaction per file load**: the file's ``raw.<dataset>`` rows, its
``audit.quarantine`` rows and its ``audit.file_loads`` row are committed together, after
counting what arrived against the audit row (rows_loaded, rows_quarantined). The audit
table carries the same CHECK (rows_read = loaded + quarantined + duplicates) as in DuckDB,
so "every row loaded or quarantined, counts reconcile" holds in Postgres too, and an
interrupted copy leaves no partial file behind: the next run copies that file again.

Transfer is CSV through ``COPY ... FROM STDIN`` (psycopg2 ``copy_expert``): it needs no
DuckDB extension (DuckDB's ``postgres`` extension is downloaded on first use, which an
offline host cannot do) and is Postgres' fastest bulk path. DuckDB writes the CSV with
``\\N`` for NULL so that empty strings stay empty strings, and doubles in shortest
round-trip form, so Postgres reads back the identical values.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from upsell.contracts import DATASETS, Dataset
from upsell.sqlparse import lit
from upsell.warehouse import AUDIT_DDL, LINEAGE_COLUMNS, connect

log = logging.getLogger(__name__)

# DuckDB type names of the raw/audit DDL that Postgres spells differently
PG_TYPE = {"DOUBLE": "DOUBLE PRECISION"}

FILE_LOAD_COLUMNS = (
    "load_id, run_id, source, dataset, source_file, file_sha256, file_bytes, format, encoding, status, "
    "rows_read, rows_loaded, rows_quarantined, duplicates_collapsed, message, started_at, finished_at")
QUARANTINE_COLUMNS = "load_id, dataset, source_file, file_sha256, line, raw_text, reason, quarantined_at"


class ReconcileError(RuntimeError):
    """The rows copied for a file load do not match its audit row (nothing was committed)."""


@dataclass
class CopyResult:
    """What one call copied: file loads (by load_id) and row totals."""

    loads: list[str] = field(default_factory=list)
    rows_loaded: int = 0
    rows_quarantined: int = 0
    already_present: int = 0
    seconds: float = 0.0


def pg_raw_table_ddl(dataset: Dataset) -> str:
    cols = [f'"{c.name}" {PG_TYPE.get(c.sql_type, c.sql_type)}' for c in dataset.columns]
    cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS raw.{dataset.name} (\n    " + ",\n    ".join(cols) + "\n)"


def ensure_pg_schema(pg) -> None:
    """Create the raw and audit schemas and tables in Postgres (idempotent; the same DDL as
    DuckDB's, including the audit's reconciliation CHECK)."""
    with pg.cursor() as cur:
        for ddl in AUDIT_DDL:
            cur.execute(ddl)
        for dataset in DATASETS.values():
            cur.execute(pg_raw_table_ddl(dataset))
    pg.commit()


def copy_to_postgres(warehouse: Path, pg=None) -> CopyResult:
    """Copy every file load of the DuckDB ``warehouse`` that Postgres lacks, oldest first.

    ``pg``: an open psycopg2 connection (not autocommit); default ``target.pg_connect()``.
    Idempotent: a load already in Postgres' ``audit.file_loads`` is not copied again.
    """
    from upsell.target import pg_transaction

    t0 = time.perf_counter()
    result = CopyResult()
    duck = connect(warehouse, read_only=True)
    workdir = Path(tempfile.mkdtemp(prefix="upsell-pgcopy-", dir=Path(warehouse).parent))
    try:
        # each load commits on its own (see _copy_load); the context closes a connection
        # opened here
        with pg_transaction(pg) as pg:
            ensure_pg_schema(pg)
            with pg.cursor() as cur:
                cur.execute("SELECT load_id FROM audit.file_loads")
                present = {r[0] for r in cur.fetchall()}
            loads = duck.execute(
                f"SELECT {FILE_LOAD_COLUMNS} FROM audit.file_loads ORDER BY started_at, load_id").fetchall()
            for row in loads:
                if row[0] in present:
                    result.already_present += 1
                    continue
                loaded, quarantined = _copy_load(duck, pg, row, workdir)
                result.loads.append(row[0])
                result.rows_loaded += loaded
                result.rows_quarantined += quarantined
            _analyze(pg, {row[3] for row in loads if row[0] in result.loads})
    finally:
        duck.close()
        for f in workdir.glob("*"):
            f.unlink()
        workdir.rmdir()
    result.seconds = time.perf_counter() - t0
    log.info("copied %d file load(s) to Postgres (%d rows loaded, %d quarantined; %d already there) in %.1f s",
             len(result.loads), result.rows_loaded, result.rows_quarantined, result.already_present,
             result.seconds)
    return result


def _analyze(pg, datasets: set[str]) -> None:
    """Fresh planner statistics for the tables that grew: without them Postgres plans the
    first dbt build after a load on the sizes it saw before (often an empty table)."""
    if not datasets:
        return
    with pg.cursor() as cur:
        for name in sorted(datasets):
            cur.execute(f"ANALYZE raw.{name}")
        cur.execute("ANALYZE audit.file_loads")
        cur.execute("ANALYZE audit.quarantine")
    pg.commit()


def _copy_load(duck, pg, audit_row: tuple, workdir: Path) -> tuple[int, int]:
    """One file load in one Postgres transaction: raw rows, quarantine rows, audit row."""
    load_id, dataset = audit_row[0], audit_row[3]
    rows_loaded, rows_quarantined = audit_row[11], audit_row[12]
    spec = DATASETS[dataset]
    raw_cols = ", ".join([f'"{c.name}"' for c in spec.columns] + [name for name, _ in LINEAGE_COLUMNS])
    try:
        with pg.cursor() as cur:
            _copy_rows(duck, cur, f"SELECT {raw_cols} FROM raw.{dataset} WHERE _load_id = {lit(load_id)}",
                       f"raw.{dataset} ({raw_cols})", workdir / "raw.csv")
            _copy_rows(duck, cur, f"SELECT {QUARANTINE_COLUMNS} FROM audit.quarantine "
                                  f"WHERE load_id = {lit(load_id)} ORDER BY line NULLS FIRST",
                       f"audit.quarantine ({QUARANTINE_COLUMNS})", workdir / "quarantine.csv")
            cur.execute(f"SELECT count(*) FROM raw.{dataset} WHERE _load_id = %s", [load_id])
            got_loaded = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM audit.quarantine WHERE load_id = %s", [load_id])
            got_quarantined = cur.fetchone()[0]
            # a file quarantined whole has rows_quarantined = 0 and one quarantine row (the reason)
            want_quarantined = rows_quarantined if audit_row[9] == "loaded" else 1
            if (got_loaded, got_quarantined) != (rows_loaded, want_quarantined):
                raise ReconcileError(
                    f"{audit_row[4]} ({load_id}): Postgres received {got_loaded} raw rows and "
                    f"{got_quarantined} quarantine rows, the audit says {rows_loaded} and "
                    f"{want_quarantined}; nothing of this file was committed to Postgres")
            cur.execute(f"INSERT INTO audit.file_loads ({FILE_LOAD_COLUMNS}) VALUES "
                        f"({', '.join(['%s'] * 17)})", list(audit_row))
        pg.commit()
    except BaseException:
        pg.rollback()
        raise
    return rows_loaded, rows_quarantined


def _copy_rows(duck, cur, select_sql: str, pg_table: str, csv_path: Path) -> None:
    """DuckDB query → CSV file → Postgres COPY (the caller's transaction)."""
    duck.execute(f"COPY ({select_sql}) TO {lit(str(csv_path))} (FORMAT csv, HEADER false, NULLSTR '\\N')")
    with open(csv_path, encoding="utf-8") as fh:
        cur.copy_expert(f"COPY {pg_table} FROM STDIN WITH (FORMAT csv, NULL '\\N')", fh)
    csv_path.unlink()
