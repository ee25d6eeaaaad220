"""
### upsell_nightly

The nightly upsell / cross-sell warehouse job: landing files → raw (DuckDB) → dbt marts →
Great Expectations → publish to the BI serving location.

* **When**: daily at 02:00 Asia/Tokyo (`UPSELL_SCHEDULE`, `UPSELL_BUSINESS_TZ`); catchup off;
  one active run (DuckDB has one writer).
* **As-of date**: the last complete business day before the end of the data interval
  (a run ending 24th 02:00 JST computes the marts as of the 23rd). Override with the
  `as_of` param on a manual trigger.
* **Tasks**: `resolve_as_of` → `discover` → `ingest.<source>` (one per source system) →
  `validate_raw` (Great Expectations on the rows loaded) → `dbt` (Cosmos, one producer
  `dbt build` watched by one task per model) → `validate` (Great Expectations on the
  marts) → `publish` (emits one Asset event per mart) → `report` (the nightly HTML report
  from the served file: `<serving>/report/<as_of>.html` and `latest.html`); `data_docs` (the Data Docs link)
  runs after `validate` whatever its outcome. A failed gate fails the run; nothing is
  published and the previous marts stay served.
* **Writers never overlap**: every task that opens the warehouse runs in the one-slot pool
  `upsell_duckdb` (create it: `airflow pools set upsell_duckdb 1 "DuckDB single writer"`).
  The dbt model tasks, which only read the build's statuses unless they fall back to
  building their model, run in `default_pool`; every dbt run (the build, a fallback) holds
  the exclusive lock `<warehouse>.dbt.lock` (`upsell-dbt`).
* **Configuration**: environment variables (`UPSELL_LANDING`, `UPSELL_WAREHOUSE`,
  `UPSELL_SERVING_DIR`, `UPSELL_BUSINESS_TZ`, `UPSELL_HEADER_MAPPINGS`, `UPSELL_EMAIL_SALT`);
  the landing folder, header mappings and salt are overridable by Airflow Variables of the
  same name in lower case (`upsell_landing` …). The others are read at parse time too
  (Asset URIs, dbt target, timetable), so they come from the environment only.
  Failure alerts go to the log, and to the Airflow connection `upsell_alerts` when it exists.
* **Postgres target** (`UPSELL_TARGET=postgres` and libpq's `PG*` variables, in the
  environment at parse and run time): after `validate_raw`, `copy_to_postgres` →
  `dbt_build` (one task: dbt build into `marts_build` with the predictive CLV step between
  its two invocations) → `validate` (the same suites on Postgres) → `publish` (schema
  `marts` replaced in one transaction). No Cosmos task per model, no report, no mart Asset
  events on this target.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, TaskGroup, dag, task

from upsell.dag_support import POOL, dbt_task_group, email_salt, mart_assets, notify_failure, runtime_settings
from upsell.target import selected_target

TZ = os.environ.get("UPSELL_BUSINESS_TZ", "Asia/Tokyo")
SCHEDULE = os.environ.get("UPSELL_SCHEDULE", "0 2 * * *")
SOURCES = ["crm", "billing", "email", "plan"]
# where the marts are built (read at parse time: it changes the tasks): duckdb or postgres
TARGET = selected_target()

default_args = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": notify_failure,
}


def postgres_build(run, after):
    """The Postgres target (``UPSELL_TARGET=postgres``): ``copy_to_postgres`` (each file load of
    the DuckDB ledger Postgres lacks, one transaction per file) → ``dbt_build`` (dbt build into
    schema marts_build, the predictive CLV step between its two invocations, see
    ``upsell.pipeline.build``). One task for the build rather than Cosmos' task per model."""

    @task(pool=POOL)
    def copy_to_postgres() -> dict:
        from upsell.pg_load import copy_to_postgres as copy
        from upsell.tasks import warehouse_path

        runtime_settings()
        res = copy(warehouse_path())
        return {"file_loads": len(res.loads), "rows_loaded": res.rows_loaded,
                "rows_quarantined": res.rows_quarantined, "already_present": res.already_present}

    @task(pool=POOL, retries=1)
    def dbt_build(info: dict) -> dict:
        from datetime import date

        from upsell.pipeline import build
        from upsell.tasks import business_tz, warehouse_path

        runtime_settings()
        res = build(warehouse_path(), date.fromisoformat(info["as_of"]), business_tz(), target="postgres")
        return res.counts

    copied = copy_to_postgres()
    after >> copied
    built = dbt_build(run)
    copied >> built
    return built


@task(task_id="publish", pool=POOL)
def publish_postgres(info: dict) -> dict:
    """Replace schema marts with the validated marts_build tables in one transaction."""
    from datetime import date

    from upsell.pg_publish import publish_postgres as do_publish

    runtime_settings()
    res = do_publish(info["run_id"], date.fromisoformat(info["as_of"]))
    return {"schema": res.schema, "rows": res.rows}


