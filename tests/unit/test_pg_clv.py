"""The Postgres CLV step's pure parts: COPY text that round-trips exactly, the spec read from
the manifest (relations, vars, lineage checks), and the summary of the two dbt builds."""

from __future__ import annotations

import copy
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from upsell.pg_clv import ClvStepError, copy_csv, copy_text, step_spec
from upsell.pipeline import merge_results
from upsell.transform import DbtResult

P = "upsell_warehouse"


@pytest.mark.parametrize("value", [None, float("nan"), np.float64("nan"), pd.NaT])
def test_nulls_are_the_null_marker(value):
    assert copy_text(value) == r"\N"


@pytest.mark.parametrize("value", [0.1 + 0.2, 1 / 3, 1e-300, 5e-324, 123456789.123456789, -0.0, 2.0 ** 60])
def test_doubles_round_trip_exactly(value):
    assert float(copy_text(value)) == value
    assert float(copy_text(np.float64(value))) == value  # numpy 2 would repr it as np.float64(...)


def test_integers_dates_and_text():
    assert copy_text(np.int64(2 ** 62)) == str(2 ** 62)
    assert copy_text(7) == "7"
    assert copy_text(True) == "true"
    assert copy_text(date(2026, 10, 31)) == "2026-10-31"
    assert copy_text(pd.Timestamp("2026-10-31")) == "2026-10-31"
    assert copy_text(np.datetime64("2026-10-31")) == "2026-10-31"
    assert copy_text(datetime(2026, 10, 31)) == "2026-10-31"
    # text is always quoted: an empty string or the text \N stays text, not NULL
    assert copy_text("") == '""'
    assert copy_text(r"\N") == '"\\N"'
    assert copy_text('a "b", c\nd') == '"a ""b"", c\nd"'


def test_copy_csv_rows():
    assert copy_csv([("A1", None, 0.5), ("A2", 3, float("nan"))]) == '"A1",\\N,0.5\n"A2",3,\\N\n'


def _manifest() -> dict:
    """The parts of a Postgres-target manifest the step reads."""
    summary = f"model.{P}.int_customer_purchase_summary"
    fits_src, scored_src = f"source.{P}.clv_scoring.clv_model_fits", f"source.{P}.clv_scoring.customer_clv_scored"

    def model(name: str, deps: list[str], config: dict) -> dict:
        return {"unique_id": f"model.{P}.{name}", "name": name, "schema": "intermediate", "alias": name,
                "relation_name": f'"db"."intermediate"."{name}"', "config": config,
                "original_file_path": f"models/{name}.sql", "depends_on": {"nodes": deps}}

    def source(name: str) -> dict:
        return {"unique_id": f"source.{P}.clv_scoring.{name}", "name": name, "schema": "clv_scoring",
                "identifier": name, "relation_name": f'"db"."clv_scoring"."{name}"'}

    return {
        "nodes": {
            summary: model("int_customer_purchase_summary", [], {}),
            f"model.{P}.int_clv_model_fits": model(
                "int_clv_model_fits", [summary, fits_src], {"clv_time_unit": "week", "clv_l2_penalty": "0.01"}),
            f"model.{P}.int_customer_clv_scored": model(
                "int_customer_clv_scored", [summary, f"model.{P}.int_clv_model_fits", scored_src],
                {"clv_horizon_days": "180", "clv_discount_rate_monthly": "0.02"}),
        },
        "sources": {fits_src: source("clv_model_fits"), scored_src: source("customer_clv_scored")},
    }


def test_spec_reads_relations_and_rendered_vars():
    spec = step_spec(_manifest())
    assert spec.input.rendered == '"db"."intermediate"."int_customer_purchase_summary"'
    assert (spec.fits.schema, spec.fits.identifier) == ("clv_scoring", "clv_model_fits")
    assert (spec.scored.schema, spec.scored.identifier) == ("clv_scoring", "customer_clv_scored")
    assert (spec.time_unit, spec.l2_penalty, spec.horizon_days, spec.monthly_discount_rate) == ("week", 0.01, 180.0,
                                                                                                0.02)


def test_spec_refuses_a_duckdb_manifest():
    # on DuckDB the CLV models are Python models and source clv_scoring is disabled
    manifest = _manifest()
    manifest["sources"] = {}
    with pytest.raises(ClvStepError, match="clv_scoring.clv_model_fits is not enabled.*postgres"):
        step_spec(manifest)


def test_spec_refuses_a_stand_in_without_its_declared_input():
    manifest = copy.deepcopy(_manifest())
    manifest["nodes"][f"model.{P}.int_customer_clv_scored"]["depends_on"]["nodes"].pop(0)
    with pytest.raises(ClvStepError, match="int_customer_clv_scored .* does not depend on .*purchase_summary"):
        step_spec(manifest)


def test_spec_refuses_a_var_that_is_not_a_number():
    manifest = _manifest()
    manifest["nodes"][f"model.{P}.int_customer_clv_scored"]["config"]["clv_horizon_days"] = "a year"
    with pytest.raises(ClvStepError, match="clv_horizon_days = 'a year' is not a number"):
        step_spec(manifest)


def test_two_builds_summarised_as_one():
    merged = merge_results(DbtResult(True, [], {"success": 10, "pass": 20}),
                           DbtResult(True, [], {"success": 5, "pass": 30, "warn": 1}))
    assert merged.success and merged.counts == {"success": 15, "pass": 50, "warn": 1}
