"""The benchmark contenders, one per fresh process: ``python -m upsell.bench.jobs <job> ...``.

Each job prints one JSON line last (what ``upsell.bench.measure.measure`` reads); the
heavy imports happen inside the job, so the time to import the pipeline is part of the
contender's wall time as in a real nightly process.

* ``bare GROUPS_JSON DB``: DuckDB ``read_csv`` / ``read_json`` / ``read_parquet`` of every
  input into a fresh file (one CTAS per dataset and reader), the floor for ingestion.
* ``ingest LANDING WAREHOUSE MAPPINGS``: the night's ingestion alone (what the bare readers
  are compared with, dataset by dataset: ``upsell.bench.ingest_datasets``).
* ``night LANDING WAREHOUSE AS_OF MAPPINGS``: the nightly job as ``upsell run`` runs it:
  ingest, raw gate, dbt build, marts gate, publish, report; per-stage seconds and RSS.
* ``pg-target LANDING WORK AS_OF MAPPINGS DBNAME``: the project on its Postgres target
  (DuckDB ingestion, copy of the file loads to Postgres, dbt build on Postgres).
* ``pandas-pg LANDING WORK AS_OF MAPPINGS DBNAME``: baseline 2 (``upsell.bench.pandas_pg``)
  followed by the dbt build on Postgres.
* ``history-checks WAREHOUSE AS_OF``: what a night spends after its build on a warehouse
  with history marts: the dbt data tests of both history marts, the marts gate, the
  publish (``upsell.bench.history``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path

from upsell.bench.measure import RssSampler, StageClock


def bare(groups_json: str, db: str) -> dict:
    """Rows and seconds of DuckDB's own readers over every input (bad rows skipped), until
    the file is closed, and the seconds before its close."""
    import duckdb

    groups = json.loads(groups_json)
    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    t = time.perf_counter()
    rows = 0
    readers = {"csv": "read_csv($files, union_by_name = true, ignore_errors = true)",
               "json": "read_json($files, union_by_name = true)",
               "parquet": "read_parquet($files, union_by_name = true)"}
    for name, (kind, files) in groups.items():
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {readers[kind]}", {"files": files})
        rows += con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    before_close = time.perf_counter() - t
    # closing checkpoints the file, as the night's ingestion does before it returns (its
    # stage includes that): both end with the rows in the file. Until the sixteenth round
    # this floor stopped before its close (docs/benchmarks.md, seventeenth round).
    con.close()
    return {"rows": rows, "seconds": round(time.perf_counter() - t, 3),
            "seconds_before_close": round(before_close, 3)}


def ingest_only(landing: Path, warehouse: Path, mappings: Path) -> dict:
    """Rows read by the night's ingestion alone (``upsell.ingest.ingest``) of a landing folder."""
    from upsell.ingest import ingest

    return {"rows": ingest(landing, warehouse, mapping_dirs=[mappings]).total("rows_read")}


def night(landing: Path, warehouse: Path, as_of: date, mappings: Path, clock: StageClock) -> dict:
    """The nightly job as ``upsell run`` runs it (``upsell.pipeline.run_nightly``), timed
    per stage by the pipeline itself. Importing the pipeline is a stage of its own, so that
    the stages add up to the total (less the milliseconds of starting the warm-ups)."""
    with clock.stage("startup"):
        from upsell.bench.dbt_timing import build_profile
        from upsell.pipeline import run_nightly
        from upsell.validate.context import quiet_gx_logging

        quiet_gx_logging()
    result = run_nightly(landing, warehouse, as_of, f"bench__{as_of}", mapping_dirs=[mappings], stage=clock.stage)
    return {"rows_read": result.ingest.total("rows_read"), "rows_loaded": result.ingest.total("rows_loaded"),
            "dbt": result.dbt.counts, "dbt_profile": build_profile(warehouse, clock.seconds["dbt_build"])}


def pg_target(landing: Path, work: Path, as_of: date, mappings: Path, dbname: str, clock: StageClock) -> dict:
    """Baseline 3: ``upsell.bench.targets.target_round`` on the Postgres target.

    No models/tests split of its dbt stage: on Postgres it is two dbt invocations (the CLV
    step between them) and run_results.json keeps only the second one's nodes."""
    from upsell.bench.targets import target_round

    out = target_round("postgres", landing, [mappings], as_of, work, dbname, clock)
    return {"rows_read": out["rows"]}


