"""The marts gate fetches only the columns a mart's suite checks, and still every row
(real DuckDB file, real Great Expectations): a bad value in the last row of a checked column
fails, a table-level suite (row count only) still counts every row, and a column no
expectation reads is never fetched."""

from datetime import date
from pathlib import Path

import great_expectations.expectations as gxe
import pytest

from tests.integration.duckfile import execute
from upsell.validate import suites, validate_marts
from upsell.validate.run import _checked_columns

AS_OF = date(2026, 10, 31)
ROWS = 5000


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("UPSELL_GX_DIR", raising=False)
    path = tmp_path / "warehouse.duckdb"
    execute(path, "CREATE SCHEMA marts", "CREATE SCHEMA audit",
            # a rate column (checked) beside a note (read by no expectation)
            f"CREATE TABLE marts.campaign_performance AS SELECT 'A' || i AS account_id, 0.5 AS open_rate, "
            f"'note ' || i AS note FROM range({ROWS}) AS t(i)",
            # a mart whose suite is table-level only (no column is checked)
            f"CREATE TABLE marts.mrr_movements AS SELECT 'A' || i AS account_id, i AS delta_jpy "
            f"FROM range({ROWS}) AS t(i)",
            "CREATE TABLE audit.publishes (mart VARCHAR, rows BIGINT, published_at TIMESTAMP)",
            f"INSERT INTO audit.publishes VALUES ('campaign_performance', {ROWS}, now()), "
            f"('mrr_movements', {ROWS}, now())")
    return path


def gate(warehouse: Path):
    return validate_marts(warehouse, "gate-columns", AS_OF, render_docs=False)


def test_a_bad_value_in_the_last_row_of_a_checked_column_fails(warehouse):
    assert gate(warehouse).success
    execute(warehouse, f"UPDATE marts.campaign_performance SET open_rate = 1.5 WHERE account_id = 'A{ROWS - 1}'")
    report = gate(warehouse)
    assert any("marts.campaign_performance" in f and "open_rate" in f and "1 unexpected" in f for f in report.failures), \
        report.summary()


def test_a_table_level_suite_still_counts_every_row(warehouse):
    execute(warehouse, f"DELETE FROM marts.mrr_movements WHERE account_id <> 'A{ROWS - 1}'")
    report = gate(warehouse)
    assert any("marts.mrr_movements" in f and "row_count" in f and "observed 1)" in f for f in report.failures), \
        report.summary()


def test_only_the_checked_columns_are_selected():
    rfm = suites.mart_suite("customer_rfm", ["account_id", "r_score", "monetary_jpy", "segment_name"], 10, 0.5,
                            {"monetary_jpy": 100.0})
    assert _checked_columns(rfm) == '"account_id", "monetary_jpy", "r_score"'
    movements = suites.mart_suite("mrr_movements", ["account_id", "month", "delta_jpy"], 10, 0.5)
    assert _checked_columns(movements) == "true AS _row"
    assert _checked_columns([gxe.ExpectColumnValuesToNotBeNull(column="a b")]) == '"a b"'
