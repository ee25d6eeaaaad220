"""The project's `not_null_columns` data test (dbt_project/tests/generic): one query per
model for all its required columns. Its compiled SQL, as the nightly build ran it, against
tables with known nulls."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest


def _compiled(published_sample: Path) -> str:
    """The SQL the nightly build ran for the accounts model's test (dbt's compiled file)."""
    target = published_sample.parent / "dbt" / "target"
    nodes = json.loads((target / "manifest.json").read_text())["nodes"].values()
    paths = [n["path"] for n in nodes
             if n["resource_type"] == "test" and n.get("test_metadata", {}).get("name") == "not_null_columns"
             and n.get("attached_node") == "model.upsell_warehouse.stg_crm__accounts"]
    assert len(paths) == 1, paths
    found = list((target / "compiled").rglob(paths[0]))
    assert len(found) == 1, found
    return found[0].read_text()


@pytest.fixture
def accounts():
    """An in-memory stand-in for the warehouse's staging.stg_crm__accounts."""
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS warehouse")
    con.execute("CREATE SCHEMA warehouse.staging")
    con.execute("""CREATE TABLE warehouse.staging.stg_crm__accounts (account_id VARCHAR, account_name VARCHAR,
                   industry VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)""")
    yield con
    con.close()


def test_the_nightly_build_ran_one_not_null_test_per_model(published_sample):
    sql = _compiled(published_sample)
    for column in ("account_id", "account_name", "created_at", "updated_at"):
        assert f'"{column}" is null' in sql
    assert '"industry"' not in sql  # optional columns are not checked


def test_nulls_are_counted_per_column(published_sample, accounts):
    accounts.execute("""INSERT INTO warehouse.staging.stg_crm__accounts VALUES
        ('A1', '㈱髙橋', 'IT', '2026-01-01', '2026-01-02'),
        ('A2', NULL, NULL, '2026-01-01', '2026-01-02'),
        ('A3', 'B社', NULL, NULL, NULL),
        ('A4', NULL, 'IT', '2026-01-01', NULL)""")
    cursor = accounts.execute(_compiled(published_sample))
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1
    assert dict(zip(names, rows[0], strict=True)) == {
        "account_id__nulls": 0, "account_name__nulls": 2, "created_at__nulls": 1, "updated_at__nulls": 2}


@pytest.mark.parametrize("rows", [
    "('A1', 'A社', NULL, '2026-01-01', '2026-01-02'), ('A2', 'B社', 'IT', '2026-01-01', '2026-01-02')",
    None,  # an empty model passes too
])
def test_a_model_without_nulls_in_the_listed_columns_passes(published_sample, accounts, rows):
    if rows:
        accounts.execute(f"INSERT INTO warehouse.staging.stg_crm__accounts VALUES {rows}")
    assert accounts.execute(_compiled(published_sample)).fetchall() == []
