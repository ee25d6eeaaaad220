"""The benchmark suite's pure parts: stage shares, the dbt build split, target verdicts, the
per-scale merge of results, the pandas baseline's typing, and the rendered report and plot."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time

import pandas as pd
import pytest

from upsell.bench import dbt_timing, suite, suite_markdown, suite_report
from upsell.bench.measure import RssSampler, StageClock
from upsell.contracts import DATASETS

T0 = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)


def node(unique_id: str, start: float | None, end: float | None, execution_time: float = 0.0) -> dict:
    """A run_results.json node whose execute phase ran from T0+start to T0+end seconds."""
    timing = [] if start is None else [
        {"name": "compile", "started_at": (T0 + dt.timedelta(seconds=start)).isoformat().replace("+00:00", "Z"),
         "completed_at": (T0 + dt.timedelta(seconds=start)).isoformat().replace("+00:00", "Z")},
        {"name": "execute", "started_at": (T0 + dt.timedelta(seconds=start)).isoformat().replace("+00:00", "Z"),
         "completed_at": (T0 + dt.timedelta(seconds=end)).isoformat().replace("+00:00", "Z")}]
    return {"unique_id": unique_id, "execution_time": execution_time, "timing": timing}


def night(stages: dict[str, float], split: dict[str, float] | None = None, peak: float = 1.0,
          rows: int = 1000, wall: float | None = None) -> dict:
    total = sum(stages.values())
    return {"stages": {**stages, "total": total}, "peak_rss_gib": peak, "rows_read": rows,
            "wall_s": wall if wall is not None else total + 1,
            "stage_rss_gib": {k: peak for k in stages},
            "dbt_profile": {"split": split or {}, "top_nodes": [["stg_x", 1.0]]}}


def entry(bare_s: float, full_stages: dict[str, float], inc_total: float, *, input_bytes: int = 10**6,
          rows: int = 1000, peak: float = 1.0, extra: dict | None = None) -> dict:
    """A scale entry as the suite writes it."""
    full = night(full_stages, {"dbt_models": 1.0, "dbt_tests": 1.0, "dbt_overhead": full_stages.get("dbt_build", 2) - 2},
                 peak=peak, rows=rows)
    return {"as_of": "2026-11-01", "input_files": 3, "input_bytes": input_bytes, "load_average": [1.0, 1.2],
            "bare": {"seconds": [bare_s, bare_s], "median_s": bare_s, "rows": rows, "peak_rss_gib": 0.5},
            "full": full, "incremental": {**night({"ingest": inc_total}, peak=peak), "as_of": "2026-11-02",
                                          "increment": {"email_events": 10}},
            **(extra or {})}


STAGES = {"ingest": 10.0, "validate_raw": 20.0, "dbt_build": 50.0, "validate_marts": 10.0, "publish": 5.0,
          "report": 5.0}


# ---- stage shares and dominance -------------------------------------------------------------

def test_dbt_build_is_replaced_by_its_three_parts_and_shares_add_up():
    run = night(STAGES, {"dbt_models": 20.0, "dbt_tests": 25.0, "dbt_overhead": 5.0})
    stages = suite_report.expanded_stages(run)
    assert "dbt_build" not in stages
    assert stages["dbt_tests"] == 25.0
    shares = suite_report.stage_shares(stages, run["stages"]["total"])
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["dbt_tests"] == pytest.approx(0.25)


def test_dominant_stages_are_the_largest_shares_first():
    run = night(STAGES, {"dbt_models": 22.0, "dbt_tests": 25.0, "dbt_overhead": 3.0})  # raw gate: 20
    assert [k for k, _ in suite_report.dominant(run)] == ["dbt_tests", "dbt_models"]
    assert suite_report.dominant(run)[0][1] == pytest.approx(0.25)


def test_dbt_parts_report_the_dbt_builds_peak_rss():
    run = night(STAGES)
    run["stage_rss_gib"]["dbt_build"] = 3.5
    assert suite_report.stage_rss(run, "dbt_tests") == 3.5
    assert suite_report.stage_rss(run, "ingest") == 1.0


# ---- run_results.json split -----------------------------------------------------------------

def test_overlapping_nodes_share_the_time_they_overlap_equally():
    parts = dbt_timing.attribute_concurrent([("dbt_models", 0.0, 4.0), ("dbt_tests", 2.0, 6.0)])
    assert parts == {"dbt_models": pytest.approx(3.0), "dbt_tests": pytest.approx(3.0)}


def test_split_adds_up_to_the_wall_time_even_when_node_times_sum_beyond_it():
    results = [node("model.upsell.stg_a", 1.0, 5.0, execution_time=4.0),
               node("model.upsell.stg_b", 1.0, 5.0, execution_time=4.0),  # second thread
               node("test.upsell.not_null_stg_a_id", 5.0, 7.0, execution_time=2.0),
               node("unit_test.upsell.stg_a.case", 7.0, 8.0, execution_time=1.0),
               node("model.upsell.skipped", None, None)]
    split = dbt_timing.split_build(results, wall_s=10.0)
    assert split == {"dbt_models": pytest.approx(4.0), "dbt_tests": pytest.approx(3.0),
                     "dbt_overhead": pytest.approx(3.0)}
    assert sum(dbt_timing.execution_sums(results).values()) == pytest.approx(11.0)  # > the 10 s wall


def test_split_never_reports_negative_overhead():
    split = dbt_timing.split_build([node("model.upsell.a", 0.0, 12.0)], wall_s=10.0)
    assert split["dbt_overhead"] == 0.0
    assert split["dbt_models"] == pytest.approx(10.0)


@pytest.mark.parametrize(("unique_id", "expected"), [
    ("model.upsell.customer_rfm", "dbt_models"), ("seed.upsell.calendar", "dbt_models"),
    ("test.upsell.unique_x", "dbt_tests"), ("unit_test.upsell.m.case", "dbt_tests")])
def test_node_categories(unique_id, expected):
    assert dbt_timing.category(unique_id) == expected


def test_build_profile_reads_run_results_beside_the_warehouse(tmp_path):
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    target = warehouse.parent / "dbt" / "target"
    target.mkdir(parents=True)
    (target / "run_results.json").write_text(json.dumps({"results": [
        node("model.upsell.slow", 0.0, 3.0, 3.0), node("test.upsell.fast", 3.0, 3.5, 0.5)]}))
    profile = dbt_timing.build_profile(warehouse, wall_s=5.0)
    assert profile["top_nodes"][0] == ("slow", 3.0)
    assert profile["split"]["dbt_overhead"] == pytest.approx(1.5)


# ---- targets ---------------------------------------------------------------------------------

def results_for(m: dict | None = None, l_: dict | None = None, dag_parse: float | None = 1.0) -> dict:
    scales = {k: v for k, v in (("M", m), ("L", l_)) if v}
    return {"scales": scales, "dag_parse": {"median_seconds": dag_parse} if dag_parse is not None else None}


def verdicts(results: dict) -> dict[tuple[str, str], str]:
    return {(t["target"], t["scale"]): t["status"] for t in suite_report.evaluate_targets(results)}


def test_full_over_bare_target_met_and_missed_at_m():
    met = verdicts(results_for(m=entry(25.0, STAGES, 10.0)))  # the full night's 100 s: 4× bare
    missed = verdicts(results_for(m=entry(10.0, STAGES, 10.0)))  # 10× bare
    key = ("full nightly run ≤ 5× bare read time", "M")
    assert (met[key], missed[key]) == ("met", "missed")


def test_l_must_also_be_no_worse_than_m():
    key = ("full nightly run ≤ 5× bare read time, no worse than at M", "L")
    worse_than_m = verdicts(results_for(m=entry(50.0, STAGES, 10.0), l_=entry(25.0, STAGES, 10.0)))  # 2× then 4×
    better = verdicts(results_for(m=entry(25.0, STAGES, 10.0), l_=entry(50.0, STAGES, 10.0)))
    assert worse_than_m[key] == "missed"
    assert better[key] == "met"


def test_incremental_ingest_rss_and_dag_parse_targets():
    results = results_for(m=entry(25.0, STAGES, 20.0), l_=entry(25.0, STAGES, 30.0, peak=13.0), dag_parse=2.5)
    v = verdicts(results)
    assert v[("incremental ≤ 0.25× full run", "M")] == "met"  # 0.2×
    assert v[("incremental ≤ 0.25× full run", "L")] == "missed"  # 0.3×
    assert v[("peak RSS < 12 GiB", "L")] == "missed"
    assert v[("DAG parse < 2 s", "-")] == "missed"
    # ingest 10 s for 1000 rows = 100 rows/s vs bare 1000 rows / 25 s = 40 rows/s: 2.5×
    assert v[("ingestion ≥ 0.7× bare reader throughput", "L")] == "met"
    assert suite_report.ratios(results["scales"]["L"])["ingest_throughput_ratio"] == pytest.approx(2.5)


def test_baseline2_and_airflow_targets_use_process_wall_times():
    extra = {"baseline2": {"wall_s": 1010.0, "peak_rss_gib": 2.0, "stages": {"load": 900, "dbt": 100}},
             "airflow": {"wall_s": 130.0, "peak_rss_gib": 1.5, "logical_date": "2026-11-02"}}
    m = entry(25.0, STAGES, 10.0, extra=extra)  # our full run's process: 101 s
    r = suite_report.ratios(m)
    assert r["baseline2_over_full"] == pytest.approx(10.0)
    assert r["airflow_overhead"] == pytest.approx(29 / 130)
    v = verdicts(results_for(m=m))
    assert v[("≥ 10× faster end to end than pandas + to_sql → Postgres", "M")] == "met"
    assert v[("Airflow's own overhead < 20 % of the nightly run", "M")] == "missed"


def test_deployed_airflow_overhead_is_set_against_the_clis_night():
    deployed = {"night_s": 130.0, "ingest_s": 16.0, "validate_raw_s": 5.5, "dbt_producer_s": 30.0,
                "dbt_watchers_s": 55.0, "watchers": 54, "after_dbt_s": 9.0, "tasks": 69, "states": ["success"]}
    m = entry(25.0, STAGES, 10.0, extra={"airflow_deployed": deployed})  # our night: 100 s in-process
    assert suite_report.ratios(m)["airflow_overhead_deployed"] == pytest.approx(30 / 130)
    target = "Airflow's own overhead < 20 % of the nightly run, deployed (scheduler)"
    assert verdicts(results_for(m=m))[(target, "M")] == "missed"
    deployed["night_s"] = 120.0
    assert verdicts(results_for(m=m))[(target, "M")] == "met"
    m["airflow"] = {"wall_s": 130.0, "peak_rss_gib": 1.5, "logical_date": "2026-11-02"}
    text = "\n".join(suite_markdown.airflow_lines(m))
    assert "**120.0 s** vs 100.0 s for the CLI's night" in text and "**16.7%**" in text
    assert "model watchers 55.0 s" in text and "69 tasks" in text
    m["airflow_deployed"] = {"error": "RuntimeError: no scheduler"}
    assert verdicts(results_for(m=m))[(target, "M")] == "not measured"
    assert "Airflow deployed: **failed**" in "\n".join(suite_markdown.airflow_lines(m))


def test_missing_scales_failed_contenders_and_no_dag_parse_are_not_measured():
    m = entry(25.0, STAGES, 10.0, extra={"airflow": {"error": "RuntimeError: boom"}})
    v = verdicts(results_for(m=m, dag_parse=None))
    assert v[("Airflow's own overhead < 20 % of the nightly run", "M")] == "not measured"
    assert v[("peak RSS < 12 GiB", "L")] == "not measured"
    assert v[("DAG parse < 2 s", "-")] == "not measured"


def test_other_scales_are_listed_beside_a_target():
    rows = suite_report.evaluate_targets({"scales": {"S": entry(50.0, STAGES, 10.0)}})
    row = next(r for r in rows if r["target"] == "full nightly run ≤ 5× bare read time")
    assert (row["status"], row["elsewhere"]) == ("not measured", "S: 2.00×")


# ---- merging results by scale ---------------------------------------------------------------

def test_merge_replaces_a_scale_whole_and_keeps_the_others():
    old = {"scales": {"S": {"full": 1, "airflow": 2}, "M": {"full": 3}}, "dag_parse": {"median_seconds": 1.0}}
    new = {"scales": {"S": {"full": 9}}}
    merged = suite.merge_results(copy.deepcopy(old), new)
    assert merged["scales"] == {"S": {"full": 9}, "M": {"full": 3}}  # S's old airflow is gone
    assert merged["dag_parse"] == {"median_seconds": 1.0}
    assert suite.merge_results(merged, {"dag_parse": {"median_seconds": 2.0}})["dag_parse"]["median_seconds"] == 2.0


def test_save_results_merges_into_the_file(tmp_path):
    path = tmp_path / "suite-results.json"
    suite.save_results(path, {"scales": {"S": {"n": 1}}})
    suite.save_results(path, {"scales": {"L": {"n": 2}}})
    assert json.loads(path.read_text())["scales"] == {"S": {"n": 1}, "L": {"n": 2}}


# ---- rendering --------------------------------------------------------------------------------

def small_results() -> dict:
    extra = {"baseline2": {"wall_s": 300.0, "peak_rss_gib": 0.4, "stages": {"load": 200.0, "dbt": 90.0},
                           "rows_loaded": 990, "rows_dropped": 10, "dropped_by_reason": {"unparseable value": 10}},
             "baseline3": {"wall_s": 150.0, "peak_rss_gib": 0.6, "stages": {"ingest": 10.0, "copy": 5.0, "dbt": 120.0}},
             "airflow": {"wall_s": 140.0, "peak_rss_gib": 1.1, "logical_date": "2026-11-02"}}
    return {"machine": {"cpus": 2, "memory_gib": 8.0},
            "dag_parse": {"median_seconds": 1.2, "max_seconds": 1.4, "rounds": [1.2, 1.4, 1.1], "tasks": 60,
                          "import_errors": 0},
            "scales": {"S": entry(20.0, STAGES, 30.0, extra=extra),
                       "M": entry(400.0, {k: v * 30 for k, v in STAGES.items()}, 400.0, input_bytes=40 * 10**6,
                                  rows=40_000, peak=2.0)}}


def test_png_render_writes_a_non_empty_png(tmp_path):
    path = suite_report.render_png(small_results(), tmp_path / "docs" / "scaling.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000


def test_markdown_report_has_a_section_per_scale_and_every_target():
    text = suite_report.render_markdown(small_results())
    assert text.index("## Scale S") < text.index("## Scale M")
    assert text.count("| dbt build: tests |") == 2
    assert all(t.name in text for t in suite_report.TARGETS)
    assert "pandas + to_sql → Postgres" in text and "10 dropped" in text
    # S: Airflow 140 s vs the CLI's 101 s process → 39 s, 28 % overhead; M ran no Airflow
    assert "**27.9%**" in text
    assert text.count("| Airflow's own overhead (`dags test`") == 1
    assert "| 39.00 | 27.9% | 1.10 |" in text


# ---- measuring helpers --------------------------------------------------------------------------

def test_stage_clock_times_stages_and_attributes_rss_samples():
    with RssSampler(interval=0.01) as sampler:
        clock = StageClock(sampler)
        with clock.stage("first"):
            ballast = bytearray(64 * 2**20)  # 64 MiB resident while "first" runs
            ballast[:: 4096] = b"x" * len(ballast[:: 4096])
            time.sleep(0.05)
        del ballast
        with clock.stage("second"):
            time.sleep(0.02)
    result = clock.result()
    assert list(result["stages"]) == ["first", "second", "total"]
    assert result["stages"]["first"] >= 0.05
    assert result["stage_rss_gib"]["first"] > 0
    assert result["job_peak_rss_gib"] >= result["stage_rss_gib"]["second"]


# ---- the pandas baseline's typing -----------------------------------------------------------------

def test_pandas_baseline_types_values_like_the_contract():
    from upsell.bench.pandas_pg import coerce

    accounts = DATASETS["accounts"]
    ts = coerce(pd.Series(["2026-10-31 09:00:00", "2026-10-31T00:00:00Z", "2026-02-30T10:00:00+09:00"]),
                accounts.column("updated_at"), "Asia/Tokyo")
    assert ts[0] == pd.Timestamp("2026-10-31 00:00:00", tz="UTC")  # naive = Tokyo local time
    assert ts[1] == pd.Timestamp("2026-10-31 00:00:00", tz="UTC")
    assert pd.isna(ts[2])
    money = coerce(pd.Series(["¥150,000", "３４０００", "12x3"]), accounts.column("capital_jpy"), "Asia/Tokyo")
    assert money[:2].tolist() == [150000.0, 34000.0] and pd.isna(money[2])
    stage = coerce(pd.Series(["won", "closed-ish"]), DATASETS["deals"].column("stage"), "Asia/Tokyo")
    assert stage[0] == "won" and pd.isna(stage[1])


def test_pandas_baseline_drops_and_counts_rows_it_cannot_use():
    from upsell.bench.pandas_pg import conform

    cols = [c.name for c in DATASETS["nps_responses"].columns]
    df = pd.DataFrame([["R1", "A1", "7", "2026-10-01 10:00"], ["R2", "A1", "seven", "2026-10-01 10:00"],
                       [None, "A1", "5", "2026-10-01 10:00"]], columns=cols)
    typed, dropped = conform(df, "nps_responses", "Asia/Tokyo")
    assert typed["response_id"].tolist() == ["R1"]
    assert dropped == {"unparseable value": 1, "required value missing": 1}


def test_bench_ingest_reads_the_floor_with_and_without_its_close():
    """The bare child reports its time until closed and before its close; ours reports one time."""
    from upsell.bench.ingest import _child_peak

    rows, seconds, peak_gib, before_close = _child_peak("print(7, 2.5, 2.25)")
    assert (rows, seconds, before_close) == (7, 2.5, 2.25) and peak_gib > 0
    assert _child_peak("print(7, 2.5)")[3] is None


def test_the_bare_detail_names_the_seconds_before_the_close_when_measured():
    entry = {"bare": {"rows": 1000, "seconds": [1.5, 1.7], "median_s": 1.6}}
    assert "before the close" not in suite_markdown._detail(entry, "bare")
    entry["bare"]["seconds_before_close"] = [1.4, 1.6]
    assert suite_markdown._detail(entry, "bare") == (
        "1,000 rows; rounds [1.5, 1.7] s (before, after; until closed); before the close [1.4, 1.6] s")
