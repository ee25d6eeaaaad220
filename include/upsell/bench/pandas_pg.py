"""Baseline 2: the pipeline most Airflow projects start with — pandas into PostgreSQL.

For each export file: ``pandas.read_csv`` (``read_json`` / ``read_parquet`` for those
formats; the encoding found the usual way: UTF-8 with BOM, and CP932 when that fails),
rename the headers to the contract's names, coerce each column to its contract type,
then ``DataFrame.to_sql(method="multi")`` through SQLAlchemy into ``raw.<dataset>`` of a
PostgreSQL database; then the same dbt project is built on the Postgres target. It is a
yardstick, not a product: rows it cannot parse are dropped and counted, nothing is
quarantined or audited, re-exports are not skipped by hash, and lineage columns are
filled in the simplest way (the file, the data row's ordinal, one load id per file).

The tables are created first with the project's own Postgres DDL, so the dbt models read
exactly the column names and types they expect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from upsell.contracts import DATASETS, Column
from upsell.discover import LandingFile, discover
from upsell.headers import load_mappings, match_header
from upsell.sqlparse import FALSE_WORDS, TRUE_WORDS

ENCODINGS = ("utf-8-sig", "cp932")
CHUNKSIZE = 1000  # rows per multi-row INSERT statement
OFFSET_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
NUMBER_JUNK = re.compile(r"[¥￥,\s円]")
BOOLS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


@dataclass
class FileLoad:
    """What happened to one file: rows read, rows written, and rows dropped (and why)."""

    relpath: str
    dataset: str
    encoding: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass
class PandasLoad:
    """The whole landing folder's load."""

    files: list[FileLoad] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def rows_dropped(self) -> int:
        return sum(n for f in self.files for n in f.dropped.values())

    def dropped_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            for reason, n in f.dropped.items():
                out[reason] = out.get(reason, 0) + n
        return out


def read_csv_any_encoding(path: Path) -> tuple[pd.DataFrame, str, int]:
    """All cells as text; the first encoding that decodes wins. Returns the frame, the
    encoding and how many malformed lines (wrong field count) pandas skipped."""
    last_error: Exception | None = None
    for encoding in ENCODINGS:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                df = pd.read_csv(path, dtype=str, encoding=encoding, on_bad_lines="warn",
                                 keep_default_na=False, na_values=[""])
            skipped = sum(str(w.message).count("Skipping line") for w in caught)
            return df, encoding, skipped
        except UnicodeDecodeError as exc:
            last_error = exc
    raise ValueError(f"{path}: not {' or '.join(ENCODINGS)}") from last_error


def read_file(lf: LandingFile) -> tuple[pd.DataFrame, str | None, int]:
    """One export as a frame of text cells, by format."""
    if lf.format == "csv":
        return read_csv_any_encoding(lf.path)
    if lf.format == "jsonl":
        return pd.read_json(lf.path, lines=True, dtype=False).astype("string"), "utf-8", 0
    if lf.format == "parquet":
        return pd.read_parquet(lf.path).astype("string"), None, 0
    raise ValueError(f"{lf.relpath}: format {lf.format} is not read by the pandas baseline")


def rename_to_contract(df: pd.DataFrame, dataset: str, mappings: dict) -> pd.DataFrame:
    """Keep the contract's columns, named canonically; absent optional columns are NULL."""
    match = match_header(dataset, [str(c) for c in df.columns], mappings)
    out = pd.DataFrame(index=df.index)
    for col in DATASETS[dataset].columns:
        pos = match.positions.get(col.name)
        out[col.name] = df.iloc[:, pos] if pos is not None else pd.Series(pd.NA, index=df.index, dtype="string")
    return out


