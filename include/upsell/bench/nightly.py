"""The nightly job at scale: a full first run and an incremental next night vs bare ``read_csv``.

Measured in one invocation, each contender in its own fresh process (peak RSS from the OS):

1. **bare**: DuckDB ``read_csv`` of every CSV input of the landing folder (one CTAS per
   dataset, ``union_by_name``, errors skipped; the few JSONL/Parquet inputs with
   ``read_json``/``read_parquet``) into a fresh file — the floor. Measured before and after
   the runs; the median is used.
2. **full**: the nightly job from an empty warehouse (ingest, raw validation, dbt build,
   marts validation, publish), per-stage times.
3. **incremental**: the generator's next day of files (``upsell.generate.increment``) added
   to the landing folder, then the nightly job for the next as-of date on the same warehouse.

Then (``--verify``, not timed) a copy of the warehouse is rebuilt with ``--full-refresh`` and
every mart is compared row by row with the incremental result.

Usage: ``python -m upsell.bench.nightly --scale M --out bench-data``. The base as-of date is
2026-11-01: the M sample's deals export carries six deals closed on 2026-11-02 (JST), which
the raw gate rightly rejects for an as-of of 2026-10-31.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
import json, sys, time, duckdb
groups, db = json.loads(sys.argv[1]), sys.argv[2]
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
rows = 0
for name, (kind, files) in groups.items():
    reader = {"csv": "read_csv($files, union_by_name = true, ignore_errors = true)",
              "json": "read_json($files, union_by_name = true)",
              "parquet": "read_parquet($files, union_by_name = true)"}[kind]
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM {reader}", {"files": files})
    rows += con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t}))
"""

NIGHT = """
import json, logging, sys, time
from datetime import date
from pathlib import Path
from upsell.ingest import ingest
from upsell.pipeline import build, check
from upsell.publish import publish
from upsell.validate import validate_marts, validate_raw
from upsell.validate.context import quiet_gx_logging
logging.basicConfig(level=logging.WARNING)
quiet_gx_logging()
landing, wh, as_of, mappings = Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3]), sys.argv[4]
run_id = f"bench__{as_of}"
stages = {}
t = t0 = time.perf_counter()
def lap(name):
    global t
    now = time.perf_counter(); stages[name] = round(now - t, 2); t = now
res = ingest(landing, wh, run_id, mapping_dirs=[Path(mappings)]); lap("ingest")
reports = [validate_raw(wh, run_id, as_of)]; check(reports); lap("validate_raw")
dbt = build(wh, as_of); lap("dbt_build")
reports.append(validate_marts(wh, run_id, as_of)); check(reports); lap("validate_marts")
publish(wh, run_id, as_of); lap("publish")
stages["total"] = round(time.perf_counter() - t0, 2)
print(json.dumps({"stages": stages, "rows_loaded": res.total("rows_loaded"), "dbt": dbt.counts}))
"""

