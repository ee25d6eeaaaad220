"""DuckDB vs Postgres target: ingestion and ``dbt build`` timings side by side.

Both targets start from nothing (fresh DuckDB files, a throw-away Postgres database) and
run the same landing folder for the same as-of date. Ingestion on the Postgres target is
the DuckDB ingestion plus the copy of each file load to Postgres, timed separately. Rounds
alternate DuckDB / Postgres so that load on a shared host hits both alike; the medians are
printed as a Markdown table for ``docs/benchmarks.md``.

Usage: ``python -m upsell.bench.targets --landing include/sample --mappings
include/mappings/salesforce --rounds 3`` (Postgres from PGHOST/PGPORT/PGUSER; the database
``--pg-database``, default ``upsell_bench_<random>``, is created and dropped).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from upsell.bench.measure import StageClock


def pg_admin():
    """An autocommit connection to the server's ``postgres`` database (libpq's PG* variables)."""
    import psycopg2

    con = psycopg2.connect(host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "5432"),
                           user=os.environ.get("PGUSER", "postgres"), dbname="postgres")
    con.autocommit = True
    return con


def recreate_database(dbname: str, drop_only: bool = False) -> None:
    """Drop ``dbname`` (even with sessions left open) and, unless ``drop_only``, create it empty."""
    admin = pg_admin()
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            if not drop_only:
                cur.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        admin.close()


@contextlib.contextmanager
def throwaway_database(prefix: str = "upsell_bench") -> Iterator[str]:
    """A fresh database ``<prefix>_<random>`` for the block, dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    recreate_database(name)
    try:
        yield name
    finally:
        recreate_database(name, drop_only=True)


def target_round(target: str, landing: Path, mappings: list[Path], as_of: date, work: Path, dbname: str,
                 clock: StageClock | None = None) -> dict:
    """One contender from nothing: DuckDB ingestion, then (postgres) a fresh ``dbname`` and the
    copy of the file loads to it, then ``dbt build`` on ``target``. Seconds per stage (ingest,
    copy, dbt) and rows read; ``clock`` may carry an RSS sampler for per-stage peaks."""
    from upsell.ingest import ingest
    from upsell.pg_load import copy_to_postgres
    from upsell.pipeline import build

    clock = clock or StageClock()
    warehouse = work / target / "warehouse.duckdb"
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    with clock.stage("ingest"):
        result = ingest(landing, warehouse, "bench", mapping_dirs=mappings)
    if target == "postgres":
        recreate_database(dbname)
        os.environ["PGDATABASE"] = dbname
        with clock.stage("copy"):
            copy_to_postgres(warehouse)
    with clock.stage("dbt"):
        build(warehouse, as_of, target=target)
    return {**clock.seconds, "rows": result.total("rows_read")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--landing", type=Path, default=Path("include/sample"))
    parser.add_argument("--mappings", type=Path, action="append", default=None)
    parser.add_argument("--as-of", default="2026-10-31")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg-database", default=f"upsell_bench_{secrets.token_hex(4)}")
    args = parser.parse_args(argv)
    os.environ.setdefault("UPSELL_EMAIL_SALT", "bench-salt")
    as_of = date.fromisoformat(args.as_of)
    work = Path(tempfile.mkdtemp(prefix="upsell-bench-targets-"))
    runs: dict[str, list[dict]] = {"duckdb": [], "postgres": []}
    try:
        for n in range(args.rounds):
            for target in ("duckdb", "postgres"):
                res = target_round(target, args.landing, args.mappings or [], as_of, work, args.pg_database)
                runs[target].append(res)
                print(f"round {n + 1} {target}: " + ", ".join(f"{k} {v:.1f}" for k, v in res.items()), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        recreate_database(args.pg_database, drop_only=True)

    def med(target: str, key: str) -> float:
        return statistics.median(r.get(key, 0.0) for r in runs[target])

    rows = int(runs["duckdb"][0]["rows"])
    print(f"\n{rows:,} rows read, median of {args.rounds} round(s), seconds\n")
    print("| step | DuckDB | Postgres |\n|---|---:|---:|")
    print(f"| ingest (parse, type, quarantine, audit in DuckDB) | {med('duckdb', 'ingest'):.1f} "
          f"| {med('postgres', 'ingest'):.1f} |")
    print(f"| copy file loads to Postgres | - | {med('postgres', 'copy'):.1f} |")
    print(f"| dbt build (models, data tests, unit tests) | {med('duckdb', 'dbt'):.1f} | {med('postgres', 'dbt'):.1f} |")
    total = {t: med(t, "ingest") + med(t, "copy") + med(t, "dbt") for t in runs}
    print(f"| total | {total['duckdb']:.1f} | {total['postgres']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