def parse_timestamps(text: pd.Series, tz: str) -> pd.Series:
    """UTC instants: text with an offset as given, naive text as business-local time."""
    has_offset = text.str.contains(OFFSET_RE, na=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if has_offset.any():
        out[has_offset] = pd.to_datetime(text[has_offset], utc=True, format="mixed", errors="coerce")
    naive = ~has_offset & text.notna()
    if naive.any():
        local = pd.to_datetime(text[naive], format="mixed", errors="coerce")
        out[naive] = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return out


def coerce(text: pd.Series, col: Column, tz: str) -> pd.Series:
    """A text column as the contract type; unparseable cells become NULL. Values of typed
    columns are NFKC-normalised first: Japanese exports write full-width digits (７２)."""
    text = text.astype("string").str.strip().replace("", pd.NA)
    if col.type not in ("text", "enum"):
        text = text.str.normalize("NFKC")
    if col.type in ("int", "money", "number"):
        number = pd.to_numeric(text.str.replace(NUMBER_JUNK, "", regex=True), errors="coerce")
        return number.round().astype("Int64") if col.type == "int" else number
    if col.type == "date":
        return pd.to_datetime(text, format="mixed", errors="coerce").dt.date
    if col.type == "timestamp":
        return parse_timestamps(text, tz)
    if col.type == "bool":
        return text.str.lower().map(BOOLS).astype("boolean")
    if col.type == "enum":
        return text.where(text.isin(col.values))
    return text


def conform(df: pd.DataFrame, dataset: str, tz: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Typed columns; a row is dropped when a non-empty cell did not parse or a required
    column is empty (the counts per reason are returned)."""
    typed = pd.DataFrame(index=df.index)
    unparsed = pd.Series(False, index=df.index)
    missing = pd.Series(False, index=df.index)
    for col in DATASETS[dataset].columns:
        typed[col.name] = coerce(df[col.name], col, tz)
        empty_in = df[col.name].isna() | (df[col.name].astype("string").str.strip() == "")
        unparsed |= typed[col.name].isna() & ~empty_in
        if col.required:
            missing |= typed[col.name].isna()
    keep = ~(unparsed | missing)
    dropped = {"unparseable value": int(unparsed.sum()), "required value missing": int((missing & ~unparsed).sum())}
    return typed[keep], {k: v for k, v in dropped.items() if v}


def with_lineage(df: pd.DataFrame, lf: LandingFile, load_id: str, loaded_at: dt.datetime) -> pd.DataFrame:
    """The lineage columns the dbt models order versions by, filled simply."""
    return df.assign(_source_file=lf.relpath, _source_line=df.index.to_numpy() + 2,
                     _file_sha256=hashlib.sha256(lf.path.read_bytes()).hexdigest(),
                     _load_id=load_id, _loaded_at=loaded_at)


def load_file(lf: LandingFile, n: int, engine, mappings: dict, tz: str) -> FileLoad:
    """Read, rename, type and ``to_sql`` one file."""
    df, encoding, skipped = read_file(lf)
    record = FileLoad(lf.relpath, lf.dataset, encoding, rows_read=len(df) + skipped)
    typed, dropped = conform(rename_to_contract(df, lf.dataset, mappings), lf.dataset, tz)
    record.dropped = {**({"malformed line": skipped} if skipped else {}), **dropped}
    rows = with_lineage(typed, lf, f"pandas-{n:04d}", dt.datetime.now(dt.UTC))
    rows.to_sql(lf.dataset, engine, schema="raw", if_exists="append", index=False, method="multi",
                chunksize=CHUNKSIZE)
    record.rows_loaded = len(rows)
    return record


def pg_engine(dbname: str):
    """A SQLAlchemy engine (psycopg2) on ``dbname``, the server from libpq's PG* variables."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import URL

    from upsell.target import pg_settings

    s = pg_settings()
    return create_engine(URL.create("postgresql+psycopg2", username=s["user"], host=s["host"], port=int(s["port"]),
                                    database=dbname))


def create_raw_tables(dbname: str) -> None:
    """The raw (and audit) schemas and tables, with the project's Postgres DDL."""
    import psycopg2

    from upsell.pg_load import ensure_pg_schema
    from upsell.target import pg_settings

    con = psycopg2.connect(**{**pg_settings(), "dbname": dbname})
    try:
        ensure_pg_schema(con)
    finally:
        con.close()


def load_landing(landing: Path, dbname: str, mapping_dirs: list[Path] | None = None,
                 tz: str = "Asia/Tokyo") -> PandasLoad:
    """Every export of ``landing`` (xlsx skipped) into ``raw.*`` of ``dbname``."""
    create_raw_tables(dbname)
    mappings = load_mappings(mapping_dirs or [])
    engine = pg_engine(dbname)
    result = PandasLoad()
    try:
        files, _ignored = discover(landing)
        for n, lf in enumerate(f for f in files if f.format != "xlsx"):
            result.files.append(load_file(lf, n, engine, mappings, tz))
    finally:
        engine.dispose()
    return result
