"""Publish starts the new serving file from the served one and writes again only the
history snapshots that changed: whatever the warehouse's marts went through between two
publishes (a new night, a backfill of an earlier date, a mart's columns changed, a mart
dropped), the served DuckDB file and Parquet files equal the warehouse's marts, row for row
(real DuckDB files). A history mart's Parquet is a folder of one file per snapshot, and the
snapshots a night did not change are links to the previous version's files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from upsell.publish import PARQUET_DIR, SERVING_FILE, parquet_glob, parquet_path, publish

D1, D2, D3 = date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31)
HISTORY = "upsell_propensity_history"


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    sql(path, "CREATE SCHEMA marts", "CREATE SCHEMA audit",
        "CREATE TABLE marts.customer_rfm (account_id VARCHAR, as_of_date DATE, monetary_jpy DECIMAL(18, 2))",
        f"CREATE TABLE marts.{HISTORY} (account_id VARCHAR, as_of_date DATE, score DOUBLE)",
        "CREATE TABLE marts.cross_sell_affinity (antecedent VARCHAR, consequent VARCHAR, lift DOUBLE)",
        "INSERT INTO marts.cross_sell_affinity VALUES ('P1', 'P2', 1.5)")
    night(path, D1, accounts=30)
    night(path, D2, accounts=32)
    return path


def sql(path: Path, *statements: str) -> list:
    con = duckdb.connect(str(path))
    try:
        out = []
        for statement in statements:
            out = con.execute(statement).fetchall()
        return out
    finally:
        con.close()


def night(path: Path, as_of: date, accounts: int, score: str = "i % 100") -> None:
    """What a night's build writes: customer_rfm replaced, the history's as-of date replaced."""
    sql(path, f"CREATE OR REPLACE TABLE marts.customer_rfm AS SELECT 'A' || i AS account_id, DATE '{as_of}' "
              f"AS as_of_date, CAST(i * 1000 AS DECIMAL(18, 2)) AS monetary_jpy FROM range({accounts}) AS t(i)",
        f"DELETE FROM marts.{HISTORY} WHERE as_of_date = DATE '{as_of}'",
        f"INSERT INTO marts.{HISTORY} SELECT 'A' || i, DATE '{as_of}', {score} FROM range({accounts}) AS t(i)")


def assert_served_equals_warehouse(warehouse: Path, as_of: date) -> None:
    serving = warehouse.parent / "serving"
    result = publish(warehouse, f"run-{as_of}", as_of, serving)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        con.execute(f"ATTACH '{serving / SERVING_FILE}' AS served (READ_ONLY)")
        marts = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = "
                                           "'wh' AND table_schema = 'marts' ORDER BY 1").fetchall()]
        served = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = "
                                            "'served' AND table_schema = 'marts' AND table_name <> '_publish' "
                                            "ORDER BY 1").fetchall()]
        assert served == marts
        for mart in marts:
            parquet = f"read_parquet('{result.parquet_dir / parquet_glob(mart)}')"
            for copy in (f"served.marts.{mart}", parquet):
                for a, b in ((f"wh.marts.{mart}", copy), (copy, f"wh.marts.{mart}")):
                    assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"
                                       ).fetchone()[0] == 0, (mart, a, b)
            assert [d[0] for d in con.execute(f"DESCRIBE served.marts.{mart}").fetchall()] == \
                [d[0] for d in con.execute(f"DESCRIBE wh.marts.{mart}").fetchall()]
            assert result.rows[mart] == con.execute(f"SELECT count(*) FROM wh.marts.{mart}").fetchone()[0]
        assert con.execute("SELECT as_of_date FROM served.marts._publish").fetchall() == [(as_of,)]
    finally:
        con.close()


def test_nights_backfills_and_schema_changes_are_all_served_exactly(warehouse):
    assert_served_equals_warehouse(warehouse, D2)  # first publish: no served file yet
    night(warehouse, D3, accounts=33)
    assert_served_equals_warehouse(warehouse, D3)  # a new night: one more snapshot
    night(warehouse, D2, accounts=31)
    assert_served_equals_warehouse(warehouse, D2)  # backfill of an earlier date, fewer accounts
    night(warehouse, D1, accounts=30, score="(i * 7) % 100")
    assert_served_equals_warehouse(warehouse, D1)  # backfill with the same count, other scores
    sql(warehouse, f"DELETE FROM marts.{HISTORY} WHERE as_of_date = DATE '{D2}'")
    assert_served_equals_warehouse(warehouse, D3)  # a snapshot gone from the warehouse
    sql(warehouse, f"ALTER TABLE marts.{HISTORY} ADD COLUMN is_excluded BOOLEAN",
        f"UPDATE marts.{HISTORY} SET is_excluded = score > 50")
    assert_served_equals_warehouse(warehouse, D3)  # the history's columns changed
    sql(warehouse, "DROP TABLE marts.cross_sell_affinity")
    assert_served_equals_warehouse(warehouse, D3)  # a mart no longer built


def test_the_serving_file_does_not_grow_with_republished_marts(warehouse):
    serving = warehouse.parent / "serving" / SERVING_FILE
    sql(warehouse, "CREATE OR REPLACE TABLE marts.cross_sell_affinity AS SELECT 'P' || i AS antecedent, "
                   "'Q' || i AS consequent, i / 7 AS lift FROM range(300000) AS t(i)")
    sizes = []
    for _ in range(6):
        publish(warehouse, "again", D2, serving.parent)
        sizes.append(serving.stat().st_size)
    # blocks freed by replacing a mart are reused by the next night's copy of it
    assert sizes[-1] <= sizes[1] * 1.5, sizes


def snapshot_files(warehouse: Path) -> dict[str, tuple[int, int]]:
    """The served history folder: file name -> (inode, row count)."""
    folder = warehouse.parent / "serving" / PARQUET_DIR / "current" / parquet_path(HISTORY)
    con = duckdb.connect()
    try:
        return {f.name: (f.stat().st_ino, con.execute(f"SELECT count(*) FROM read_parquet('{f}')").fetchone()[0])
                for f in sorted(folder.iterdir())}
    finally:
        con.close()


def test_a_night_writes_only_its_own_snapshot_file(warehouse):
    publish(warehouse, "night-2", D2, warehouse.parent / "serving")
    before = snapshot_files(warehouse)
    assert sorted(before) == [f"{D1}.parquet", f"{D2}.parquet"]
    night(warehouse, D3, accounts=33)
    publish(warehouse, "night-3", D3, warehouse.parent / "serving")
    after = snapshot_files(warehouse)
    assert sorted(after) == [f"{D1}.parquet", f"{D2}.parquet", f"{D3}.parquet"]
    # the unchanged snapshots are the previous version's files (one inode), the night's is new
    assert after[f"{D1}.parquet"] == before[f"{D1}.parquet"]
    assert after[f"{D2}.parquet"] == before[f"{D2}.parquet"]
    assert after[f"{D3}.parquet"][1] == 33


def test_a_previous_file_that_disagrees_with_the_served_one_is_written_again(warehouse):
    """A publish stopped between its two switches serves a DuckDB file newer than the Parquet
    version: a snapshot whose row count differs there is written, not linked."""
    serving = warehouse.parent / "serving"
    publish(warehouse, "night-2", D2, serving)
    stale = serving / PARQUET_DIR / "current" / parquet_path(HISTORY) / f"{D1}.parquet"
    stale.unlink()  # the previous version's D1 file replaced by one of another night's size
    sql(warehouse.parent / "other.duckdb", f"COPY (SELECT 'A' || i AS account_id, DATE '{D1}' AS as_of_date, "
                                           f"0.5 AS score FROM range(7) AS t(i)) TO '{stale}' (FORMAT parquet)")
    night(warehouse, D3, accounts=33)
    assert_served_equals_warehouse(warehouse, D3)
    assert snapshot_files(warehouse)[f"{D1}.parquet"][1] == 30


def test_a_previous_folder_with_other_columns_is_written_again(warehouse):
    """The served file has the new columns but the Parquet version before it the old ones (a
    publish stopped between its switches): no old-schema file is linked into the new folder."""
    serving = warehouse.parent / "serving"
    publish(warehouse, "night-2", D2, serving)
    folder = serving / PARQUET_DIR / "current" / parquet_path(HISTORY)
    sql(warehouse, f"ALTER TABLE marts.{HISTORY} ADD COLUMN is_excluded BOOLEAN",
        f"UPDATE marts.{HISTORY} SET is_excluded = score > 50")
    previous = folder.resolve()
    publish(warehouse, "night-2-again", D2, serving)  # serves the new columns
    (serving / PARQUET_DIR / "current").unlink()  # ... but BI still saw the old version
    (serving / PARQUET_DIR / "current").symlink_to(previous.parent.relative_to(serving / PARQUET_DIR))
    sql(warehouse, f"INSERT INTO marts.{HISTORY} SELECT 'A' || i, DATE '{D3}', i % 100, i % 100 > 50 "
                   "FROM range(33) AS t(i)")
    assert_served_equals_warehouse(warehouse, D3)
