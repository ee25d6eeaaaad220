"""Row-by-row comparison of the tables of two warehouse files (incremental vs full refresh).

An incremental nightly run must leave exactly the marts a ``dbt build --full-refresh`` on the
same raw data gives. This compares every table of the given schemas as multisets of rows
(``EXCEPT ALL`` both ways), without the incremental tables' bookkeeping (``BUILD_COLUMNS``). Floating-point
columns are rounded first: DuckDB sums doubles in parallel, in no fixed order, so the last
bits of a float differ between any two builds, incremental or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}
# bookkeeping of the incremental tables, not data: which run wrote a row (1 for every row
# of a full refresh; see dbt_project/macros/incremental.sql, incremental_batch_no), and what
# the staging table held when it was written (int_email_messages_summarised; see
# dbt_project/macros/email_messages_incremental.sql, email_messages_moved_events)
BUILD_COLUMNS = {"_batch_no", "_events_loaded_watermark", "_events_occurred_watermark"}
FLOAT_DIGITS = 9


@dataclass(frozen=True)
class TableDiff:
    """One table's difference: rows only in ``left`` / only in ``right``, or a missing table."""

    table: str
    only_left: int
    only_right: int
    note: str = ""

    def __str__(self) -> str:
        return f"{self.table}: {self.note or f'{self.only_left} rows only left, {self.only_right} only right'}"


def _tables(con: duckdb.DuckDBPyConnection, db: str, schemas: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name IN (SELECT unnest(?)) "
        "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE database_name = ?) "
        "ORDER BY 1, column_index", [db, list(schemas), db]).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        if column not in BUILD_COLUMNS:
            out.setdefault(table, []).append((column, dtype))
    return out


def _select(db: str, table: str, columns: list[tuple[str, str]]) -> str:
    cols = ", ".join(f'round("{c}", {FLOAT_DIGITS}) AS "{c}"' if t in FLOAT_TYPES else f'"{c}"'
                     for c, t in columns)
    return f"SELECT {cols} FROM {db}.{table}"


def diff_warehouses(left: Path, right: Path, schemas: tuple[str, ...] = ("marts",),
                    tables: tuple[str, ...] = ()) -> list[TableDiff]:
    """Every table of ``schemas`` (plus ``tables``, as schema.name) that differs; [] when equal."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        extra = tuple({t.split(".")[0] for t in tables})
        lt = {k: v for k, v in _tables(con, "l", schemas + extra).items()
              if k.split(".")[0] in schemas or k in tables}
        rt = {k: v for k, v in _tables(con, "r", schemas + extra).items()
              if k.split(".")[0] in schemas or k in tables}
        diffs = [TableDiff(t, 0, 0, "only in left") for t in sorted(lt.keys() - rt.keys())]
        diffs += [TableDiff(t, 0, 0, "only in right") for t in sorted(rt.keys() - lt.keys())]
        for table in sorted(lt.keys() & rt.keys()):
            if lt[table] != rt[table]:
                diffs.append(TableDiff(table, 0, 0, f"columns differ: {lt[table]} vs {rt[table]}"))
                continue
            a, b = _select("l", table, lt[table]), _select("r", table, rt[table])
            only_left = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
            only_right = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
            if only_left or only_right:
                diffs.append(TableDiff(table, only_left, only_right))
        return diffs
    finally:
        con.close()


def table_count(path: Path, schemas: tuple[str, ...] = ("marts",)) -> int:
    """How many tables the schemas hold (so a caller can show the comparison was not empty)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name IN (SELECT unnest(?))",
                           [list(schemas)]).fetchone()[0]
    finally:
        con.close()