@dag(
    dag_id="upsell_nightly",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone=TZ),
    start_date=pendulum.datetime(2023, 4, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["upsell", "warehouse", "nightly", "duckdb", "dbt", "great_expectations"],
    doc_md=__doc__,
    params={"as_of": Param(None, type=["null", "string"],
                           description="override the as-of date (YYYY-MM-DD) on a manual run")},
    user_defined_macros={"upsell_email_salt": email_salt},
)
def upsell_nightly():
    @task
    def resolve_as_of(params=None, data_interval_end=None, logical_date=None, dag_run=None, run_id=None) -> dict:
        """The business date this run computes, derived from the run's dates (never now()).

        Scheduled and backfill runs: the end of the data interval. A manual run: its logical
        date (`airflow dags trigger --logical-date`, `airflow dags test <date>`), else the time
        it was triggered (``run_after``); Airflow infers a manual run's data interval from the
        trigger time, not from the logical date given, so the interval is not used for it.
        The ``as_of`` param overrides all of them."""
        from upsell.tasks import as_of_for

        override = (params or {}).get("as_of")
        run_after = getattr(dag_run, "run_after", None)
        if "manual" in str(getattr(dag_run, "run_type", "")):
            end = logical_date or run_after
        else:
            end = data_interval_end or logical_date or run_after
        as_of = override or as_of_for(end, TZ).isoformat()
        return {"as_of": as_of, "run_id": run_id}

    @task(pool=POOL)
    def discover() -> dict:
        """New (not yet loaded) export files per source system, for the log and XCom."""
        from upsell.tasks import landing_dir, new_files, warehouse_path

        runtime_settings()
        found = new_files(landing_dir(), warehouse_path())
        return {source: len(files) for source, files in found.items()}

    run = resolve_as_of()
    found = discover()
    run >> found

    with TaskGroup(group_id="ingest", tooltip="load each source system's new files into raw") as ingest:
        for source in SOURCES:

            @task(task_id=source, pool=POOL)
            def ingest_source(info: dict, source: str = source) -> dict:
                from upsell.tasks import ingest_source as load

                runtime_settings()
                return load(source, info["run_id"])

            ingest_source(run)
    found >> ingest

    @task(pool=POOL, retries=0)
    def validate_raw(info: dict) -> dict:
        """Great Expectations on the rows this run loaded: bad raw data stops before dbt."""
        from upsell.tasks import gate

        runtime_settings()
        return gate("raw", info)

    raw_checked = validate_raw(run)
    ingest >> raw_checked
    if TARGET == "postgres":
        dbt = postgres_build(run, after=raw_checked)
    else:
        dbt = dbt_task_group(as_of="{{ ti.xcom_pull(task_ids='resolve_as_of')['as_of'] }}")
        raw_checked >> dbt

    @task(pool=POOL, retries=0)
    def validate(info: dict) -> dict:
        """Great Expectations on keys after dedupe and on every mart: error level blocks publish."""
        from upsell.tasks import gate

        runtime_settings()
        return gate("marts", info)

    @task(pool=POOL, outlets=mart_assets())
    def publish(info: dict) -> dict:
        """Atomically replace the served marts; each mart's Asset gets an event."""
        from datetime import date

        from upsell.publish import publish as do_publish
        from upsell.tasks import warehouse_path

        runtime_settings()
        res = do_publish(warehouse_path(), info["run_id"], date.fromisoformat(info["as_of"]))
        return {"serving_file": str(res.serving_file), "rows": res.rows}

    @task(trigger_rule="all_done")
    def data_docs(checked: dict | None = None) -> str:
        """Where the night's Data Docs are (built by validate, also when it failed)."""
        from upsell.tasks import warehouse_path
        from upsell.validate.context import data_docs_index

        runtime_settings()
        path = data_docs_index(Path(warehouse_path()))
        print(f"Data Docs: file://{path}")
        return str(path)

    @task(retries=1)
    def report(published: dict) -> str:
        """The managers' nightly HTML report (PDCA, KPIs, CPM/RFM, sales list), built from the
        file just published. Reads the serving file only: no warehouse pool slot needed."""
        from upsell.report import build_report

        runtime_settings()
        res = build_report(Path(published["serving_file"]).parent)
        print(f"Report: file://{res.path} (latest: file://{res.latest})")
        return str(res.path)

    checked = validate(run)
    dbt >> checked
    if TARGET == "postgres":
        # the report reads the served DuckDB file, which the Postgres target does not write
        checked >> publish_postgres(run)
    else:
        published = publish(run)
        checked >> published
        report(published)
    # beside publish, not after it: an all_done leaf would mark a run whose validation
    # failed (publish upstream_failed) as successful; publish and report decide the run's state
    checked >> data_docs()


upsell_nightly()
