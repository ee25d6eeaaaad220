"""The data tests of the history marts check the snapshot of the build's as-of date
(`where: "as_of_date = __as_of_date__"`, macros/tests_where.sql): a duplicate or an
out-of-range score in that snapshot fails them, the same in an earlier night's snapshot
does not (that night tested it). Real dbt on a copy of the published sample's warehouse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.duckfile import execute
from upsell.transform import AS_OF_ENV, PROJECT_DIR

AS_OF = "2026-10-31"  # the published sample's as-of date: its only snapshot so far
EARLIER = "2026-10-30"
HISTORY = ("customer_cpm_history", "upsell_propensity_history")


@pytest.fixture
def warehouse(published_sample, tmp_path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(published_sample.parent / "warehouse.duckdb", copy)
    return copy


def dbt_test(warehouse: Path, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "UPSELL_WAREHOUSE": str(warehouse), "UPSELL_EMAIL_SALT": "test-salt", AS_OF_ENV: AS_OF}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "test", "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
         "--select", *HISTORY], env=env, capture_output=True, text=True, timeout=600)


def corrupt(warehouse: Path, as_of: str) -> None:
    """In the snapshot of ``as_of``: one account twice in each history, one score of 140."""
    execute(warehouse, *(f"""INSERT INTO marts.{mart}
                             SELECT * REPLACE (DATE '{as_of}' AS as_of_date) FROM marts.{mart}
                             WHERE as_of_date = DATE '{AS_OF}' LIMIT 1""" for mart in HISTORY),
            f"UPDATE marts.upsell_propensity_history SET score = 140 WHERE as_of_date = DATE '{as_of}'")


def test_an_earlier_snapshot_is_not_tested_again(warehouse, tmp_path):
    corrupt(warehouse, EARLIER)
    proc = dbt_test(warehouse, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "PASS=4" in proc.stdout  # every test of both marts ran (their nulls: contract constraints)


def test_a_bad_row_in_the_nights_snapshot_fails_the_tests(warehouse, tmp_path):
    corrupt(warehouse, AS_OF)
    proc = dbt_test(warehouse, tmp_path)
    assert proc.returncode != 0
    for test in ("unique_combination_customer_cpm_history", "unique_combination_upsell_propensity_history",
                 "within_range_upsell_propensity_history_score"):
        assert any(test in line and "FAIL" in line for line in proc.stdout.splitlines()), proc.stdout[-3000:]
