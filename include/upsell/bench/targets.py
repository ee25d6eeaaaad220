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
import os
import secrets
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path


def _admin():
    import psycopg2

    con = psycopg2.connect(host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "5432"),
                           user=os.environ.get("PGUSER", "postgres"), dbname="postgres")
    con.autocommit = True
    return con


def _round(target: str, landing: Path, mappings: list[Path], as_of: date, work: Path, dbname: str) -> dict:
    from upsell.ingest import ingest
    from upsell.pg_load import copy_to_postgres
    from upsell.pipeline import build

    warehouse = work / target / "warehouse.duckdb"
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    out: dict[str, float] = {}
    t = time.perf_counter()
    result = ingest(landing, warehouse, "bench", mapping_dirs=mappings)
    out["ingest"] = time.perf_counter() - t
    out["rows"] = result.total("rows_read")
    if target == "postgres":
        admin = _admin()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{dbname}"')
        admin.close()
        os.environ["PGDATABASE"] = dbname
        t = time.perf_counter()
        copy_to_postgres(warehouse)
        out["copy"] = time.perf_counter() - t
    t = time.perf_counter()
    build(warehouse, as_of, target=target)
    out["dbt"] = time.perf_counter() - t
    return out


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
                res = _round(target, args.landing, args.mappings or [], as_of, work, args.pg_database)
                runs[target].append(res)
                print(f"round {n + 1} {target}: " + ", ".join(f"{k} {v:.1f}" for k, v in res.items()), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        admin = _admin()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{args.pg_database}" WITH (FORCE)')
        admin.close()

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