def pandas_pg(landing: Path, work: Path, as_of: date, mappings: Path, dbname: str, clock: StageClock) -> dict:
    """Baseline 2: the pandas + ``to_sql`` load, then the same dbt build on Postgres."""
    from upsell.bench.pandas_pg import load_landing
    from upsell.pipeline import build
    from upsell.transform import DbtError

    os.environ["PGDATABASE"] = dbname  # for dbt's postgres profile
    with clock.stage("load"):
        loaded = load_landing(landing, dbname, [mappings])
    warehouse = work / "pandas" / "warehouse.duckdb"  # only where dbt keeps its artifacts
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    error = None
    with clock.stage("dbt"):
        try:
            build(warehouse, as_of, target="postgres")
        except DbtError as exc:  # reported, not fatal: failing tests are the baseline's problem
            error = str(exc)[:2000]
    return {"rows_read": loaded.total("rows_read"), "rows_loaded": loaded.total("rows_loaded"),
            "rows_dropped": loaded.rows_dropped, "dropped_by_reason": loaded.dropped_by_reason(),
            "encodings": sorted({f.encoding for f in loaded.files if f.encoding}),
            "dbt_error": error}


HISTORY_MARTS = ("customer_cpm_history", "upsell_propensity_history")


def history_checks(warehouse: Path, as_of: date, clock: StageClock) -> dict:
    """The history marts' dbt data tests (``dbt test``, dbt's start-up included), the whole
    marts gate (every mart, as the night runs it; Data Docs not rendered), then the publish
    (to the serving folder beside the warehouse, as the night does)."""
    from upsell.publish import publish
    from upsell.transform import run_dbt
    from upsell.validate import validate_marts
    from upsell.validate.context import quiet_gx_logging

    quiet_gx_logging()
    with clock.stage("dbt_tests"):
        tests = run_dbt("test", warehouse, as_of, ["--select", *HISTORY_MARTS])
    with clock.stage("marts_gate"):
        report = validate_marts(warehouse, "bench-history", as_of, render_docs=False)
    with clock.stage("publish"):
        published = publish(warehouse, "bench-history", as_of)
    return {"dbt_tests": tests.counts, "gate_success": report.success, "published_rows": published.rows}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    jobs = parser.add_subparsers(dest="job", required=True)
    b = jobs.add_parser("bare")
    b.add_argument("groups_json")
    b.add_argument("db")
    i = jobs.add_parser("ingest")
    i.add_argument("landing", type=Path)
    i.add_argument("warehouse", type=Path)
    i.add_argument("mappings", type=Path)
    # night: LANDING WAREHOUSE AS_OF MAPPINGS; the Postgres jobs: LANDING WORK AS_OF MAPPINGS DBNAME
    for name, folder, db in (("night", "warehouse", False), ("pg-target", "work", True), ("pandas-pg", "work", True)):
        p = jobs.add_parser(name)
        p.add_argument("landing", type=Path)
        p.add_argument(folder, type=Path)
        p.add_argument("as_of", type=date.fromisoformat)
        p.add_argument("mappings", type=Path)
        if db:
            p.add_argument("dbname")
    h = jobs.add_parser("history-checks")
    h.add_argument("warehouse", type=Path)
    h.add_argument("as_of", type=date.fromisoformat)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("UPSELL_EMAIL_SALT", "bench-salt")
    if args.job == "bare":
        print(json.dumps(bare(args.groups_json, args.db)))
        return 0
    if args.job == "ingest":
        print(json.dumps(ingest_only(args.landing, args.warehouse, args.mappings)))
        return 0
    with RssSampler() as sampler:
        clock = StageClock(sampler)
        if args.job == "night":
            out = night(args.landing, args.warehouse, args.as_of, args.mappings, clock)
        elif args.job == "history-checks":
            out = history_checks(args.warehouse, args.as_of, clock)
        else:
            job = pg_target if args.job == "pg-target" else pandas_pg
            out = job(args.landing, args.work, args.as_of, args.mappings, args.dbname, clock)
    print(json.dumps({**clock.result(), **out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
