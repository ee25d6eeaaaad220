"""upsell.mart_comments on a real in-memory DuckDB: what the serving file's comments say."""

from __future__ import annotations

import json
import logging

import duckdb

from upsell import mart_comments


def _manifest() -> dict:
    def model(name: str, folder: str, description: str, columns: dict) -> dict:
        return {"resource_type": "model", "name": name, "fqn": ["upsell_warehouse", folder, name],
                "description": description, "columns": columns}

    return {"nodes": {
        "model.x.customer_rfm": model("customer_rfm", "marts", "One row per\n  customer.", {
            "customer_id": {"name": "customer_id", "description": "The customer's key (CRM 'account_id')."},
            "rfm_segment": {"name": "rfm_segment", "description": "Segment  name.",
                            "config": {"meta": {"label_ja": "RFMセグメント"}}},
            "gone": {"name": "gone", "description": "A column the table no longer has."},
            "bare": {"name": "bare", "description": ""},
        }),
        "model.x.stg_crm__accounts": model("stg_crm__accounts", "staging", "Not a mart.", {}),
    }}


def _comments(con) -> tuple[dict, dict]:
    tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall())
    columns = {(t, c): x for t, c, x in con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts'").fetchall()}
    return tables, columns


def test_comments_follow_the_manifest_for_the_columns_the_table_has(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(_manifest()), encoding="utf-8")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.customer_rfm (customer_id VARCHAR, rfm_segment VARCHAR, bare INTEGER)")
    con.execute("CREATE TABLE marts.other (x INTEGER)")
    marts = {"customer_rfm": [("customer_id", "VARCHAR"), ("rfm_segment", "VARCHAR"), ("bare", "INTEGER")],
             "other": [("x", "INTEGER")]}
    catalog = con.execute("SELECT current_database()").fetchone()[0]

    assert mart_comments.apply(con, catalog, marts, manifest) == 3

    tables, columns = _comments(con)
    assert tables["customer_rfm"] == "One row per customer."
    assert not tables["other"]
    assert columns[("customer_rfm", "customer_id")] == "The customer's key (CRM 'account_id')."
    assert columns[("customer_rfm", "rfm_segment")] == "RFMセグメント: Segment name."
    assert not columns[("customer_rfm", "bare")]


def test_without_a_manifest_the_marts_are_served_uncommented_with_a_warning(caplog):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.customer_rfm (customer_id VARCHAR)")
    with caplog.at_level(logging.WARNING, logger="upsell.mart_comments"):
        assert mart_comments.apply(con, "memory", {"customer_rfm": [("customer_id", "VARCHAR")]}, None) == 0
    assert "no dbt manifest" in caplog.text
    assert not _comments(con)[0]["customer_rfm"]


def test_the_newer_manifest_is_used(tmp_path, monkeypatch):
    """A warehouse built by `upsell run` and later by the DAG keeps the old run's manifest
    beside it: the newer of it and the pre-built one describes the marts."""
    import os

    from upsell import dag_support

    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    beside = tmp_path / "wh" / "dbt" / "target" / "manifest.json"
    prebuilt = tmp_path / "project" / "manifest.json"
    monkeypatch.setattr(dag_support, "MANIFEST", prebuilt)
    assert mart_comments.manifest_for(warehouse) is None
    for path in (beside, prebuilt):
        path.parent.mkdir(parents=True)
        path.write_text("{}")
    os.utime(beside, (1_000_000, 1_000_000))
    assert mart_comments.manifest_for(warehouse) == prebuilt
    os.utime(prebuilt, (500_000, 500_000))
    assert mart_comments.manifest_for(warehouse) == beside
