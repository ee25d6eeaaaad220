"""The dbt unit tests (hand-computed fixtures for every formula) run here, in `make test`.

The nightly build leaves them out (``NIGHTLY_BUILD_FLAGS``: static fixtures cannot fail
because of a night's data), so this test is where they run on every change: against the
warehouse of a real `upsell run` on the S sample, whose tables give dbt the column types
of each unit test's parents.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from upsell.transform import NIGHTLY_BUILD_FLAGS, run_dbt

REPO = Path(__file__).resolve().parents[2]


def _unit_tests_in_project() -> set[str]:
    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    return set(manifest["unit_tests"])


def test_the_nightly_build_ran_models_and_data_tests_but_no_unit_tests(published_sample):
    assert NIGHTLY_BUILD_FLAGS == ["--exclude-resource-type", "unit_test"]
    run_results = published_sample.parent / "dbt" / "target" / "run_results.json"
    kinds = {r["unique_id"].split(".")[0] for r in json.loads(run_results.read_text())["results"]}
    assert {"model", "test", "seed"} <= kinds
    assert "unit_test" not in kinds


def test_every_unit_test_passes(published_sample):
    expected = _unit_tests_in_project()
    assert len(expected) >= 30  # one per formula and edge of the spec
    warehouse = published_sample.parent / "warehouse.duckdb"
    result = run_dbt("test", warehouse, date(2026, 10, 31), extra=["--select", "test_type:unit"])
    assert result.success and result.failures == []
    assert result.counts == {"pass": len(expected)}
