"""Load export files from a landing folder into the warehouse's raw schema.

Per file, in one transaction: every record read is loaded into ``raw.<dataset>`` with
lineage columns (stored in ``raw_rows.<dataset>``; see ``upsell.warehouse``), or written
to ``audit.quarantine`` with its line, text and reason, or counted as an exact duplicate
of an earlier record of the same file; one row in ``audit.file_loads`` records the counts,
which always reconcile (rows_read = rows_loaded + rows_quarantined + duplicates_collapsed).
A file whose bytes were loaded before (same SHA-256 for the same dataset) is skipped, so
re-running a night changes nothing, and an interrupted run leaves no partial load behind.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from upsell.contracts import DATASETS
from upsell.discover import IgnoredFile, LandingFile, discover
from upsell.encoding import EncodingError
from upsell.headers import HeaderError, load_mappings
from upsell.progress import Progress
from upsell.readers import FileError, Staged, stage
from upsell.sqlparse import cleaned, cleaned_for, is_numeric, is_one_of, lit, missing_error, number_text, parse_sql
from upsell.warehouse import RAW_ROWS_SCHEMA, connect, ensure_schema

log = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Tokyo"
PARALLEL_FILES = 2  # files read at once (each gzip stream decompresses on one core)
IN_FLIGHT = PARALLEL_FILES + 1  # files being read or waiting for their commit


@dataclass
class FileResult:
    relpath: str
    dataset: str
    status: str  # loaded | quarantined | skipped
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicates_collapsed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    message: str = ""


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)
    ignored: list[IgnoredFile] = field(default_factory=list)

    def total(self, attr: str, status: str | None = None) -> int:
        return sum(getattr(f, attr) for f in self.files if status in (None, f.status))

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def checked_sql(dataset: str, staged: Staged, tz: str) -> str:
    """One pass over the file's records: typed columns, ``_reason``, original text of bad
    records (``_raw``) and a hash of the record's text for duplicate detection.

    Layers so that each cell is cleaned once and parsed once: ``k_<col>`` cleaned text
    (for numbers: ``c_<col>`` cleaned, then ``k_<col>`` without yen signs and commas),
    then typed values, then the error messages that compare the two.
    """
    spec = DATASETS[dataset]
    cleaned_cols: list[str] = []
    number_cols: list[str] = []
    values: list[str] = []
    errors: list[str] = []
    for col in spec.columns:
        ref = staged.column_ref(col.name)
        if ref is None:
            values.append(f'CAST(NULL AS {col.sql_type}) AS "{col.name}"')
            continue
        k = f"k_{col.name}"
        if col.type == "text":
            # text needs no cleaning beyond the trim its value does
            value, _ = parse_sql(col, ref, tz)
            values.append(f'{value} AS "{col.name}"')
            if col.required:
                errors.append(missing_error(col.name, f'"{col.name}"'))
            continue
        if is_numeric(col):
            cleaned_cols.append(f"{cleaned(ref)} AS c_{col.name}")
            number_cols.append(f"{number_text(f'c_{col.name}')} AS {k}")
        else:
            cleaned_cols.append(f"{cleaned_for(col, ref)} AS {k}")
        value, error = parse_sql(col, ref, tz, c=k)
        values.append(f'{value} AS "{col.name}"')
        errors.append(error(f'"{col.name}"'))
        if col.required:
            errors.append(missing_error(col.name, k))
    for column, when_values, then_required in spec.conditional_required:
        if staged.column_ref(column) is None:
            continue
        target = f'"{then_required}"' if staged.column_ref(then_required) else "NULL"
        condition = is_one_of(f'"{column}"', tuple(when_values))
        errors.append(
            f"CASE WHEN {condition} AND {target} IS NULL "
            f"THEN {lit(f'{then_required} is required when {column} is ')} || \"{column}\" END")
    names = ", ".join(f'"{c.name}"' for c in spec.columns)
    # concat_ws builds a string for every row, '' for the good ones: only run it on rows
    # with at least one message (COALESCE finds them without building anything)
    messages = ", ".join(errors)
    reason = f"CASE WHEN coalesce({messages}) IS NOT NULL THEN concat_ws('; ', {messages}) END" if errors else "NULL"
    s_cols = ", ".join(f"s{i}" for i in range(len(staged.header)))
    carry = "".join(f"{c}, " for c in staged.carry)
    return f"""
        WITH src AS (
            SELECT *, {staged.pre_error_sql} AS _pre,
                   hash({s_cols}) AS _h {''.join(', ' + c for c in cleaned_cols)}
            FROM {staged.source}
        ), numbers AS (
            SELECT *{''.join(', ' + c for c in number_cols)} FROM src
        ), typed AS (
            SELECT *, {', '.join(values)} FROM numbers
        ), checked AS (
            SELECT *, coalesce(_pre, {reason}) AS _reason FROM typed
        )
        SELECT {carry}{names}, _reason, CASE WHEN _reason IS NOT NULL THEN {staged.raw_sql} END AS _raw, _h
        FROM checked
    """


def duplicates_sql(dataset: str, checked: str = "_checked") -> str:
    """Rows of ``_checked`` that repeat an earlier record of the same file exactly.

    Grouping by a hash of the record's text and comparing only the few rows that share a
    hash is much cheaper than partitioning millions of rows by every column; comparing
    the candidates' parsed values (and the text of bad records) keeps a hash collision
    from collapsing two different records.
    """
    names = ", ".join(f'"{c.name}"' for c in DATASETS[dataset].columns)
    return f"""
        WITH repeated AS (SELECT _h FROM {checked} GROUP BY _h HAVING count(*) > 1)
        SELECT rowid AS _row FROM {checked} WHERE _h IN (SELECT _h FROM repeated)
        QUALIFY row_number() OVER (PARTITION BY _h, {names}, _raw ORDER BY rowid) > 1
    """


@dataclass
class Prepared:
    """A file read, typed and checked by a worker, waiting for its commit."""

    lf: LandingFile
    size: int
    started: datetime
    t0: float
    sha: str = ""
    staged: Staged | None = None
    problem: str | None = None
    skipped: FileResult | None = None
    checked: str = ""  # ingest_work.checked_<n>
    dups: str = ""  # ingest_work.dups_<n>


WORK_DB = "ingest_work"


def prepare_file(cur, lf: LandingFile, n: int, workdir: Path, mappings: dict, tz: str = DEFAULT_TZ) -> Prepared:
    """Read, type and check one file into in-memory work tables (no writes to the warehouse).

    Runs on its own DuckDB cursor, so two files are read at once: a gzip stream is
    decompressed by one thread, and this keeps both cores busy on multi-file nights.
    """
    prep = Prepared(lf, lf.path.stat().st_size, datetime.now(UTC), time.perf_counter(),
                    checked=f"{WORK_DB}.checked_{n}", dups=f"{WORK_DB}.dups_{n}")
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Identical bytes have identical sizes: only when an earlier load of this dataset has
        # this file's size can it be a repeat, and then the hash decides before any work.
        # Otherwise the hash is computed on another core while DuckDB reads the file.
        maybe_repeat = cur.execute(
            "SELECT 1 FROM audit.file_loads WHERE dataset = ? AND file_bytes = ? LIMIT 1",
            [lf.dataset, prep.size]).fetchone()
        sha_future = pool.submit(sha256_file, lf.path)
        if maybe_repeat and (skipped := _already_loaded(cur, lf, sha_future.result(), prep.size)):
            prep.skipped = skipped
            return prep
        try:
            staged = stage(cur, lf, workdir / str(n), mappings)
            cur.execute(f"CREATE OR REPLACE TABLE {prep.checked} AS {checked_sql(lf.dataset, staged, tz)}")
            staged.finish(cur)
            cur.execute(f"CREATE OR REPLACE TABLE {prep.dups} AS {duplicates_sql(lf.dataset, prep.checked)}")
            prep.staged = staged
        except (FileError, HeaderError, EncodingError, duckdb.IOException,
                duckdb.InvalidInputException) as exc:
            # DuckDB reads a gzip stream to its end and raises on a truncated one
            # ("Unexpected end of GZIP stream"), so nothing of a cut file is loaded
            prep.problem = _explain(exc)
        finally:
            cur.execute("DROP TABLE IF EXISTS _stage")
        prep.sha = sha_future.result()
    return prep


def commit_file(con, prep: Prepared, run_id: str) -> FileResult:
    """Write a prepared file to the warehouse in one transaction (main connection, in order)."""
    lf = prep.lf
    try:
        if prep.skipped:
            return prep.skipped
        # a copy of a file committed earlier in this same run
        if skipped := _already_loaded(con, lf, prep.sha, prep.size):
            return skipped
        load_id = f"{lf.dataset}-{prep.sha[:16]}"
        if prep.problem:
            return _quarantine_file(con, lf, run_id, load_id, prep.sha, prep.size, prep.started, prep.t0,
                                    prep.problem, None)
        result = _commit_load(con, lf, run_id, load_id, prep.sha, prep.size, prep.started, prep.staged,
                              prep.checked, prep.dups)
        result.seconds = time.perf_counter() - prep.t0
        return result
    finally:
        for table in (prep.checked, prep.dups):
            if table:
                con.execute(f"DROP TABLE IF EXISTS {table}")


def _already_loaded(con, lf: LandingFile, sha: str, size: int) -> FileResult | None:
    prior = con.execute(
        "SELECT source_file FROM audit.file_loads WHERE dataset = ? AND file_sha256 = ?",
        [lf.dataset, sha]).fetchone()
    if not prior:
        return None
    same = "" if prior[0] == lf.relpath else f" (identical to {prior[0]})"
    return FileResult(lf.relpath, lf.dataset, "skipped", bytes=size,
                      message=f"already loaded{same}; nothing changed")


def _explain(exc: Exception) -> str:
    """The message for a file that cannot be read as a whole.

    Only our own file errors and DuckDB's scan errors (I/O, invalid input) mean the file is
    broken; binder or catalog errors would be bugs here and propagate instead.
    """
    if isinstance(exc, (FileError, HeaderError, EncodingError)):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "gzip" in text.lower():
        return f"truncated or corrupt gzip: {text}"
    return f"cannot read file: {text}"


def _commit_load(con, lf: LandingFile, run_id: str, load_id: str, sha: str, size: int,
                 started: datetime, staged: Staged, checked: str, dups_table: str) -> FileResult:
    spec = DATASETS[lf.dataset]
    cols = ", ".join(f'"{c.name}"' for c in spec.columns)
    loaded_at = datetime.now(UTC)
    ignored_cols = f"; ignored columns: {', '.join(staged.match.ignored)}" if staged.match.ignored else ""
    dups = con.execute(f"SELECT count(*) FROM {dups_table}").fetchone()[0]
    not_dup = f" AND rowid NOT IN (SELECT _row FROM {dups_table})" if dups else ""
    con.execute("BEGIN TRANSACTION")
    try:
        loaded = con.execute(f"""
            INSERT INTO {RAW_ROWS_SCHEMA}.{lf.dataset} ({cols}, _source_line, _load_id, _loaded_at)
            SELECT {cols}, {staged.line_sql}, ?, ? FROM {checked} WHERE _reason IS NULL{not_dup}""",
                    [load_id, loaded_at]).fetchone()[0]
        quarantined = con.execute(f"""
            INSERT INTO audit.quarantine
            SELECT ?, ?, ?, ?, {staged.line_sql}, _raw, _reason, ?
            FROM {checked} WHERE _reason IS NOT NULL{not_dup} ORDER BY rowid""",
                    [load_id, lf.dataset, lf.relpath, sha, loaded_at]).fetchone()[0]
        if staged.rejects:
            con.executemany(
                "INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [[load_id, lf.dataset, lf.relpath, sha, r.line, r.raw_text, r.reason, loaded_at]
                 for r in staged.rejects])
        # Counted independently (records scanned vs rows written) so that the audit's CHECK
        # constraint rows_read = loaded + quarantined + duplicates really guards the load.
        scanned = con.execute(f"SELECT count(*) FROM {checked}").fetchone()[0]
        res = FileResult(lf.relpath, lf.dataset, "loaded", rows_read=scanned + len(staged.rejects),
                         rows_loaded=loaded, rows_quarantined=quarantined + len(staged.rejects),
                         duplicates_collapsed=dups, bytes=size)
        res.message = (f"encoding {staged.encoding}" if staged.encoding else lf.format) + ignored_cols
        _insert_audit(con, lf, run_id, load_id, sha, size, staged.encoding, res, started)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return res


def _insert_audit(con, lf: LandingFile, run_id: str, load_id: str, sha: str, size: int,
                  encoding: str | None, res: FileResult, started: datetime) -> None:
    con.execute(
        "INSERT INTO audit.file_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, run_id, lf.source, lf.dataset, lf.relpath, sha, size, lf.format, encoding,
         res.status, res.rows_read, res.rows_loaded, res.rows_quarantined,
         res.duplicates_collapsed, res.message, started, datetime.now(UTC)])


def _quarantine_file(con, lf: LandingFile, run_id: str, load_id: str, sha: str, size: int,
                     started: datetime, t0: float, reason: str, encoding: str | None) -> FileResult:
    message = f"{lf.relpath}: whole file quarantined: {reason}"
    log.error(message)
    res = FileResult(lf.relpath, lf.dataset, "quarantined", bytes=size, message=reason)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)",
                    [load_id, lf.dataset, lf.relpath, sha, "whole file: " + reason, datetime.now(UTC)])
        _insert_audit(con, lf, run_id, load_id, sha, size, encoding, res, started)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    res.seconds = time.perf_counter() - t0
    return res


def ingest(landing: Path, warehouse: Path, run_id: str = "manual", *, tz: str = DEFAULT_TZ,
           mapping_dirs: list[Path] | None = None, sources: list[str] | None = None,
           progress: Progress | None = None) -> IngestResult:
    """Ingest every export file under ``landing`` (optionally only some source systems)."""
    files, ignored = discover(Path(landing))
    if sources:
        files = [f for f in files if f.source in sources]
    mappings = load_mappings(mapping_dirs)
    result = IngestResult(ignored=ignored)
    progress = progress or Progress(total_files=len(files))
    for item in ignored:
        log.warning("ignored %s: %s", item.relpath, item.reason)
    con = connect(warehouse)
    workdir = Path(tempfile.mkdtemp(prefix="upsell-ingest-", dir=Path(warehouse).parent))
    try:
        ensure_schema(con)
        con.execute(f"ATTACH ':memory:' AS {WORK_DB}")  # shared by the workers' cursors
        # Two files are prepared at once on their own cursors; commits happen here, one
        # transaction per file, in discovery order. One more file than there are workers
        # is in flight, so a worker that finishes starts the next file at once instead of
        # idling until the oldest file is committed; at most three prepared files wait in
        # memory, whatever the number of files.
        with ThreadPoolExecutor(max_workers=PARALLEL_FILES) as pool:
            pending: deque = deque()

            def prepare(n: int, lf: LandingFile) -> Prepared:
                cur = con.cursor()
                try:
                    return prepare_file(cur, lf, n, workdir, mappings, tz)
                finally:
                    cur.close()

            def commit_oldest() -> None:
                prep = pending.popleft().result()
                res = commit_file(con, prep, run_id)
                result.files.append(res)
                progress.end_file(res)

            for n, lf in enumerate(files):
                progress.start_file(lf.relpath, lf.path.stat().st_size)
                pending.append(pool.submit(prepare, n, lf))
                if len(pending) >= IN_FLIGHT:
                    commit_oldest()
            while pending:
                commit_oldest()
    finally:
        con.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return result
