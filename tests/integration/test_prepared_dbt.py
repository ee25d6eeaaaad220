"""The dbt child started before the raw gate (upsell.transform.PreparedDbt): it parses while
this process uses the warehouse, builds only when told, and a child that is never told
leaves the warehouse untouched."""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from upsell.ingest import ingest
from upsell.transform import DbtError, PreparedDbt, dbt_work_dir

REPO = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 10, 31)
ONE_MODEL = ["--select", "stg_crm__accounts"]


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("UPSELL_EMAIL_SALT", "prepared-test")
    wh = tmp_path / "wh" / "warehouse.duckdb"
    ingest(REPO / "include" / "sample", wh, "prepared-test",
           mapping_dirs=[REPO / "include" / "mappings" / "salesforce"])
    return wh


def _wait_until_parsed(wh: Path, child: PreparedDbt, timeout: float = 120) -> None:
    """dbt writes the manifest as its parse's last step; the work folder is new here."""
    manifest = dbt_work_dir(wh) / "target" / "manifest.json"
    deadline = time.monotonic() + timeout
    while not manifest.exists():
        assert child.proc.poll() is None, "the child exited while parsing"
        assert time.monotonic() < deadline, "no manifest after two minutes"
        time.sleep(0.2)
    time.sleep(1.0)  # past the write, into the wait for "go"


def test_the_waiting_child_holds_no_lock_and_builds_when_told(warehouse):
    with PreparedDbt("build", warehouse, AS_OF, extra=ONE_MODEL) as child:
        _wait_until_parsed(warehouse, child)
        # a writer in this process while the parsed child waits: DuckDB would refuse it if
        # the child had opened the file
        con = duckdb.connect(str(warehouse))
        con.execute("CREATE TABLE main.written_while_dbt_waits AS SELECT 1 AS x")
        con.close()
        result = child.run()
    assert result.success and result.counts.get("success") == 1  # the model; its tests passed too
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM staging.stg_crm__accounts").fetchone()[0] > 0
    finally:
        con.close()


def test_a_module_that_cannot_be_pre_imported_is_logged_and_the_build_goes_on(warehouse, caplog):
    with caplog.at_level(logging.INFO, logger="upsell.transform"):
        with PreparedDbt("build", warehouse, AS_OF, extra=ONE_MODEL,
                         warm=["upsell.clv_marts", "upsell_no_such_module"]) as child:
            result = child.run()
    assert result.success and result.counts.get("success") == 1
    assert "dbt: not pre-imported: upsell_no_such_module" in caplog.text
    assert "not pre-imported: upsell.clv_marts" not in caplog.text


def test_a_child_never_told_to_build_stops_without_building(warehouse):
    with PreparedDbt("build", warehouse, AS_OF, extra=ONE_MODEL) as child:
        _wait_until_parsed(warehouse, child)
    assert child.proc.returncode == 0
    assert not (dbt_work_dir(warehouse) / "target" / "run_results.json").exists()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert not con.execute("SELECT count(*) FROM information_schema.tables "
                               "WHERE table_name = 'stg_crm__accounts'").fetchone()[0]
    finally:
        con.close()


def test_a_failing_build_raises_with_dbt_s_reason(warehouse):
    with PreparedDbt("build", warehouse, AS_OF, extra=["--select", "no_such_model_anywhere", "--warn-error"]) as child:
        with pytest.raises(DbtError, match="no_such_model_anywhere"):
            child.run()
