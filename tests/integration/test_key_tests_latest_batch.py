"""The key tests of the incremental tables check what the last run wrote (`_batch_no`,
macros/incremental.sql; `where: ... __latest_batch__`, macros/tests_where.sql): a duplicate
of a key the last run wrote, or a null in its rows, fails them; a duplicate among rows an
earlier run wrote and tested does not, unless var key_tests_latest_batch_only is false.
Real dbt on a copy of the published sample's warehouse (built once: every row is batch 1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.duckfile import execute
from upsell.transform import AS_OF_ENV, PROJECT_DIR

AS_OF = "2026-10-31"
EVENTS = "staging.stg_email__email_events"


@pytest.fixture
def warehouse(published_sample, tmp_path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(published_sample.parent / "warehouse.duckdb", copy)
    return copy


def key_tests(warehouse: Path, tmp: Path, whole_table: bool = False) -> dict[str, str]:
    """Status of each key test of the email events: test name -> pass / fail."""
    env = {**os.environ, "UPSELL_WAREHOUSE": str(warehouse), "UPSELL_EMAIL_SALT": "test-salt", AS_OF_ENV: AS_OF}
    cmd = [str(Path(sys.executable).with_name("dbt")), "test", "--project-dir", str(PROJECT_DIR),
           "--profiles-dir", str(PROJECT_DIR), "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
           "--select", "stg_email__email_events,test_name:unique stg_email__email_events,test_name:not_null_columns"]
    if whole_table:
        cmd += ["--vars", json.dumps({"key_tests_latest_batch_only": False})]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    assert len(results) == 2, proc.stdout[-3000:]
    return {r["unique_id"].split(".")[2].split("_stg_")[0]: r["status"] for r in results}


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
