"""Ingestion throughput vs DuckDB's bare ``read_csv`` on the same email-event files.

Each contender runs in its own subprocess (fresh DuckDB file, peak RSS measured by the OS)
and the two alternate, several rounds, so machine noise hits both alike; the report gives
the median ratio. Usage: ``python -m upsell.bench.ingest --scale M --out bench-data``.
"""

from __future__ import annotations

import argparse
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
import sys, time, duckdb
files, db = sys.argv[1].split(","), sys.argv[2]
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
# type auto-detection per file; the sample's bad rows are skipped (DuckDB cannot record
# rejects together with union_by_name), so the floor does less work than we do
con.execute("CREATE TABLE email_events AS SELECT * FROM read_csv($files, union_by_name = true, "
            "ignore_errors = true)", {"files": files})
rows = con.execute("SELECT count(*) FROM email_events").fetchone()[0]
before_close = time.perf_counter() - t
# closing checkpoints the file, as ``ingest()`` does before it returns: both timings end
# with the rows in the file
con.close()
print(rows, time.perf_counter() - t, before_close)
"""

OURS = """
import sys, time
from upsell.ingest import ingest
landing, db = sys.argv[1], sys.argv[2]
t = time.perf_counter()
result = ingest(landing, db)
print(result.total("rows_read"), time.perf_counter() - t)
"""


def _child_peak(code: str, *args: str) -> tuple[int, float, float, float | None]:
    """Rows, seconds, peak RSS (GiB) and, when the child reports it, seconds before its
    close; through a fresh grandparent per measurement for /usr/bin/time-like accounting."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True)\n"
        "print(p.stdout.strip().splitlines()[-1], resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-c", code, *args],
                          capture_output=True, text=True, check=True)
    rows, seconds, *before_close, peak_kib = proc.stdout.strip().splitlines()[-1].split()
    return int(rows), float(seconds), int(peak_kib) / 2**20, float(before_close[0]) if before_close else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench-data"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    data = args.out / args.scale
    if not (data / "MANIFEST.json").exists():
        from upsell.generate import generate

        print(f"generating scale {args.scale} into {data} ...", flush=True)
        generate(data, args.scale, args.seed)
    files = sorted((data / "email").glob("email_events*.csv*"))
    if not files:
        raise SystemExit(f"no email_events CSV files under {data / 'email'}")
    size = sum(f.stat().st_size for f in files)
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.out))
    landing = work / "landing"
    (landing / "email").mkdir(parents=True)
    for f in files:
        os.symlink(f.resolve(), landing / "email" / f.name)
    results: dict[str, list[tuple[int, float, float, float | None]]] = {"bare": [], "ours": []}
    try:
        for r in range(args.rounds):
            order = ["bare", "ours"] if r % 2 == 0 else ["ours", "bare"]
            for name in order:
                db = work / f"{name}-{r}.duckdb"
                if name == "bare":
                    res = _child_peak(BARE, ",".join(str(f) for f in files), str(db))
                else:
                    res = _child_peak(OURS, str(landing), str(db))
                results[name].append(res)
                print(f"round {r + 1} {name}: {res[0]:,} rows in {res[1]:.2f} s, peak RSS {res[2]:.2f} GiB",
                      flush=True)
                db.unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = results["ours"][0][0]
    ratios = [b[1] / o[1] for b, o in zip(results["bare"], results["ours"], strict=True)]
    # the floor as measured until the sixteenth round: its close (checkpoint) not timed,
    # while ours always included its own (docs/benchmarks.md, seventeenth round)
    open_ratios = [b[3] / o[1] for b, o in zip(results["bare"], results["ours"], strict=True)]
    report = {
        "scale": args.scale, "files": len(files), "bytes": size, "rows": rows,
        "bare_seconds": [round(x[1], 2) for x in results["bare"]],
        "bare_seconds_before_close": [round(x[3], 2) for x in results["bare"]],
        "ours_seconds": [round(x[1], 2) for x in results["ours"]],
        "throughput_ratio_median": round(statistics.median(ratios), 3),
        "throughput_ratio_median_bare_before_close": round(statistics.median(open_ratios), 3),
        "ours_peak_rss_gib": round(max(x[2] for x in results["ours"]), 2),
        "bare_peak_rss_gib": round(max(x[2] for x in results["bare"]), 2),
        "when": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(report, indent=2))
    print(f"\n| scale | files | MB | rows | bare read_csv s (median) | ours s (median) | "
          f"ours/bare throughput | peak RSS ours / bare GiB |\n|---|---|---|---|---|---|---|---|\n"
          f"| {args.scale} | {len(files)} | {size / 1e6:,.0f} | {rows:,} | "
          f"{statistics.median(report['bare_seconds']):.2f} | {statistics.median(report['ours_seconds']):.2f} | "
          f"{report['throughput_ratio_median']:.2f}× | "
          f"{report['ours_peak_rss_gib']:.2f} / {report['bare_peak_rss_gib']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
