"""End to end: ingest the bundled S sample and hold it to its MANIFEST.json.

The generator records, per file, how many records it wrote, how many are exact
duplicates and which lines it broke on purpose; ingestion knows none of that. Every
count below is compared with that independent record, not with our own output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import query
from upsell.ingest import ingest

SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SAMPLE / "MANIFEST.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, manifest):
    warehouse = tmp_path_factory.mktemp("sample") / "warehouse.duckdb"
    mappings = [SAMPLE.parents[0] / "mappings" / "salesforce"]
    result = ingest(SAMPLE, warehouse, "test-run", mapping_dirs=mappings)
    return warehouse, result


def test_every_file_is_loaded_and_nothing_ignored_but_the_stray_file(loaded, manifest):
    _, result = loaded
    assert sorted(f.relpath for f in result.files) == sorted(manifest["files"])
    assert {f.status for f in result.files} == {"loaded"}
    assert sorted(i.relpath for i in result.ignored) == sorted(manifest["ignored"])


def test_counts_match_the_manifest_and_reconcile(loaded, manifest):
    warehouse, _ = loaded
    audit = {row[0]: row[1:] for row in query(warehouse, """
        SELECT source_file, rows_read, rows_loaded, rows_quarantined, duplicates_collapsed FROM audit.file_loads""")}
    for relpath, entry in manifest["files"].items():
        read, loaded_rows, quarantined, duplicates = audit[relpath]
        assert read == entry["rows"], relpath
        assert quarantined == len(entry["bad_rows"]), relpath
        assert duplicates == entry["duplicate_rows"], relpath
        assert read == loaded_rows + quarantined + duplicates, relpath


def test_quarantined_lines_are_the_broken_ones(loaded, manifest):
    warehouse, _ = loaded
    got = sorted(query(warehouse, "SELECT source_file, line FROM audit.quarantine"))
    expected = sorted((relpath, bad["record_line"]) for relpath, entry in manifest["files"].items()
                      for bad in entry["bad_rows"])
    assert got == expected
    assert query(warehouse, "SELECT count(*) FROM audit.quarantine WHERE reason IS NULL OR raw_text IS NULL") == [(0,)]


def test_raw_row_counts_equal_loaded_counts(loaded):
    warehouse, _ = loaded
    per_dataset = query(warehouse, "SELECT dataset, sum(rows_loaded) FROM audit.file_loads GROUP BY 1")
    for dataset, rows_loaded in per_dataset:
        assert query(warehouse, f"SELECT count(*) FROM raw.{dataset}") == [(rows_loaded,)], dataset


def test_japanese_text_survives_cp932(loaded, manifest):
    warehouse, _ = loaded
    cp932 = [p for p, e in manifest["files"].items() if e.get("encoding") == "cp932"]
    assert cp932, "the sample must contain a CP932 export"
    names = query(warehouse, "SELECT string_agg(account_name, '') FROM raw.accounts")[0][0]
    for ch in ("㈱", "①", "髙"):
        assert ch in names


def test_second_ingest_changes_nothing(loaded):
    warehouse, _ = loaded
    before = query(warehouse, "SELECT count(*) FROM audit.file_loads")
    again = ingest(SAMPLE, warehouse, "test-run-2", mapping_dirs=[SAMPLE.parents[0] / "mappings" / "salesforce"])
    assert {f.status for f in again.files} == {"skipped"}
    assert query(warehouse, "SELECT count(*) FROM audit.file_loads") == before
