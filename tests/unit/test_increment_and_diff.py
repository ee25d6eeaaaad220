"""The day N+1 increment generator and the row-by-row warehouse diff (real DuckDB files)."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from upsell.generate.increment import generate_next_day
from upsell.marts_diff import diff_warehouses

SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample"
DAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def increment(tmp_path_factory):
    landing = tmp_path_factory.mktemp("inc") / "landing"
    shutil.copytree(SAMPLE, landing)
    return landing, generate_next_day(landing, DAY)


def rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_increment_has_every_kind_and_unique_keys(increment):
    _, inc = increment
    for kind in ("new_open", "late_in_lookback", "late_beyond_lookback", "ahead_of_as_of", "re_export"):
        assert inc.counts.get(f"email_events.{kind}", 0) > 0, kind
    for kind in ("new_line", "late_in_lookback", "late_beyond_lookback", "update_newer", "update_stale",
                 "update_ahead_of_as_of"):
        assert inc.counts.get(f"invoices.{kind}", 0) > 0, kind
    events = rows(inc.email_file)
    assert len(events) == sum(v for k, v in inc.counts.items() if k.startswith("email_events."))
    assert len({e["event_id"] for e in events}) == len(events)
    lines = rows(inc.invoice_file)
    assert len({(r["invoice_id"], r["line_no"]) for r in lines}) == len(lines)


def test_increment_reexports_existing_keys_and_is_deterministic(increment, tmp_path):
    landing, inc = increment
    base = duckdb.sql(f"SELECT DISTINCT invoice_id FROM read_csv('{landing}/billing/invoices_FY*', "
                      "all_varchar = true, union_by_name = true, ignore_errors = true)").fetchall()
    base_ids = {r[0] for r in base}
    reexported = [r for r in rows(inc.invoice_file) if r["invoice_id"] in base_ids]
    assert len(reexported) == sum(inc.counts[f"invoices.{k}"] for k in
                                  ("update_newer", "update_stale", "update_ahead_of_as_of"))
    again = tmp_path / "landing"
    shutil.copytree(SAMPLE, again)
    inc2 = generate_next_day(again, DAY)
    assert inc2.email_file.read_bytes() == inc.email_file.read_bytes()
    assert inc2.invoice_file.read_bytes() == inc.invoice_file.read_bytes()


def _db(path: Path, values: list[tuple]) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t (k INTEGER, x DOUBLE, s VARCHAR)")
    con.executemany("INSERT INTO marts.t VALUES (?, ?, ?)", values)
    con.close()
    return path


def test_diff_finds_changed_missing_and_duplicated_rows(tmp_path):
    a = _db(tmp_path / "a.duckdb", [(1, 0.1, "a"), (2, None, None)])
    same = _db(tmp_path / "b.duckdb", [(2, None, None), (1, 0.1 + 1e-13, "a")])  # order, float noise
    assert diff_warehouses(a, same) == []
    changed = _db(tmp_path / "c.duckdb", [(1, 0.1, "b"), (2, None, None)])
    assert [(d.table, d.only_left, d.only_right) for d in diff_warehouses(a, changed)] == [("marts.t", 1, 1)]
    dup = _db(tmp_path / "d.duckdb", [(1, 0.1, "a"), (2, None, None), (2, None, None)])
    assert [(d.only_left, d.only_right) for d in diff_warehouses(a, dup)] == [(0, 1)]
