"""The key tests of the incremental tables check what the last run wrote (`_batch_no`,
macros/incremental.sql; `where: ... __latest_batch__`, macros/tests_where.sql): a duplicate
of a key the last run wrote, or a null in its rows, fails them; a duplicate among rows an
earlier run wrote and tested does not, unless var key_tests_latest_batch_only is false.
The same for the tables incremental by account: the month-ends' key test reads the rows
sharing an account and a month with the last run's, the CPM runs' tests the accounts whose
runs it wrote. Real dbt on a copy of the published sample's warehouse (built once: every
row is batch 1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.integration.duckfile import execute
from upsell.transform import AS_OF_ENV, PROJECT_DIR, dbt_work_dir, run_dbt

AS_OF = "2026-10-31"
EVENTS = "staging.stg_email__email_events"


@pytest.fixture
def warehouse(published_sample, tmp_path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(published_sample.parent / "warehouse.duckdb", copy)
    return copy


def key_tests(warehouse: Path, tmp: Path, whole_table: bool = False) -> dict[str, str]:
    """Status of each key test of the email events: test name -> pass / fail."""
    results = dbt_test(warehouse, tmp, "stg_email__email_events,test_name:unique "
                       "stg_email__email_events,test_name:not_null_columns", whole_table)
    assert len(results) == 2
    return {name.split("_stg_")[0]: status for name, status in results.items()}


def dbt_test(warehouse: Path, tmp: Path, select: str, whole_table: bool = False) -> dict[str, str]:
    """``dbt test --select <select>``: test name -> pass / fail."""
    env = {**os.environ, "UPSELL_WAREHOUSE": str(warehouse), "UPSELL_EMAIL_SALT": "test-salt", AS_OF_ENV: AS_OF}
    cmd = [str(Path(sys.executable).with_name("dbt")), "test", "--project-dir", str(PROJECT_DIR),
           "--profiles-dir", str(PROJECT_DIR), "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
           "--select", *select.split()]
    if whole_table:
        cmd += ["--vars", json.dumps({"key_tests_latest_batch_only": False})]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    assert results, proc.stdout[-3000:]
    return {r["unique_id"].split(".")[2]: r["status"] for r in results}


def write_batch_2(warehouse: Path, *extra: str) -> None:
    """A later run's rows: one new event (batch 2), plus whatever ``extra`` does."""
    execute(warehouse, f"INSERT INTO {EVENTS} SELECT * REPLACE ('E-new' AS event_id, 2 AS _batch_no) "
                       f"FROM {EVENTS} LIMIT 1", *extra)


def test_every_row_of_a_first_build_is_tested(warehouse, tmp_path):
    execute(warehouse, f"INSERT INTO {EVENTS} SELECT * FROM {EVENTS} LIMIT 1",
            f"UPDATE {EVENTS} SET campaign_id = NULL WHERE event_id = (SELECT max(event_id) FROM {EVENTS})")
    assert key_tests(warehouse, tmp_path) == {"unique": "fail", "not_null_columns": "fail"}


def test_a_duplicate_of_a_key_the_last_run_wrote_fails(warehouse, tmp_path):
    # the last run wrote a row whose id an earlier run's row already has
    write_batch_2(warehouse, f"INSERT INTO {EVENTS} SELECT * REPLACE (2 AS _batch_no) FROM {EVENTS} "
                             f"WHERE _batch_no = 1 LIMIT 1")
    assert key_tests(warehouse, tmp_path)["unique"] == "fail"


def test_a_null_in_the_last_runs_rows_fails(warehouse, tmp_path):
    write_batch_2(warehouse, f"UPDATE {EVENTS} SET occurred_at = NULL WHERE event_id = 'E-new'")
    assert key_tests(warehouse, tmp_path) == {"unique": "pass", "not_null_columns": "fail"}


