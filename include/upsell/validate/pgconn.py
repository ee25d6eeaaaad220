"""Read-only queries on the Postgres warehouse in the shape validation uses for DuckDB.

``validate_marts`` runs a handful of queries with ``?`` placeholders and reads results with
``fetchone()``, ``fetchall()`` and ``df()`` (DuckDB's cursor API). This adapter gives a
psycopg2 connection that API, so the same validation code and the same Great Expectations
suites check the marts whichever warehouse built them.
"""

from __future__ import annotations


class PgResult:
    def __init__(self, cur) -> None:
        self.cur = cur

    def fetchone(self):
        return self.cur.fetchone()

    def fetchall(self) -> list[tuple]:
        return self.cur.fetchall()

    def df(self):
        """A DataFrame like DuckDB's: NULLs of numeric columns become NaN (coerce_float)."""
        import pandas as pd

        columns = [d[0] for d in self.cur.description]
        return pd.DataFrame.from_records(self.cur.fetchall(), columns=columns, coerce_float=True)


class PgQueries:
    """``execute(sql, params)`` with DuckDB's ``?`` placeholders, on a psycopg2 connection."""

    def __init__(self, pg) -> None:
        self.pg = pg

    def execute(self, sql: str, params=None) -> PgResult:
        cur = self.pg.cursor()
        # the validation queries contain no literal '?' or '%' besides their parameters
        cur.execute(sql.replace("?", "%s"), list(params or []))
        return PgResult(cur)

    def close(self) -> None:
        self.pg.rollback()  # read-only: end the implicit transaction
        self.pg.close()
