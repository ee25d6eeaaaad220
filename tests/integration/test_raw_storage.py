"""How raw rows are stored: ``raw_rows.<dataset>`` plus the ``raw.<dataset>`` view, on real DuckDB.

The per-file lineage (source file, file hash) is stored once per load in
``audit.file_loads`` and joined in by the view; these tests hold the view to the five
lineage columns every reader expects, and a warehouse written by the earlier layout (raw
tables holding all five per row) to a lossless migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from tests.conftest import query
from upsell.contracts import DATASETS
from upsell.ingest import ingest
from upsell.warehouse import AUDIT_DDL, LINEAGE_COLUMNS, connect, ensure_schema

INVOICES = ("invoice_id,line_no,account_id,invoice_date,product_code,quantity,unit_price_jpy,amount_jpy,status,updated_at\n"
            "I1,1,A1,2025-04-01,P1,1,100,100,paid,2025-04-01 10:00\n"
            "I1,2,A1,2025-04-01,P2,2,50,100,paid,2025-04-01 10:00\n"
            "I2,1,A2,2025-04-02,P1,1,100,100,void,2025-04-02 10:00\n")


def _relation_types(warehouse) -> dict[tuple[str, str], str]:
    rows = query(warehouse, "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                            "WHERE table_name = 'invoices'")
    return {(schema, name): kind for schema, name, kind in rows}


def test_raw_is_a_view_with_every_lineage_column_and_rows_store_the_per_row_ones(landing, warehouse):
    landing.write("billing/invoices_20250401.csv", INVOICES)
    ingest(landing.root, warehouse)

    assert _relation_types(warehouse) == {("raw", "invoices"): "VIEW", ("raw_rows", "invoices"): "BASE TABLE"}
    view_columns = [r[0] for r in query(warehouse, "SELECT column_name FROM information_schema.columns WHERE "
                                        "table_schema = 'raw' AND table_name = 'invoices' ORDER BY ordinal_position")]
    assert view_columns == [c.name for c in DATASETS["invoices"].columns] + [n for n, _ in LINEAGE_COLUMNS]
    stored = {r[0] for r in query(warehouse, "SELECT column_name FROM information_schema.columns "
                                             "WHERE table_schema = 'raw_rows' AND table_name = 'invoices'")}
    assert {"_source_line", "_load_id", "_loaded_at"} <= stored
    assert not stored & {"_source_file", "_file_sha256"}

    load = query(warehouse, "SELECT load_id, source_file, file_sha256 FROM audit.file_loads")
    assert len(load) == 1
    load_id, source_file, sha = load[0]
    assert source_file == "billing/invoices_20250401.csv" and len(sha) == 64
    assert query(warehouse, "SELECT invoice_id, line_no, _source_file, _source_line, _file_sha256, _load_id "
                            "FROM raw.invoices ORDER BY _source_line") == [
        ("I1", 1, source_file, 2, sha, load_id),
        ("I1", 2, source_file, 3, sha, load_id),
        ("I2", 1, source_file, 4, sha, load_id)]


def _old_layout(warehouse, rows: list[tuple]) -> None:
    """A warehouse as the earlier code wrote it: raw.invoices a table with all five lineage columns."""
    spec = DATASETS["invoices"]
    con = duckdb.connect(str(warehouse))
    try:
        for ddl in AUDIT_DDL:
            con.execute(ddl)
        cols = [f'"{c.name}" {c.sql_type}' for c in spec.columns] + [f"{n} {t}" for n, t in LINEAGE_COLUMNS]
        con.execute(f"CREATE TABLE raw.invoices ({', '.join(cols)})")
        con.executemany(f"INSERT INTO raw.invoices VALUES ({', '.join('?' * len(cols))})", rows)
        con.execute("INSERT INTO audit.file_loads VALUES ('invoices-old', 'r0', 'billing', 'invoices', "
                    "'billing/old.csv', ?, 10, 'csv', 'utf-8', 'loaded', 2, 2, 0, 0, '', ?, ?)",
                    ["a" * 64, datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)])
    finally:
        con.close()


def test_a_warehouse_of_the_earlier_layout_is_migrated_without_losing_a_row(landing, warehouse):
    warehouse.parent.mkdir(parents=True)
    loaded_at = datetime(2025, 4, 1, 1, 0, tzinfo=UTC)
    data = [("I0", 1, "A1", datetime(2025, 3, 31).date(), "P1", 1, 100, 100, "paid", loaded_at),
            ("I0", 2, "A1", datetime(2025, 3, 31).date(), "P2", 3, 10, 30, "open", loaded_at)]
    lineage = [("billing/old.csv", 2, "a" * 64, "invoices-old", loaded_at),
               ("billing/old.csv", 3, "a" * 64, "invoices-old", loaded_at)]
    _old_layout(warehouse, [d + ln for d, ln in zip(data, lineage, strict=True)])
    before = query(warehouse, "SELECT * FROM raw.invoices ORDER BY _source_line")

    con = connect(warehouse)
    try:
        ensure_schema(con)
        ensure_schema(con)  # idempotent: the second call finds the view and moves nothing
    finally:
        con.close()

    assert _relation_types(warehouse) == {("raw", "invoices"): "VIEW", ("raw_rows", "invoices"): "BASE TABLE"}
    assert query(warehouse, "SELECT * FROM raw.invoices ORDER BY _source_line") == before
    assert query(warehouse, "SELECT count(*) FROM raw_rows.invoices") == [(2,)]

    # and the migrated warehouse takes the next night's file as a new one does
    landing.write("billing/invoices_20250401.csv", INVOICES)
    ingest(landing.root, warehouse)
    assert query(warehouse, "SELECT _source_file, count(*) FROM raw.invoices GROUP BY 1 ORDER BY 1") == [
        ("billing/invoices_20250401.csv", 3), ("billing/old.csv", 2)]
