"""The marts gate on a history mart (one snapshot per as-of date): it validates the snapshot
of the night, held to the row count of the snapshot before it, and does not read the rest of
the history again, whose size grows every night (real DuckDB file, real Great Expectations).
"""

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from upsell.validate import validate_marts

AS_OF = date(2026, 10, 31)
ACCOUNTS = 40


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("UPSELL_GX_DIR", raising=False)
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.upsell_propensity_history "
                "(account_id VARCHAR, as_of_date DATE, score DECIMAL(5, 2))")
    for back in range(3, 0, -1):  # three earlier nights
        snapshot(con, AS_OF - timedelta(days=back), ACCOUNTS)
    con.close()
    return path


def snapshot(con, as_of: date, accounts: int, score: str = "50") -> None:
    con.execute(f"INSERT INTO marts.upsell_propensity_history "
                f"SELECT 'A' || i, ?::DATE, {score} FROM range(?) AS t(i)", [as_of, accounts])


def gate(warehouse: Path, as_of: date = AS_OF):
    return validate_marts(warehouse, f"gate-{as_of}", as_of, render_docs=False)


def write(warehouse: Path, sql: str, params: list | None = None) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(sql, params or [])
    finally:
        con.close()


def test_a_bad_value_in_the_nights_snapshot_fails_the_gate(warehouse):
    con = duckdb.connect(str(warehouse))
    snapshot(con, AS_OF, ACCOUNTS)
    con.execute("UPDATE marts.upsell_propensity_history SET score = 140 WHERE as_of_date = ? AND account_id = 'A7'",
                [AS_OF])
    con.close()
    report = gate(warehouse)
    assert not report.success
    assert any("marts.upsell_propensity_history" in f and "score" in f for f in report.failures), report.summary()


def test_earlier_snapshots_are_not_validated_again(warehouse):
    # an earlier night's row out of range (as if the bound had changed since): validated by
    # that night, not by every later one
    write(warehouse, "UPDATE marts.upsell_propensity_history SET score = 140 WHERE as_of_date = ?",
          [AS_OF - timedelta(days=2)])
    write(warehouse, f"INSERT INTO marts.upsell_propensity_history "
                     f"SELECT 'A' || i, ?::DATE, 50 FROM range({ACCOUNTS}) AS t(i)", [AS_OF])
    report = gate(warehouse)
    assert report.success, report.summary()


def test_the_snapshot_is_held_to_the_one_before_it(warehouse):
    con = duckdb.connect(str(warehouse))
    snapshot(con, AS_OF, ACCOUNTS // 4)  # a quarter of last night's accounts
    con.close()
    report = gate(warehouse)
    assert any("marts.upsell_propensity_history" in f and "row_count" in f for f in report.failures), \
        report.summary()


def test_a_rerun_of_an_older_date_validates_that_date(warehouse):
    # the history holds AS_OF already; re-running AS_OF - 1 day rewrote that date with a bad row
    write(warehouse, f"INSERT INTO marts.upsell_propensity_history "
                     f"SELECT 'A' || i, ?::DATE, 50 FROM range({ACCOUNTS}) AS t(i)", [AS_OF])
    write(warehouse, "UPDATE marts.upsell_propensity_history SET score = -1 WHERE as_of_date = ? AND account_id = 'A3'",
          [AS_OF - timedelta(days=1)])
    assert gate(warehouse).success is True  # AS_OF's own snapshot is fine
    report = gate(warehouse, AS_OF - timedelta(days=1))
    assert any("score" in f for f in report.failures), report.summary()