WRAPPER = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "if p.returncode: sys.exit(p.stdout[-4000:] + p.stderr[-4000:])\n"
    "print(p.stdout.strip().splitlines()[-1])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _measure(code: str, *args: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; its JSON result plus the peak RSS of the process tree
    (the largest single process, dbt's child included)."""
    proc = subprocess.run([sys.executable, "-c", WRAPPER, sys.executable, "-c", code, *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode:
        raise SystemExit(f"benchmark step failed:\n{proc.stderr[-6000:]}")
    result_line, peak_kib = proc.stdout.strip().splitlines()[-2:]
    return {**json.loads(result_line), "peak_rss_gib": round(int(peak_kib) / 2**20, 2)}


def _input_groups(landing: Path) -> dict[str, tuple[str, list[str]]]:
    """Every input file of the landing folder, grouped by dataset and reader."""
    from upsell.discover import discover

    groups: dict[str, tuple[str, list[str]]] = {}
    files, _ignored = discover(landing)
    for lf in files:
        if lf.format == "xlsx":
            continue
        kind = "parquet" if lf.format == "parquet" else "json" if lf.format.startswith("json") else "csv"
        name = f"{lf.dataset}_{kind}"
        groups.setdefault(name, (kind, []))[1].append(str(lf.path.resolve()))
    return groups


def _dbt_top_models(warehouse: Path, n: int = 8) -> list[tuple[str, float]]:
    """The slowest dbt nodes of the last build (run_results.json beside the warehouse)."""
    path = warehouse.parent / "dbt" / "target" / "run_results.json"
    results = json.loads(path.read_text())["results"]
    timed = sorted(((r["unique_id"].split(".", 2)[-1], r["execution_time"]) for r in results),
                   key=lambda x: -x[1])
    return [(name, round(secs, 2)) for name, secs in timed[:n]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench-data"))
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 1))
    parser.add_argument("--mappings", type=Path,
                        default=Path(__file__).resolve().parents[1].parent / "mappings" / "salesforce")
    parser.add_argument("--verify", action="store_true", help="also compare the incremental marts with a full refresh")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (warehouse, logs)")
    args = parser.parse_args(argv)

    from upsell.generate.increment import generate_next_day

    data = args.out / args.scale
    if not (data / "MANIFEST.json").exists():
        from upsell.generate import generate

        print(f"generating scale {args.scale} into {data} ...", flush=True)
        generate(data, args.scale, args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-nightly-", dir=args.out))
    landing = work / "landing"
    for f in sorted(data.rglob("*")):
        if f.is_file() and f.parent != data:
            (landing / f.parent.name).mkdir(parents=True, exist_ok=True)
            os.symlink(f.resolve(), landing / f.parent.name / f.name)
    warehouse = work / "wh" / "warehouse.duckdb"
    env = {"UPSELL_EMAIL_SALT": "bench-salt"}
    day2 = args.as_of + dt.timedelta(days=1)
    report: dict = {"scale": args.scale, "as_of": str(args.as_of), "when": time.strftime("%Y-%m-%d"),
                    "load_average_start": os.getloadavg()[0]}
    try:
        groups = _input_groups(landing)
        report["input_bytes"] = sum(Path(f).stat().st_size for _, files in groups.values() for f in files)
        bare = [_measure(BARE, json.dumps(groups), str(work / "bare-1.duckdb"))]
        (work / "bare-1.duckdb").unlink()
        print(f"bare read_csv: {bare[0]['seconds']:.1f} s, {bare[0]['rows']:,} rows", flush=True)

        full = _measure(NIGHT, str(landing), str(warehouse), str(args.as_of), str(args.mappings), env=env)
        full["top_models"] = _dbt_top_models(warehouse)
        print(f"full run: {full['stages']}", flush=True)

        inc_files = generate_next_day(landing, day2, args.seed)
        report["increment"] = inc_files.counts
        incr = _measure(NIGHT, str(landing), str(warehouse), str(day2), str(args.mappings), env=env)
        incr["top_models"] = _dbt_top_models(warehouse)
        print(f"incremental run: {incr['stages']}", flush=True)

        bare.append(_measure(BARE, json.dumps(groups), str(work / "bare-2.duckdb")))
        (work / "bare-2.duckdb").unlink()
        bare_s = statistics.median(b["seconds"] for b in bare)
        report |= {
            "bare_seconds": [round(b["seconds"], 2) for b in bare], "bare_rows": bare[0]["rows"],
            "bare_peak_rss_gib": max(b["peak_rss_gib"] for b in bare),
            "full": full, "incremental": incr,
            "full_over_bare": round(full["stages"]["total"] / bare_s, 2),
            "incremental_over_full": round(incr["stages"]["total"] / full["stages"]["total"], 3),
            "load_average_end": os.getloadavg()[0],
        }
        if args.verify:
            from upsell.marts_diff import diff_warehouses
            from upsell.transform import run_dbt

            copy = work / "full-refresh" / "warehouse.duckdb"
            copy.parent.mkdir()
            shutil.copy(warehouse, copy)
            os.environ.update(env)
            run_dbt("run", copy, day2, extra=["--full-refresh"])
            diffs = diff_warehouses(warehouse, copy, tables=("staging.stg_email__email_events",
                                                             "staging.stg_billing__invoices"))
            report["verify_diffs"] = [str(d) for d in diffs]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    stages = ("ingest", "validate_raw", "dbt_build", "validate_marts", "publish", "total")
    print("\n| run | " + " | ".join(stages) + " | peak RSS GiB |\n|---|" + "---|" * (len(stages) + 1))
    for name, r in (("full", full), ("incremental", incr)):
        print(f"| {name} | " + " | ".join(f"{r['stages'][s]:.1f}" for s in stages) + f" | {r['peak_rss_gib']:.2f} |")
    print(f"\nbare read_csv of all inputs: {bare_s:.1f} s (rounds {report['bare_seconds']}); "
          f"full/bare **{report['full_over_bare']:.2f}×** (target ≤ 5×); "
          f"incremental/full **{report['incremental_over_full']:.3f}×** (target ≤ 0.25×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
