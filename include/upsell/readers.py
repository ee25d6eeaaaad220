"""Describe one export file as a relation of text columns, whatever its format.

Every format ends in the same shape, so typing and validation (``ingest``) are written
once: a relation (``Staged.source``) with the file's columns ``s0 … sN`` as VARCHAR, in
file order. CSV is read by DuckDB straight from the file in the same query that types it
(one pass over millions of rows); the small formats (JSON lines, Parquet, xlsx) are first
put in a temp table ``_stage`` that also carries ``_line`` and ``_pre_error`` (a
format-level problem such as a line that is not JSON).

Line numbers are the line a person finds the record on: header = line 1, and a quoted
field with line breaks does not advance the count (a spreadsheet's row number, and the
``line`` DuckDB reports for rejected CSV rows). Records DuckDB's CSV reader rejects (wrong
column count, unterminated quote, invalid UTF-8) come back as ``Reject`` rows.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from upsell.discover import LandingFile
from upsell.encoding import sniff, transcode_to_utf8
from upsell.headers import HeaderMatch, match_header
from upsell.sqlparse import lit


class FileError(ValueError):
    """The file as a whole cannot be read; it is quarantined whole with this message."""


@dataclass
class Reject:
    line: int | None
    raw_text: str | None
    reason: str


@dataclass
class Staged:
    header: list[str]
    match: HeaderMatch
    encoding: str | None
    source: str  # FROM-clause: read_csv(...) or _stage
    raw_sql: str  # SQL over the source giving the record's original text
    line_sql: str = "_line"  # SQL over _checked: the record's line (see ``finish``)
    pre_error_sql: str = "_pre_error"  # SQL over the source: a format-level problem
    carry: tuple[str, ...] = ("_line",)  # source columns kept in _checked
    rejects: list[Reject] = field(default_factory=list)
    rejects_tables: tuple[str, str] | None = None

    def column_ref(self, canonical: str) -> str | None:
        pos = self.match.positions.get(canonical)
        return None if pos is None else f"s{pos}"

    def finish(self, con) -> None:
        """After the source was scanned: collect DuckDB's CSV rejects and fix line numbers."""
        if not self.rejects_tables:
            return
        scan, errors = self.rejects_tables
        self.rejects = [
            Reject(int(line), raw, reason)
            for line, raw, reason in con.execute(f"""
                SELECT line, trim(any_value(csv_line ORDER BY column_idx), chr(10) || chr(13)),
                       string_agg(DISTINCT error_type || ': ' || error_message, '; ')
                FROM {errors} GROUP BY line ORDER BY line""").fetchall()
        ]
        con.execute(f"DROP TABLE IF EXISTS {scan}")
        con.execute(f"DROP TABLE IF EXISTS {errors}")
        # _checked keeps file order, so its rowid k is the k-th accepted record. Its record
        # number skips the rejected ones: k + 1 + #{rejects j (1-based, sorted): r_j - j <= k},
        # r_j = line_j - 1; the header is line 1.
        if self.rejects:
            thresholds = ", ".join(str(r.line - 1 - j) for j, r in enumerate(self.rejects, start=1))
            self.line_sql = f"rowid + 2 + len(list_filter([{thresholds}], lambda t: t <= rowid))"


def _csv_quote_sql(ref: str) -> str:
    return (f"CASE WHEN {ref} IS NULL THEN '' "
            f"WHEN regexp_matches({ref}, '[,\"\\r\\n]') THEN '\"' || replace({ref}, '\"', '\"\"') || '\"' "
            f"ELSE {ref} END")


def _first_record(text_sample: str) -> list[str]:
    reader = csv.reader(io.StringIO(text_sample, newline=""))
    try:
        return next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise FileError(f"header cannot be parsed as CSV: {exc}") from exc


def stage(con, lf: LandingFile, workdir: Path, mappings: dict) -> Staged:
    """Create ``_stage`` for ``lf`` and return what is known about it."""
    con.execute("DROP TABLE IF EXISTS _stage")
    if lf.path.stat().st_size == 0:
        raise FileError("empty file (0 bytes)")
    if lf.format == "csv":
        return _stage_csv(con, lf, workdir, mappings)
    if lf.format == "jsonl":
        try:
            return _stage_jsonl(con, lf, workdir, mappings)
        except (EOFError, zlib.error) as exc:
            raise FileError(f"truncated or corrupt gzip: {exc}") from exc
    if lf.format == "parquet":
        return _stage_parquet(con, lf, mappings)
    if lf.format == "xlsx":
        return _stage_xlsx(con, lf, mappings)
    raise FileError(f"unsupported format {lf.format}")


def _utf8_path(lf: LandingFile, workdir: Path, encoding: str, force_plain: bool = False) -> Path:
    """The path DuckDB should read: the file itself, or a UTF-8 copy of a CP932 file."""
    if encoding == "cp932" or (force_plain and lf.compressed):
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / (lf.path.name + ".utf8")
        transcode_to_utf8(lf.path, lf.compressed, encoding, out)
        return out
    return lf.path