def test_earlier_runs_rows_are_not_tested_again_unless_asked(warehouse, tmp_path):
    # a duplicate and a null among the rows of batch 1, which its own run tested
    write_batch_2(warehouse, f"INSERT INTO {EVENTS} SELECT * FROM {EVENTS} WHERE _batch_no = 1 LIMIT 1",
                  f"UPDATE {EVENTS} SET message_id = NULL WHERE event_id = (SELECT min(event_id) FROM {EVENTS} WHERE _batch_no = 1)")
    assert key_tests(warehouse, tmp_path) == {"unique": "pass", "not_null_columns": "pass"}
    assert key_tests(warehouse, tmp_path / "whole", whole_table=True) == {"unique": "fail", "not_null_columns": "fail"}


MONTH_ENDS = "intermediate.int_account_mrr_month_ends"
RUNS = "intermediate.int_cpm_segment_runs"


def month_ends_unique(warehouse: Path, tmp: Path, whole_table: bool = False) -> str:
    results = dbt_test(warehouse, tmp, "int_account_mrr_month_ends,test_name:unique_combination", whole_table)
    assert len(results) == 1
    return next(iter(results.values()))


def test_month_ends_key_tests_check_the_keys_the_last_run_wrote(warehouse, tmp_path):
    """The month-ends' key test reads the rows sharing an account and a month with the last
    run's: a duplicate of such a key fails it; one among rows only earlier runs wrote does not."""
    con = duckdb.connect(str(warehouse), read_only=True)
    (duplicated, _), (other, other_month) = con.execute(
        f"SELECT account_id, max(month_start) FROM {MONTH_ENDS} WHERE month_start > DATE '2024-03-01' "
        f"AND account_id IN (SELECT account_id FROM {MONTH_ENDS} WHERE month_start = DATE '2024-03-01') "
        "GROUP BY 1 ORDER BY 1 LIMIT 2").fetchall()
    con.close()
    key = f"account_id = '{duplicated}' AND month_start = DATE '2024-03-01'"
    # batch 2 wrote a second row for a key of batch 1
    execute(warehouse, f"INSERT INTO {MONTH_ENDS} SELECT * REPLACE (2 AS _batch_no) FROM {MONTH_ENDS} WHERE {key}")
    assert month_ends_unique(warehouse, tmp_path / "a") == "fail"
    # the same duplicate, both rows of batch 1, and batch 2 another account's latest month
    execute(warehouse, f"UPDATE {MONTH_ENDS} SET _batch_no = 1 WHERE {key}",
            f"UPDATE {MONTH_ENDS} SET _batch_no = 2 WHERE account_id = '{other}' AND month_start = DATE '{other_month}'")
    assert month_ends_unique(warehouse, tmp_path / "b") == "pass"
    assert month_ends_unique(warehouse, tmp_path / "c", whole_table=True) == "fail"


def test_cpm_runs_tests_check_the_accounts_the_last_run_wrote(warehouse, tmp_path):
    """The CPM runs' tests (a run's key, the month-ends tiled without gaps) read the accounts
    whose runs the last build wrote."""
    select = "int_cpm_segment_runs,test_name:unique_combination cpm_segment_runs_tile_month_ends"
    con = duckdb.connect(str(warehouse), read_only=True)
    first, second = (a for (a,) in con.execute(
        f"SELECT account_id FROM {RUNS} GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 2").fetchall())
    con.close()
    # batch 2 rewrote the first account's runs, with a gap before its last run
    execute(warehouse, f"UPDATE {RUNS} SET _batch_no = 2 WHERE account_id = '{first}'",
            f"UPDATE {RUNS} SET first_month_end = first_month_end + INTERVAL 1 MONTH WHERE account_id = '{first}' "
            f"AND first_month_end = (SELECT max(first_month_end) FROM {RUNS} WHERE account_id = '{first}')")
    results = dbt_test(warehouse, tmp_path / "a", select)
    assert sorted(results.values()) == ["fail", "pass"], results
    # the same gap, but batch 2 wrote another account's runs: only the whole-table test sees it
    execute(warehouse, f"UPDATE {RUNS} SET _batch_no = 1 WHERE account_id = '{first}'",
            f"UPDATE {RUNS} SET _batch_no = 2 WHERE account_id = '{second}'")
    assert set(dbt_test(warehouse, tmp_path / "b", select).values()) == {"pass"}
    assert sorted(dbt_test(warehouse, tmp_path / "c", select, whole_table=True).values()) == ["fail", "pass"]


