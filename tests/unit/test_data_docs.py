"""Each gate renders its own run's Data Docs pages, not the whole site again, and reuses the GX
config of earlier nights as it is: a night's cost must not grow with the number of nights
stored (real Great Expectations)."""

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from upsell.validate import suites
from upsell.validate.context import get_context
from upsell.validate.run import _Runner

OLD = 946684800  # 2000-01-01: the mtime a page keeps unless it is rendered again


def night(warehouse: Path, run_id: str) -> Path:
    runner = _Runner(warehouse, run_id, "marts")
    df = pd.DataFrame({"account_id": ["A1", "A2"], "score": [1.0, 2.0]})
    runner.validate("marts.customer_rfm", df, suites.mart_suite("customer_rfm", list(df.columns), None, 0.5))
    report = runner.finish()
    assert report.success, report.summary()
    return report.data_docs


def pages(index: Path, run_id: str) -> list[Path]:
    return [p for p in (index.parent / "validations").rglob("*.html") if run_id in p.parts]


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("UPSELL_GX_DIR", raising=False)
    return tmp_path / "warehouse.duckdb"


def test_a_night_renders_its_own_pages_and_leaves_earlier_ones(warehouse):
    index = night(warehouse, "night-1")
    first = pages(index, "night-1")
    assert len(first) == 1
    for page in first:
        os.utime(page, (OLD, OLD))

    index = night(warehouse, "night-2")
    assert len(pages(index, "night-2")) == 1
    # night 1's page was not rendered again (a whole-site build rewrites every page)
    assert [p.stat().st_mtime for p in first] == [OLD]
    # the index links both nights
    text = index.read_text()
    assert re.search(r"night-1", text) and re.search(r"night-2", text)


def test_the_index_lists_the_newest_results_only(warehouse):
    template = (Path(__file__).parents[2] / "include" / "gx" / "great_expectations.yml").read_text()
    assert re.search(r"validation_results_limit: \d{3,}", template)  # shipped: several nights
    # the same config with a limit of one result: GX honours it, the index shows night 2 only
    config = warehouse.parent / "gx" / "great_expectations.yml"
    config.parent.mkdir(parents=True)
    config.write_text(re.sub(r"validation_results_limit: \d+", "validation_results_limit: 1", template))
    night(warehouse, "night-1")
    text = night(warehouse, "night-2").read_text()
    assert "night-2" in text and "night-1" not in text


def test_a_second_night_does_not_rewrite_the_gx_config(warehouse):
    # the pandas data source, its assets and batch definitions live in
    # great_expectations.yml; replacing the data source each night made GX rewrite the
    # file twice per suite (≈ 0.5 s a gate at M)
    night(warehouse, "night-1")
    config = warehouse.parent / "gx" / "great_expectations.yml"
    assert "marts.customer_rfm" in config.read_text()
    os.utime(config, (OLD, OLD))
    night(warehouse, "night-2")
    assert config.stat().st_mtime == OLD


def test_a_gate_does_not_fingerprint_the_frames_it_validates(warehouse):
    """GX would hash every value of each frame only to store the hash in the result's
    batch markers; the gates turn that off (upsell.validate.context.skip_dataframe_fingerprint)."""
    night(warehouse, "night-1")
    context = get_context(warehouse)
    store = context.validation_results_store
    keys = [key for key in store.list_keys() if key.run_id.run_name == "night-1"]
    assert len(keys) == 1
    markers = store.get(keys[0]).meta["batch_markers"]
    assert "ge_load_time" in markers  # the markers are stored ...
    assert "pandas_data_fingerprint" not in markers  # ... without the frame's hash


def test_each_file_of_a_dataset_keeps_its_own_result_and_page(warehouse):
    """Two frames validated against one suite in one gate (two files of one dataset) are two
    results and two pages; the second reuses the suite saved for the first."""
    runner = _Runner(warehouse, "night-1", "raw")
    expectations = suites.mart_suite("customer_rfm", ["account_id", "score"], None, 0.5)
    for name in ("part-000", "part-001"):
        df = pd.DataFrame({"account_id": [f"{name}-A1", f"{name}-A2"], "score": [1.0, 2.0]})
        runner.validate("marts.customer_rfm", df, expectations, label=name)
    report = runner.finish()
    assert report.success and report.suites_run == 2, report.summary()
    keys = [k for k in get_context(warehouse).validation_results_store.list_keys() if k.run_id.run_name == "night-1"]
    assert len(keys) == 2
    assert len(pages(report.data_docs, "night-1")) == 2
