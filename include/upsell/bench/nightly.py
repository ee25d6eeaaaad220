"""The nightly job at scale: a full first run and an incremental next night vs bare ``read_csv``.

Measured in one invocation, each contender in its own fresh process (``upsell.bench.jobs``;
peak RSS of the process tree, per stage and overall):

1. **bare**: DuckDB ``read_csv`` of every CSV input of the landing folder (one CTAS per
   dataset, ``union_by_name``, errors skipped; the few JSONL/Parquet inputs with
   ``read_json``/``read_parquet``) into a fresh file — the floor. Measured before and after
   the runs; the median is used.
2. **full**: the nightly job from an empty warehouse (imports, ingest, raw validation, dbt
   build, marts validation, publish, the managers' report, as ``upsell run``), per-stage times.
3. **incremental**: the generator's next day of files (``upsell.generate.increment``) added
   to a second landing folder (the same inputs plus those), then the nightly job for the
   next as-of date on the same warehouse.

Then (``--verify``, not timed) a copy of the warehouse is rebuilt with ``--full-refresh`` and
every mart is compared row by row with the incremental result.

Usage: ``python -m upsell.bench.nightly --scale M --out bench-data``. The base as-of date is
2026-11-01: the M sample's deals export carries six deals closed on 2026-11-02 (JST), which
the raw gate rightly rejects for an as-of of 2026-10-31. ``upsell.bench.suite`` runs the same
contenders (:func:`run_nightly_contenders`) beside Airflow and the baselines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from upsell.bench.measure import ensure_data, input_groups, link_landing, measure

DEFAULT_AS_OF = dt.date(2026, 11, 1)
DEFAULT_MAPPINGS = Path(__file__).resolve().parents[1].parent / "mappings" / "salesforce"
BENCH_ENV = {"UPSELL_EMAIL_SALT": "bench-salt"}
STAGES = ("startup", "ingest", "validate_raw", "dbt_build", "validate_marts", "publish", "report", "total")


def warehouse_in(work: Path) -> Path:
    """The benchmark warehouse of a work folder (the full and the incremental run share it)."""
    return work / "wh" / "warehouse.duckdb"


def measure_bare(groups: dict, work: Path, tag: str) -> dict:
    """One bare-reader round into a scratch DuckDB file, deleted afterwards."""
    db = work / f"bare-{tag}.duckdb"
    try:
        return measure("bare", json.dumps(groups), str(db), log=work / f"bare-{tag}.log")
    finally:
        db.unlink(missing_ok=True)


def measure_night(landing: Path, work: Path, as_of: dt.date, mappings: Path, tag: str) -> dict:
    """One nightly run (``jobs night``) on the work folder's warehouse."""
    return measure("night", str(landing), str(warehouse_in(work)), str(as_of), str(mappings),
                   env=BENCH_ENV, log=work / f"night-{tag}.log")


def run_nightly_contenders(data: Path, work: Path, as_of: dt.date, mappings: Path, seed: int) -> dict:
    """bare, full, incremental (next day), bare again; every result in one dict.

    The full run reads ``<work>/landing`` (symlinks to ``data``), the incremental run
    ``<work>/landing-next`` (the same plus the next day's files), so ``<work>/landing`` stays
    the base night for contenders run afterwards.
    """
    from upsell.generate.increment import generate_next_day

    landing = link_landing(data, work / "landing")
    groups = input_groups(landing)
    files = [f for _kind, fs in groups.values() for f in fs]
    out: dict = {"as_of": str(as_of), "input_files": len(files),
                 "input_bytes": sum(Path(f).stat().st_size for f in files), "load_average": [os.getloadavg()[0]]}
    bare = [measure_bare(groups, work, "before")]
    print(f"bare read_csv: {bare[0]['seconds']:.1f} s, {bare[0]['rows']:,} rows", flush=True)
    out["full"] = measure_night(landing, work, as_of, mappings, "full")
    print(f"full run: {out['full']['stages']}", flush=True)

    day2 = as_of + dt.timedelta(days=1)
    landing_next = link_landing(data, work / "landing-next")
    increment = generate_next_day(landing_next, day2, seed)
    out["incremental"] = {**measure_night(landing_next, work, day2, mappings, "incremental"),
                          "as_of": str(day2), "increment": increment.counts}
    print(f"incremental run: {out['incremental']['stages']}", flush=True)

    bare.append(measure_bare(groups, work, "after"))
    out["bare"] = {"seconds": [b["seconds"] for b in bare], "median_s": round(statistics.median(
        b["seconds"] for b in bare), 3), "rows": bare[0]["rows"],
        "peak_rss_gib": max(b["peak_rss_gib"] for b in bare),
        # the floor's definition until the sixteenth round (its close not timed)
        "seconds_before_close": [b["seconds_before_close"] for b in bare]}
    out["load_average"].append(os.getloadavg()[0])
    return out


def verify_full_refresh(work: Path, as_of: dt.date) -> list[str]:
    """Rebuild a copy of the warehouse with ``--full-refresh``; the marts that differ."""
    from upsell.marts_diff import diff_warehouses
    from upsell.transform import run_dbt

    warehouse = warehouse_in(work)
    copy = work / "full-refresh" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(warehouse, copy)
    os.environ.update(BENCH_ENV)
    run_dbt("run", copy, as_of, extra=["--full-refresh"])
    diffs = diff_warehouses(warehouse, copy, tables=("staging.stg_email__email_events",
                                                     "staging.stg_billing__invoices"))
    return [str(d) for d in diffs]


def print_table(report: dict) -> None:
    """The Markdown rows for docs/benchmarks.md and the two ratios against their targets."""
    print("\n| run | " + " | ".join(STAGES) + " | peak RSS GiB |\n|---|" + "---|" * (len(STAGES) + 1))
    for name in ("full", "incremental"):
        r = report[name]
        print(f"| {name} | " + " | ".join(f"{r['stages'][s]:.1f}" for s in STAGES) + f" | {r['peak_rss_gib']:.2f} |")
    bare = report["bare"]
    full_over_bare = report["full"]["stages"]["total"] / bare["median_s"]
    inc_over_full = report["incremental"]["stages"]["total"] / report["full"]["stages"]["total"]
    print(f"\nbare read_csv of all inputs: {bare['median_s']:.1f} s (rounds {bare['seconds']}); "
          f"full/bare **{full_over_bare:.2f}×** (target ≤ 5×); "
          f"incremental/full **{inc_over_full:.3f}×** (target ≤ 0.25×)")


def scale_parser(description: str | None) -> argparse.ArgumentParser:
    """The arguments every nightly benchmark takes: which generated landing, which night."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench-data"))
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--mappings", type=Path, default=DEFAULT_MAPPINGS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = scale_parser(__doc__)
    parser.add_argument("--verify", action="store_true", help="also compare the incremental marts with a full refresh")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (warehouse, logs)")
    args = parser.parse_args(argv)

    data = ensure_data(args.out, args.scale, args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-nightly-", dir=args.out))
    report: dict = {"scale": args.scale, "when": time.strftime("%Y-%m-%d")}
    try:
        report |= run_nightly_contenders(data, work, args.as_of, args.mappings, args.seed)
        if args.verify:
            report["verify_diffs"] = verify_full_refresh(work, args.as_of + dt.timedelta(days=1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
