"""Old code against new on what reads ``mrr_movements`` after a night: its three nightly data
tests and publish's copy of the marts.

Two checkouts (``git worktree add``), each timed in fresh processes, alternating, on one
copy of a warehouse kept by ``upsell.bench.nightly --keep`` after its incremental night.
The copy gets the rewrite log that night's build writes (``audit.mrr_movements_rewrites``:
every account's months from the month of the previous as-of date on; the bench's next day
changes no subscription, so no account whole); the old code ignores it. Per round and
checkout: ``dbt test`` of the three tests (wall, their node seconds, CPU of the dbt
process), then ``stage_publish`` + ``commit`` into the checkout's own serving folder (wall,
CPU), after one untimed publish of each; before each new-code publish one more build is
logged, as a night would.

Usage::

    python -m upsell.bench.mrr_rewrites --old ../old --new . \\
        --warehouse bench-data/bench-nightly-*/wh/warehouse.duckdb --as-of 2026-11-02 \\
        --rewritten-from 2026-11-01 --out bench-data/mrr-rewrites --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

LOG = "audit.mrr_movements_rewrites"
TESTS = ["mrr_movements", "kpi_mrr_movements_consistent"]


def _python(code: Path, script: str, env: dict) -> str:
    return subprocess.run([sys.executable, "-c", script], env={**env, "PYTHONPATH": str(code / "include")},
                          check=True, capture_output=True, text=True).stdout


def log_build(warehouse: Path, rewritten_from: str | None, env: dict, code: Path) -> None:
    """Append a build to the warehouse's rewrite log, as the model's pre-hook does."""
    since = f"DATE '{rewritten_from}'" if rewritten_from else "NULL"
    _python(code, f"""
import duckdb
con = duckdb.connect({str(warehouse)!r})
con.execute("CREATE SCHEMA IF NOT EXISTS audit")
con.execute("CREATE TABLE IF NOT EXISTS {LOG} (batch_no INTEGER NOT NULL, batch_id VARCHAR NOT NULL, "
            "rewritten_from DATE, account_id VARCHAR)")
con.execute("INSERT INTO {LOG} SELECT coalesce(max(batch_no), 0) + 1, 'bench-' || (coalesce(max(batch_no), 0) + 1), "
            "{since}, NULL FROM {LOG}")
con.close()""", env)


def dbt_tests(code: Path, out: Path, env: dict) -> dict:
    target = out / f"target-{code.resolve().name}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("dbt")), "test", "--select", *TESTS, "--resource-type", "test",
                    "--project-dir", str(code / "dbt_project"), "--profiles-dir", str(code / "dbt_project"),
                    "--target-path", str(target), "--log-path", str(out / "logs"), "--threads", "1"],
                   env={**env, "PYTHONPATH": str(code / "include")}, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    results = json.loads((target / "run_results.json").read_text())["results"]
    if len(results) != 3 or any(r["status"] != "pass" for r in results):
        raise RuntimeError(f"expected 3 passing tests: {[(r['unique_id'], r['status']) for r in results]}")
    return {"wall_s": wall, "node_s": sum(r["execution_time"] for r in results),
            "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


def publish(code: Path, warehouse: Path, serving: Path, as_of: str, env: dict) -> dict:
    out = _python(code, f"""
import resource, time
from datetime import date
from pathlib import Path
from upsell.publish import stage_publish
started = time.perf_counter()
stage_publish(Path({str(warehouse)!r}), "bench", date.fromisoformat({as_of!r}), Path({str(serving)!r})).commit()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime)""", env)
    wall, cpu = map(float, out.split()[-2:])
    return {"wall_s": wall, "cpu_s": cpu}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--rewritten-from", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    warehouse = args.out / "warehouse.duckdb"
    shutil.copy(args.warehouse, warehouse)
    env = {**os.environ, "UPSELL_WAREHOUSE": str(warehouse), "UPSELL_AS_OF": args.as_of,
           "UPSELL_EMAIL_SALT": os.environ.get("UPSELL_EMAIL_SALT", "bench")}
    log_build(warehouse, None, env, args.new)  # the full night
    log_build(warehouse, args.rewritten_from, env, args.new)  # the incremental night
    codes = {"old": args.old, "new": args.new}
    servings = {name: args.out / f"serving-{name}" for name in codes}
    for name, code in codes.items():  # untimed: dbt's parse, a first publish (a served file exists)
        dbt_tests(code, args.out, env)
        publish(code, warehouse, servings[name], args.as_of, env)
    results: dict[str, list] = {name: [] for name in codes}
    for round_no in range(args.rounds):
        for name in (("old", "new") if round_no % 2 == 0 else ("new", "old")):
            if name == "new":
                log_build(warehouse, args.rewritten_from, env, args.new)
            row = {"tests": dbt_tests(codes[name], args.out, env),
                   "publish": publish(codes[name], warehouse, servings[name], args.as_of, env)}
            results[name].append(row)
            print(name, json.dumps(row), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    for name, rows in results.items():
        for part in ("tests", "publish"):
            print(name, part, {k: [round(r[part][k], 2) for r in rows] for k in rows[0][part]})


if __name__ == "__main__":
    main()
