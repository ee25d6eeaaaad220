"""Shared fixtures: a real DuckDB warehouse in a temp folder and a landing-folder builder."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest


class Landing:
    """Writes export files into ``<root>/<source>/<name>`` with a chosen encoding."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relpath: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.replace("\n", newline).encode(encoding)
        if relpath.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        path.write_bytes(data)
        return path


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path / "landing")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "warehouse.duckdb"


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
