"""Ingestion vs DuckDB's bare readers, one dataset at a time.

The suite compares ingestion with the bare readers over a whole landing folder, where the
ratio is a mix of datasets; this splits it: for each dataset (its files as the suite groups
them), our ``ingest`` of those files alone and the bare readers of the same files, each in a
fresh process (``upsell.bench.jobs`` ``bare`` and ``ingest``), wall and CPU seconds of the
process (user + system, its interpreter's start included: negligible at M and L, most of it
at S) and rows. Both keep both cores busy, so the CPU per row says where the night's
ingestion falls behind.
Usage: ``python -m upsell.bench.ingest_datasets --scale L --out bench-data [--datasets email_events,invoices]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from upsell.bench.measure import ensure_data, input_groups, measure
from upsell.bench.nightly import DEFAULT_MAPPINGS


@dataclass
class Run:
    rows: int
    seconds: float
    cpu_seconds: float


@dataclass
class DatasetResult:
    group: str
    files: int
    bare: Run
    ours: Run


def measure_group(group: str, kind: str, files: list[str], work: Path, mappings: Path) -> DatasetResult:
    """Bare readers, then ours, on the group's files (a landing folder of symlinks to them)."""
    landing = work / group / "landing"
    for f in map(Path, files):
        (landing / f.parent.name).mkdir(parents=True, exist_ok=True)
        os.symlink(f, landing / f.parent.name / f.name)
    bare = measure("bare", json.dumps({group: (kind, files)}), str(work / group / "bare.duckdb"),
                   log=work / group / "bare.log")
    ours = measure("ingest", str(landing), str(work / group / "ours.duckdb"), str(mappings),
                   log=work / group / "ours.log")
    return DatasetResult(group, len(files), *(Run(m["rows"], m["wall_s"], m["cpu_s"]) for m in (bare, ours)))


def render(results: list[DatasetResult]) -> str:
    """A Markdown table, the datasets with the most CPU of ours first, and the totals."""
    lines = ["| dataset | files | bare rows | bare s (CPU s) | our rows | our s (CPU s) | "
             "CPU µs per row, bare / ours |", "|---|---:|---:|---:|---:|---:|---:|"]
    ordered = sorted(results, key=lambda r: -r.ours.cpu_seconds)
    for r in [*ordered, _total(results)]:
        per_row = (f"{1e6 * r.bare.cpu_seconds / r.bare.rows:.2f} / {1e6 * r.ours.cpu_seconds / r.ours.rows:.2f}"
                   if r.bare.rows and r.ours.rows else "-")
        lines.append(f"| {r.group} | {r.files} | {r.bare.rows:,} | {r.bare.seconds:.1f} ({r.bare.cpu_seconds:.1f}) | "
                     f"{r.ours.rows:,} | {r.ours.seconds:.1f} ({r.ours.cpu_seconds:.1f}) | {per_row} |")
    return "\n".join(lines)


def _total(results: list[DatasetResult]) -> DatasetResult:
    def add(runs: list[Run]) -> Run:
        return Run(sum(r.rows for r in runs), sum(r.seconds for r in runs), sum(r.cpu_seconds for r in runs))

    return DatasetResult("**total**", sum(r.files for r in results), add([r.bare for r in results]),
                         add([r.ours for r in results]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench-data"))
    parser.add_argument("--mappings", type=Path, default=DEFAULT_MAPPINGS)
    parser.add_argument("--datasets", help="comma-separated dataset names (default: all)")
    args = parser.parse_args(argv)

    wanted = set(args.datasets.split(",")) if args.datasets else None
    data = ensure_data(args.out, args.scale, args.seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-datasets-", dir=args.out) as work:
        for group, (kind, files) in input_groups(data).items():
            if wanted and group.rsplit("_", 1)[0] not in wanted:
                continue
            results.append(measure_group(group, kind, files, Path(work), args.mappings))
            r = results[-1]
            print(f"{group}: bare {r.bare.seconds:.1f} s, ours {r.ours.seconds:.1f} s", flush=True)
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
