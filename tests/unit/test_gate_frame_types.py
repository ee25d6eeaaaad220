"""The gates fetch DuckDB columns typed so that Great Expectations' pandas checks stay
vectorised (upsell.validate.run._frame), and a range check on such a column still fails
on a bad value."""

import duckdb
import pytest

from upsell.validate import suites
from upsell.validate.run import _frame, _Runner


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute("CREATE TABLE rfm AS SELECT 'A' || i AS account_id, CAST(1 + i % 5 AS INTEGER) AS r_score, "
                "CAST(i % 3 AS SMALLINT) AS small, CAST(i AS UINTEGER) AS unsigned, CAST(i AS DECIMAL(18, 2)) AS amount, "
                "CAST(i AS UBIGINT) AS huge, DATE '2026-01-01' + CAST(i AS INTEGER) AS d FROM range(10) t(i)")
    yield con
    con.close()


def test_narrow_integers_come_as_int64_and_decimals_as_doubles(con):
    df = _frame(con, "SELECT * FROM rfm")
    assert {c: str(df[c].dtype) for c in ("r_score", "small", "unsigned", "amount")} == {
        "r_score": "int64", "small": "int64", "unsigned": "int64", "amount": "float64"}
    assert str(df["huge"].dtype) == "uint64"  # 64-bit: left as it is
    assert str(df["d"].dtype) == "datetime64[ns]"
    assert df["r_score"].tolist() == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]


def test_a_score_out_of_range_still_fails(con, tmp_path):
    con.execute("UPDATE rfm SET r_score = 6 WHERE account_id = 'A9'")
    df = _frame(con, "SELECT account_id, r_score FROM rfm")
    runner = _Runner(tmp_path / "warehouse.duckdb", "test", "marts")
    runner.validate("marts.customer_rfm", df, suites.mart_suite("customer_rfm", list(df.columns), None, 0.5))
    assert len(runner.report.failures) == 1 and "r_score" in runner.report.failures[0]
    assert "(1 unexpected rows)" in runner.report.failures[0]
