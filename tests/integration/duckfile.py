"""Statements against a warehouse file, for tests that corrupt a copy of it on purpose."""

from __future__ import annotations

from pathlib import Path

import duckdb


def execute(warehouse: Path, *statements: str) -> None:
    """Run the statements in order on the file, then close it (dbt opens it next)."""
    con = duckdb.connect(str(warehouse))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