MRR = "marts.mrr_movements"
MRR_TESTS = ("mrr_movements,test_name:unique_combination mrr_movements,test_name:accepted_values "
             "kpi_mrr_movements_consistent")


def test_mrr_movements_tests_check_the_rows_the_last_build_rewrote(warehouse, tmp_path):
    """mrr_movements' tests (its key, the movement labels, the consistency of each month with
    the one before) read the rows its rewrite log says the last build rewrote: every account's
    months from `rewritten_from` on, and the whole history of the accounts it lists."""
    con = duckdb.connect(str(warehouse), read_only=True)
    (stale, month), (other, other_month) = con.execute(
        f"SELECT account_id, min(month) FROM {MRR} WHERE month < DATE '2025-01-01' GROUP BY 1 ORDER BY 1 "
        "LIMIT 2").fetchall()
    assert con.execute("SELECT rewritten_from, account_id FROM audit.mrr_movements_rewrites").fetchall() == \
        [(None, None)]  # the sample's one build rewrote every row
    con.close()
    # batch 2 rewrote every account's months from October 2026 on, and the first account whole
    execute(warehouse, "INSERT INTO audit.mrr_movements_rewrites VALUES (2, 'b2', DATE '2026-10-01', NULL), "
                       f"(2, 'b2', NULL, '{stale}')")

    def plant(account: str, at: date) -> None:  # a duplicated key, a label no rule gives, a wrong delta
        key = f"account_id = '{account}' AND month = DATE '{at}'"
        execute(warehouse, f"INSERT INTO {MRR} SELECT * FROM {MRR} WHERE {key}",
                f"UPDATE {MRR} SET movement = 'bogus', delta_jpy = delta_jpy + 1 WHERE {key}")

    plant(other, other_month)  # an account and a month batch 2 did not rewrite
    assert set(dbt_test(warehouse, tmp_path / "a", MRR_TESTS).values()) == {"pass"}
    assert list(dbt_test(warehouse, tmp_path / "b", MRR_TESTS, whole_table=True).values()) == ["fail"] * 3
    plant(stale, month)  # an old month of the account batch 2 rewrote whole
    assert list(dbt_test(warehouse, tmp_path / "c", MRR_TESTS).values()) == ["fail"] * 3


def test_project_compiles_before_any_build(tmp_path):
    """`dbt compile` on a new, empty warehouse: the scoped tests ask for the latest batch of
    tables that do not exist yet, and must compile to the whole-table test instead of
    failing on the missing relation (the dbt templater of `make lint` compiles this way)."""
    warehouse = tmp_path / "new.duckdb"
    run_dbt("compile", warehouse, date.fromisoformat(AS_OF),
            extra=["--select", "stg_email__email_events", "int_cpm_segment_runs", "mrr_movements",
                   "kpi_mrr_movements_consistent"])  # raises on failure
    compiled = {p.name: p.read_text() for p in (dbt_work_dir(warehouse) / "target" / "compiled").rglob("*.sql")}
    scoped = [name for name in compiled if name.startswith(("unique_stg_email__email_events",
                                                            "cpm_segment_runs_tile_month_ends"))]
    assert len(scoped) == 2, sorted(compiled)
    assert all("_batch_no" not in compiled[name] for name in scoped)
    # mrr_movements' tests, before its rewrite log exists: the whole table
    mrr = [name for name in compiled if name.startswith(("unique_combination_mrr_movements",
                                                         "accepted_values_mrr_movements", "kpi_mrr_movements"))]
    assert len(mrr) == 3, sorted(compiled)
    assert all("mrr_movements_rewrites" not in compiled[name] for name in mrr)