def _stage_csv(con, lf: LandingFile, workdir: Path, mappings: dict) -> Staged:
    try:
        encoding, sample = sniff(lf.path, lf.compressed)
    except (EOFError, OSError, zlib.error) as exc:
        raise FileError(f"cannot decompress: {exc} (truncated or corrupt gzip?)") from exc
    text = sample.decode(encoding, errors="ignore")
    if not text.strip():
        raise FileError("empty file (no header, no rows)")
    header = _first_record(text)
    match = match_header(lf.dataset, header, mappings)
    path = _utf8_path(lf, workdir, encoding)
    compressed = lf.compressed and path == lf.path
    columns = "{" + ", ".join(f"'s{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    scan, errors = "_rej_scan", "_rej_errors"
    con.execute(f"DROP TABLE IF EXISTS {scan}")
    con.execute(f"DROP TABLE IF EXISTS {errors}")
    source = (f"read_csv({lit(str(path))}, auto_detect = false, header = true, "
              f"delim = ',', quote = '\"', escape = '\"', columns = {columns}, "
              f"compression = {lit('gzip' if compressed else 'none')}, encoding = 'utf-8', "
              f"max_line_size = 4194304, "
              f"store_rejects = true, rejects_scan = {lit(scan)}, rejects_table = {lit(errors)})")
    raw_sql = " || ',' || ".join(_csv_quote_sql(f"s{i}") for i in range(len(header)))
    return Staged(header, match, encoding, source, raw_sql, line_sql="rowid + 2",
                  pre_error_sql="NULL", carry=(), rejects_tables=(scan, errors))


def _stage_jsonl(con, lf: LandingFile, workdir: Path, mappings: dict) -> Staged:
    try:
        encoding, sample = sniff(lf.path, lf.compressed)
    except (EOFError, OSError, zlib.error) as exc:
        raise FileError(f"cannot decompress: {exc} (truncated or corrupt gzip?)") from exc
    keys: dict[str, None] = {}
    for line in sample.decode(encoding, errors="ignore").splitlines()[:1000]:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            keys.update(dict.fromkeys(obj))
    if not keys:
        raise FileError("no JSON object found in the first lines")
    header = list(keys)
    match = match_header(lf.dataset, header, mappings)
    path = _utf8_path(lf, workdir, encoding, force_plain=True)
    extracts = ", ".join(
        f"CASE WHEN _ok THEN json_extract_string(_j, {lit('$.' + json.dumps(k))}) END AS s{i}"
        for i, k in enumerate(header))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _stage AS
        WITH lines AS (
            SELECT generate_subscripts(_lines, 1) AS _line, unnest(_lines) AS _text
            FROM (SELECT string_split(content, chr(10)) AS _lines FROM read_text({lit(str(path))}))
        ), parsed AS (
            SELECT _line, rtrim(_text, chr(13)) AS _j FROM lines WHERE trim(_text) <> ''
        ), checked AS (
            SELECT _line, _j,
                   CASE WHEN json_valid(_j) THEN json_type(_j) = 'OBJECT' ELSE false END AS _ok
            FROM parsed
        )
        SELECT row_number() OVER (ORDER BY _line) - 1 AS _rec, _line,
               CASE WHEN NOT _ok THEN 'not a JSON object: ' || left(_j, 200) END AS _pre_error,
               _j, {extracts}
        FROM checked ORDER BY _line
    """)
    return Staged(header, match, encoding, "_stage", "_j")


def _stage_parquet(con, lf: LandingFile, mappings: dict) -> Staged:
    try:
        header = [r[0] for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({lit(str(lf.path))})").fetchall()]
    except Exception as exc:  # duckdb raises several error classes for broken files
        raise FileError(f"not a readable Parquet file: {exc}") from exc
    match = match_header(lf.dataset, header, mappings)
    cols = ", ".join(f'CAST("{h}" AS VARCHAR) AS s{i}' for i, h in enumerate(header))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _stage AS
        SELECT file_row_number AS _rec, file_row_number + 1 AS _line, NULL::VARCHAR AS _pre_error, {cols}
        FROM read_parquet({lit(str(lf.path))}, file_row_number = true) ORDER BY file_row_number""")
    raw_sql = "to_json(struct_pack(" + ", ".join(
        f'"{h}" := s{i}' for i, h in enumerate(header)) + "))::VARCHAR"
    return Staged(header, match, None, "_stage", raw_sql)


def _stage_xlsx(con, lf: LandingFile, mappings: dict) -> Staged:
    """First sheet of a workbook; the marketing plan is often kept in Excel."""
    import datetime as dt

    import openpyxl
    import pyarrow as pa

    try:
        wb = openpyxl.load_workbook(lf.path, read_only=True, data_only=True)
    except Exception as exc:
        raise FileError(f"not a readable .xlsx workbook: {exc}") from exc
    rows = wb.worksheets[0].iter_rows(values_only=True)
    header = ["" if v is None else str(v) for v in next(rows, ())]
    if not any(header):
        raise FileError("empty workbook (no header row)")
    match = match_header(lf.dataset, header, mappings)

    def text(v: object) -> str | None:
        if v is None:
            return None
        if isinstance(v, dt.datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    data: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    for excel_row, values in enumerate(rows, start=2):
        values = list(values) + [None] * (len(header) - len(values))
        if all(v is None for v in values):
            continue
        lines.append(excel_row)
        for i in range(len(header)):
            data[i].append(text(values[i]))
    wb.close()
    table = pa.table({"_line": pa.array(lines, pa.int64()),
                      **{f"s{i}": pa.array(col, pa.string()) for i, col in enumerate(data)}})
    con.register("_xlsx", table)
    cols = ", ".join(f"s{i}" for i in range(len(header)))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _stage AS SELECT row_number() OVER (ORDER BY _line) - 1 AS _rec,
        _line, NULL::VARCHAR AS _pre_error, {cols} FROM _xlsx ORDER BY _line""")
    con.unregister("_xlsx")
    raw_sql = " || ',' || ".join(_csv_quote_sql(f"s{i}") for i in range(len(header)))
    return Staged(header, match, None, "_stage", raw_sql)
