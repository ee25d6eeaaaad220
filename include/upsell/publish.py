"""Publish validated marts to the serving location BI tools read.

Write-audit-publish: dbt writes marts into the warehouse (the *staging* location, which
BI never opens); they are copied into a brand-new serving DuckDB file and a new Parquet
folder (``stage_publish``: hidden names nobody reads; ``run_nightly`` copies while the marts
gate validates), which replace the published ones with atomic renames only after
validation has passed (``StagedPublish.commit``; ``discard`` otherwise).
Each mart is one Parquet file, ``<mart>.parquet``, except the history marts (one snapshot
per ``as_of_date``, named ``<name>_history``): a folder ``<mart>/`` with one file per
snapshot, ``<as_of_date>.parquet``, so that a night writes only its own snapshot and links
the others from the version it replaces (:func:`parquet_path`).
A large mart whose build logs the rows it rewrites (``mrr_movements``: :data:`REWRITE_LOGS`)
has only those rows written again in the serving file (:func:`_rewritten_rows`).
A BI reader that has the old file open keeps reading the old, complete version (the
rename does not touch the open inode) and is never locked out — DuckDB allows one writer
per file, and the writer here never writes to a file a reader has open. New readers see
the new version, whole. On failure nothing is renamed: the previous marts stay served.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from upsell import mart_comments
from upsell.sqlparse import lit
from upsell.warehouse import connect

log = logging.getLogger(__name__)

SERVING_FILE = "upsell.duckdb"  # not marts.duckdb: its catalog name would clash with schema marts
PARQUET_DIR = "parquet"
KEEP_PARQUET_VERSIONS = 3
HISTORY_SUFFIX = "_history"
# Marts whose dbt build logs the rows it rewrote (macros/mrr_incremental.sql): mart ->
# (log table in the warehouse, the column `rewritten_from` bounds, the column of the
# accounts rewritten whole). The serving file records the build it mirrors in STATE_TABLE.
REWRITE_LOGS = {"mrr_movements": ("audit.mrr_movements_rewrites", "month", "account_id")}
STATE_TABLE = "publish_state.rewrite_batches"


@dataclass(frozen=True)
class Rewrite:
    """What publish writes of a mart with a rewrite log: the rows ``where`` selects (None:
    the whole mart), and the warehouse's last logged build (None: no log yet), which the
    new serving file records as the build it mirrors."""

    where: str | None
    batch: tuple[int, str] | None


@dataclass
class PublishResult:
    serving_file: Path
    parquet_dir: Path
    rows: dict[str, int] = field(default_factory=dict)


def default_serving_dir(warehouse: Path) -> Path:
    return Path(os.environ.get("UPSELL_SERVING_DIR") or Path(warehouse).resolve().parent / "serving")


def is_history_mart(mart: str) -> bool:
    """A history mart keeps one snapshot per ``as_of_date`` (customer_cpm_history, ...); the
    name decides, so the Parquet layout is known before any data (DAG assets, BI recipes)."""
    return mart.endswith(HISTORY_SUFFIX)


def parquet_path(mart: str) -> str:
    """Where ``mart`` is served under a Parquet version (``parquet/current/``): the file
    ``<mart>.parquet``, or for a history mart the folder ``<mart>`` of ``<as_of_date>.parquet``
    files, each a whole snapshot with every column (``as_of_date`` included), which DuckDB
    (``read_parquet('<mart>/*.parquet')``), pandas / pyarrow (the folder) and Power BI's
    folder connector read as one table. One file rewritten every night grew with the history
    (docs/benchmarks.md, twenty-fourth round)."""
    return mart if is_history_mart(mart) else f"{mart}.parquet"


def parquet_glob(mart: str) -> str:
    """What ``read_parquet`` reads for ``mart``, relative to a Parquet version."""
    path = parquet_path(mart)
    return f"{path}/*.parquet" if is_history_mart(mart) else path


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def publish(warehouse: Path, run_id: str, as_of: date, serving_dir: Path | None = None) -> PublishResult:
    """Copy the marts to a new version and switch BI over to it (:func:`stage_publish`,
    then :meth:`StagedPublish.commit`)."""
    return stage_publish(warehouse, run_id, as_of, serving_dir).commit()


@dataclass
class StagedPublish:
    """A complete copy of the marts, not yet served: a hidden DuckDB file and a Parquet
    version folder nobody reads. :meth:`commit` serves it; :meth:`discard` removes it."""

    warehouse: Path
    run_id: str
    as_of: date
    published_at: datetime
    serving_dir: Path
    version: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def tmp_file(self) -> Path:
        return self.serving_dir / f".{SERVING_FILE}.{self.version}.tmp"

    @property
    def parquet_version(self) -> Path:
        return self.serving_dir / PARQUET_DIR / "versions" / self.version

    def commit(self) -> PublishResult:
        """The two switches, each one atomic rename; then the audit record."""
        serving_file = self.serving_dir / SERVING_FILE
        os.replace(self.tmp_file, serving_file)
        current = self.serving_dir / PARQUET_DIR / "current"
        tmp_link = self.serving_dir / PARQUET_DIR / f".current.{self.version}"
        os.symlink(Path("versions") / self.version, tmp_link)
        os.replace(tmp_link, current)
        _prune(self.parquet_version.parent, keep=KEEP_PARQUET_VERSIONS, current=self.version)
        _record(self.warehouse, self.run_id, self.as_of, self.published_at, self.rows)
        log.info("published %d marts to %s and %s", len(self.rows), serving_file, current)
        return PublishResult(serving_file, current, self.rows)

    def discard(self) -> None:
        self.tmp_file.unlink(missing_ok=True)
        shutil.rmtree(self.parquet_version, ignore_errors=True)


def stage_publish(warehouse: Path, run_id: str, as_of: date, serving_dir: Path | None = None) -> StagedPublish:
    """Copy every table of the warehouse's ``marts`` schema into a new serving file (a copy
    of the served one, in which only what changed is written: :func:`_stale_snapshots`) and
    a new Parquet version, served by nothing yet. Reads the warehouse read-only, so it can
    run while the marts gate reads the same tables (``run_nightly`` does so)."""
    import duckdb

    serving_dir = Path(serving_dir or default_serving_dir(warehouse))
    serving_dir.mkdir(parents=True, exist_ok=True)
    published_at = datetime.now(UTC)
    version = f"{as_of.isoformat()}__{_safe(run_id)}__{published_at:%Y%m%dT%H%M%S%f}"
    staged = StagedPublish(Path(warehouse), run_id, as_of, published_at, serving_dir, version)
    parquet_version = staged.parquet_version
    parquet_version.mkdir(parents=True, exist_ok=True)

    served = serving_dir / SERVING_FILE
    if served.exists():
        # the history marts' earlier snapshots are in it already (see _stale_snapshots)
        shutil.copyfile(served, staged.tmp_file)
    con = duckdb.connect(str(staged.tmp_file))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"ATTACH '{Path(warehouse).resolve()}' AS wh (READ_ONLY)")
        db = con.execute("SELECT current_database()").fetchone()[0]
        marts = _tables(con, "wh")
        if not marts:
            raise RuntimeError(f"no marts to publish in {warehouse} (schema marts is empty)")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}".marts')
        served_marts = _tables(con, db)
        current = serving_dir / PARQUET_DIR / "current"
        previous = current.resolve() if current.is_dir() else None
        stale = {mart: _stale_snapshots(con, db, mart, columns, served_marts.get(mart), as_of)
                 for mart, columns in marts.items()}
        rewrites = {mart: _rewritten_rows(con, db, mart, marts[mart], served_marts.get(mart))
                    for mart in REWRITE_LOGS if mart in marts}
        partial = {m for m, dates in stale.items() if dates is not None} | \
            {m for m, rewrite in rewrites.items() if rewrite.where is not None}
        # what is copied whole is dropped first, and the freed blocks are written again
        # (replacing a table in place would grow the file by its size every night)
        for mart in set(served_marts) - partial:
            con.execute(f'DROP TABLE "{db}".marts.{mart}')
        con.execute("CHECKPOINT")
        for mart, dates in stale.items():
            target = f'"{db}".marts.{mart}'
            if mart in rewrites and rewrites[mart].where is not None:
                where = rewrites[mart].where
                con.execute(f"DELETE FROM {target} WHERE {where}")
                con.execute(f"INSERT INTO {target} SELECT * FROM wh.marts.{mart} WHERE {where}")
            elif dates is None:
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM wh.marts.{mart}")
            else:
                con.execute(f"DELETE FROM {target} WHERE as_of_date IN (SELECT unnest(?::DATE[]))", [dates])
                con.execute(f"INSERT INTO {target} SELECT * FROM wh.marts.{mart} "
                            f"WHERE as_of_date IN (SELECT unnest(?::DATE[]))", [dates])
            staged.rows[mart] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            if is_history_mart(mart):
                _write_snapshots(con, target, parquet_version / parquet_path(mart),
                                 previous / parquet_path(mart) if previous else None, dates)
            else:
                con.execute(f"COPY {target} TO {lit(str(parquet_version / parquet_path(mart)))} (FORMAT parquet)")
        _record_rewrites(con, db, rewrites)
        mart_comments.apply(con, db, marts, mart_comments.manifest_for(Path(warehouse)))
        con.execute(f"""CREATE OR REPLACE TABLE "{db}".marts._publish AS
            SELECT ?::VARCHAR AS run_id, ?::DATE AS as_of_date, ?::TIMESTAMPTZ AS published_at""",
                    [run_id, as_of, published_at])
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        staged.discard()
        raise
    con.close()
    return staged


def _tables(con, catalog: str) -> dict[str, list[tuple]]:
    """The marts of ``catalog`` (``_publish`` aside): name -> [(column, type), ...] in order."""
    tables: dict[str, list[tuple]] = {}
    for table, column, dtype in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = 'marts' AND table_name <> '_publish' "
            "ORDER BY table_name, ordinal_position", [catalog]).fetchall():
        tables.setdefault(table, []).append((column, dtype))
    return dict(sorted(tables.items()))


def _stale_snapshots(con, db: str, mart: str, columns: list[tuple], served_columns: list[tuple] | None,
                     as_of: date) -> list[date] | None:
    """The snapshots of a history mart that the new serving file must write again, or None
    when ``mart`` is to be copied whole.

    A history mart (one snapshot per ``as_of_date``: customer_cpm_history, ...) grows by a
    snapshot every night, and copying it whole made each publish longer than the one before
    (at L scale 7.6 s after 2 nights, 18.7 s after 30; docs/benchmarks.md, fourteenth
    round). The new file starts as a copy of the served one (a file copy, no re-encoding),
    so only the snapshots that differ are written again: the night's as-of date, and any
    date whose row count differs from the warehouse's (a backfill, a date gone). A night
    rewrites only its own date in the warehouse (the models' delete+insert on as_of_date),
    so equal counts on another date mean the same rows. Every other mart, and a history
    mart whose columns changed or that is not served yet, is copied whole. Whoever rewrites
    earlier snapshots by hand removes the served file first: the next publish then copies
    everything (README, "Incremental staging, the lookback and `--full-refresh`")."""
    if ("as_of_date", "DATE") not in columns or served_columns != columns:
        return None
    counts = dict(con.execute(f"SELECT as_of_date, count(*) FROM wh.marts.{mart} GROUP BY 1").fetchall())
    if len(counts) < 2:
        return None
    have = dict(con.execute(f'SELECT as_of_date, count(*) FROM "{db}".marts.{mart} GROUP BY 1').fetchall())
    return sorted({as_of} | {d for d in counts.keys() | have.keys() if counts.get(d) != have.get(d)})


def _rewritten_rows(con, db: str, mart: str, columns: list[tuple], served_columns: list[tuple] | None) -> Rewrite:
    """The rows of a mart with a rewrite log (:data:`REWRITE_LOGS`) that the new serving file
    must write again: those the builds since the served one rewrote.

    ``mrr_movements`` (an account x month row over the whole history: 11.6M rows at L
    scale, growing every month) was copied whole every night (≈ 2.8 s at L), although a
    night rewrites the months from the previous as-of date's on and the accounts whose
    history changed. Its build logs exactly that (macros/mrr_incremental.sql), one header row
    per build. The serving file records the build it mirrors (:data:`STATE_TABLE`: number
    and random id). When the warehouse's log holds that build and every one after it, none
    of which rewrote every row, the rows outside their rewrites are the served ones, and the
    union of the rewrites is written again. Anything else — no served copy, other columns, a
    served copy from another warehouse or older than the kept log, a full rebuild — copies
    the mart whole."""
    log_table, month_column, account_column = REWRITE_LOGS[mart]
    if not _has_table(con, "wh", log_table):
        return Rewrite(None, None)
    headers = con.execute(f"SELECT batch_no, batch_id, rewritten_from FROM wh.{log_table} "
                          "WHERE account_id IS NULL ORDER BY batch_no").fetchall()
    if not headers:
        return Rewrite(None, None)
    latest = (headers[-1][0], headers[-1][1])
    whole = Rewrite(None, latest)
    served = _served_rewrite(con, db, mart) if served_columns == columns else None
    if served is None or served not in [(no, batch_id) for no, batch_id, _ in headers]:
        return whole
    later = [h for h in headers if h[0] > served[0]]
    if [h[0] for h in later] != list(range(served[0] + 1, served[0] + 1 + len(later))) or \
            any(rewritten_from is None for _, _, rewritten_from in later):
        return whole
    if not later:
        return Rewrite("false", latest)  # nothing built since the served copy
    since = min(rewritten_from for _, _, rewritten_from in later)
    return Rewrite(f"{month_column} >= DATE '{since.isoformat()}' OR {account_column} IN ("
                   f"SELECT account_id FROM wh.{log_table} WHERE batch_no > {served[0]} "
                   "AND account_id IS NOT NULL)", latest)


def _served_rewrite(con, db: str, mart: str) -> tuple[int, str] | None:
    """The build of ``mart`` the served file mirrors (its :data:`STATE_TABLE` row), or None."""
    if not _has_table(con, db, STATE_TABLE):
        return None
    row = con.execute(f'SELECT batch_no, batch_id FROM "{db}".{STATE_TABLE} WHERE mart = ?', [mart]).fetchone()
    return (row[0], row[1]) if row else None


def _has_table(con, catalog: str, table: str) -> bool:
    """Whether ``catalog`` has ``table`` (``schema.name``)."""
    schema, name = table.split(".")
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
                       "AND table_name = ?", [catalog, schema, name]).fetchone()[0] > 0


def _record_rewrites(con, db: str, rewrites: dict[str, Rewrite]) -> None:
    """Record in the new serving file the build each mart with a rewrite log now mirrors."""
    schema = STATE_TABLE.split(".")[0]
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}".{schema}')
    con.execute(f'CREATE TABLE IF NOT EXISTS "{db}".{STATE_TABLE} (mart VARCHAR, batch_no INTEGER, '
                "batch_id VARCHAR)")
    con.execute(f'DELETE FROM "{db}".{STATE_TABLE}')
    for mart, rewrite in sorted(rewrites.items()):
        if rewrite.batch is not None:
            con.execute(f'INSERT INTO "{db}".{STATE_TABLE} VALUES (?, ?, ?)', [mart, *rewrite.batch])


def _write_snapshots(con, table: str, folder: Path, previous: Path | None, rewrite: list[date] | None) -> None:
    """A history mart's Parquet folder: one file per ``as_of_date`` of ``table``.

    A snapshot that publish did not have to write again in the serving file (not in
    ``rewrite``; None: all of them) is hard-linked from the previous version's folder when
    its file there has the same row count and the folder the same columns, the tests
    :func:`_stale_snapshots` makes for the serving file (they also guard against a previous
    version that is not the served file's: a publish stopped between its two switches).
    Every folder this writes has one schema (its files are written from one table or linked
    after this check), so one file's columns are the folder's. Everything else is written.
    A link costs no I/O and keeps the previous version intact: versions are never modified,
    only pruned (an unlink)."""
    folder.mkdir()
    counts = dict(con.execute(f"SELECT as_of_date, count(*) FROM {table} GROUP BY 1").fetchall())
    if None in counts:
        raise ValueError(f"{table}: a history mart's as_of_date must not be null")
    linkable: dict[date, int] = {}
    if previous is not None and previous.is_dir() and rewrite is not None:
        candidates = [previous / f"{d.isoformat()}.parquet" for d in counts if d not in rewrite]
        candidates = [str(p) for p in candidates if p.is_file()]
        if candidates and _columns(con, f"read_parquet({lit(candidates[0])})") == _columns(con, table):
            linkable = {date.fromisoformat(Path(name).stem): rows for name, rows in con.execute(
                "SELECT file_name, num_rows FROM parquet_file_metadata(?::VARCHAR[])", [candidates]).fetchall()}
    for as_of_date, rows in sorted(counts.items()):
        name = f"{as_of_date.isoformat()}.parquet"
        if linkable.get(as_of_date) == rows:
            try:
                os.link(previous / name, folder / name)
                continue
            except OSError:  # a file system without hard links: write it
                pass
        con.execute(f"COPY (SELECT * FROM {table} WHERE as_of_date = DATE '{as_of_date.isoformat()}') "
                    f"TO {lit(str(folder / name))} (FORMAT parquet)")


def _columns(con, relation: str) -> list[tuple]:
    return [(name, dtype) for name, dtype, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def _prune(root: Path, keep: int, current: str) -> None:
    """Drop old Parquet versions (a reader mid-read of one of the last few keeps working)."""
    versions = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def _record(warehouse: Path, run_id: str, as_of: date, published_at: datetime, rows: dict[str, int]) -> None:
    con = connect(warehouse)
    try:
        con.execute("""CREATE TABLE IF NOT EXISTS audit.publishes (
            run_id VARCHAR NOT NULL, as_of_date DATE NOT NULL, mart VARCHAR NOT NULL,
            rows BIGINT NOT NULL, published_at TIMESTAMPTZ NOT NULL)""")
        con.executemany("INSERT INTO audit.publishes VALUES (?, ?, ?, ?, ?)",
                        [[run_id, as_of, mart, n, published_at] for mart, n in sorted(rows.items())])
    finally:
        con.close()
