"""The deployed-Airflow benchmark's arithmetic: a night's phases from its task instances."""

from __future__ import annotations

from upsell.bench.airflow_deployed import phases


def ti(task_id: str, start: float, end: float | None, state: str = "success") -> dict:
    stamp = lambda s: None if s is None else f"2026-12-06T10:00:{s:06.3f}+00:00"  # noqa: E731
    return {"task_id": task_id, "start_date": stamp(start), "end_date": stamp(end), "state": state}


def test_phases_span_first_start_to_last_end_of_each_group():
    tis = [
        ti("resolve_as_of", 0.0, 0.5), ti("discover", 1.0, 1.5),
        ti("ingest.crm", 2.0, 4.0), ti("ingest.email", 5.0, 9.25),
        ti("validate_raw", 10.0, 14.0),
        ti("dbt.start", 14.5, 14.5), ti("dbt.dbt_producer_watcher", 15.0, 30.0),
        ti("dbt.stg_crm__deals_run", 31.0, 31.5), ti("dbt.customer_360_run", 33.0, 34.0),
        ti("dbt.rfm_segments_seed", 31.0, 32.0),
        ti("validate", 35.0, 38.0), ti("publish", 38.5, 40.0), ti("data_docs", 38.5, 39.0),
        ti("report", 40.5, 41.5),
        ti("never_ran", None, None, state="skipped"),
    ]
    got = phases(tis)
    assert got["night_s"] == 41.5
    assert got["before_ingest_s"] == 1.5
    assert got["ingest_s"] == 7.25
    assert got["validate_raw_s"] == 4.0
    assert got["dbt_producer_s"] == 15.0
    assert got["dbt_watchers_s"] == 3.0 and got["watchers"] == 3
    assert got["after_dbt_s"] == 6.5
    assert got["tasks"] == 14
    assert got["states"] == ["skipped", "success"]


def test_a_phase_without_tasks_is_none():
    got = phases([ti("resolve_as_of", 0.0, 1.0), ti("validate_raw", 2.0, 3.0)])
    assert got["ingest_s"] is None and got["dbt_watchers_s"] is None and got["watchers"] == 0
    assert got["night_s"] == 3.0
