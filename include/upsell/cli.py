"""``upsell`` command line: run the nightly job, ingest alone, or generate sample data."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path

from upsell.ingest import DEFAULT_TZ, IngestResult


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landing", type=Path, required=True, help="landing folder with crm/ billing/ email/ plan/")
    p.add_argument("--warehouse", type=Path, required=True, help="DuckDB file (created if missing)")
    p.add_argument("--tz", default=os.environ.get("UPSELL_BUSINESS_TZ", DEFAULT_TZ),
                   help="time zone of timestamps without an offset (default Asia/Tokyo)")
    p.add_argument("--mappings", type=Path, action="append", default=None, metavar="DIR",
                   help="folder of header mapping YAMLs (crm.yml, billing.yml, ...); repeatable; "
                        "default $UPSELL_HEADER_MAPPINGS")
    p.add_argument("--strict", action="store_true",
                   help="exit non-zero when a whole file is quarantined")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="upsell", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole nightly job for one as-of date")
    _common(run)
    run.add_argument("--as-of", type=_date, required=True, help="business date YYYY-MM-DD")
    run.add_argument("--run-id", default=None, help="id recorded in the audit (default manual__<as-of>)")
    run.add_argument("--serving", type=Path, default=None,
                     help="serving folder for BI (default: <warehouse dir>/serving, or $UPSELL_SERVING_DIR)")

    ing = sub.add_parser("ingest", help="load landing files into the raw schema only")
    _common(ing)
    ing.add_argument("--run-id", default="manual")

    summ = sub.add_parser("summary", help="what the last run did: loads, quarantine, publish (read-only)")
    summ.add_argument("--warehouse", type=Path, required=True)

    gen = sub.add_parser("generate", help="write a sample landing folder")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--scale", choices=["S", "M", "L"], default="S")
    gen.add_argument("--seed", type=int, default=42)
    return parser


def print_ingest_summary(result: IngestResult, warehouse: Path) -> None:
    print(f"Ingested into {warehouse}")
    print(f"  files: {result.count('loaded')} loaded, {result.count('skipped')} skipped (already loaded), "
          f"{result.count('quarantined')} quarantined whole, {len(result.ignored)} ignored (not exports)")
    print(f"  rows:  {result.total('rows_read'):,} read = {result.total('rows_loaded'):,} loaded "
          f"+ {result.total('rows_quarantined'):,} quarantined "
          f"+ {result.total('duplicates_collapsed'):,} duplicates collapsed")
    for f in result.files:
        if f.status == "quarantined":
            print(f"  QUARANTINED {f.relpath}: {f.message}")
    for item in result.ignored:
        print(f"  ignored {item.relpath}: {item.reason}")
    if result.total("rows_quarantined"):
        print("  quarantined rows: SELECT * FROM audit.quarantine; per-file counts: audit.file_loads")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from upsell.validate.context import quiet_gx_logging

    quiet_gx_logging()
    t0 = time.perf_counter()
    if args.command == "generate":
        from upsell.generate import generate

        manifest = generate(args.out, args.scale, args.seed)
        print(f"Generated scale {args.scale} (seed {args.seed}) into {args.out} in "
              f"{time.perf_counter() - t0:.1f} s: {len(manifest['files'])} files, "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(manifest.get("counts", {}).items())))
        return 0
    if args.command == "summary":
        from upsell.report import print_summary

        return print_summary(args.warehouse)
    if args.command == "ingest":
        from upsell.ingest import ingest

        result = ingest(args.landing, args.warehouse, args.run_id, tz=args.tz, mapping_dirs=args.mappings)
        print(f"Ingestion took {time.perf_counter() - t0:.1f} s")
        print_ingest_summary(result, args.warehouse)
        return 1 if args.strict and result.count("quarantined") else 0
    if args.command == "run":
        from upsell.pipeline import ValidationFailed, run_nightly

        try:
            res = run_nightly(args.landing, args.warehouse, args.as_of, args.run_id, tz=args.tz,
                              mapping_dirs=args.mappings, serving_dir=args.serving)
        except ValidationFailed as exc:
            for report in exc.reports:
                print(report.summary(), file=sys.stderr)
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:
            logging.getLogger("upsell").exception("nightly run failed")
            print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(f"Nightly run {res.run_id} (as of {res.as_of}) finished in {time.perf_counter() - t0:.1f} s")
        print_ingest_summary(res.ingest, args.warehouse)
        if res.dbt:
            print("dbt build: " + ", ".join(f"{n} {k}" for k, n in sorted(res.dbt.counts.items())))
        for report in res.validations or []:
            print(report.summary())
        if res.published:
            print(f"Published {len(res.published.rows)} marts for BI: {res.published.serving_file} "
                  f"(open read-only) and {res.published.parquet_dir}/<mart>.parquet")
        return 0 if res.ok and not (args.strict and res.ingest.count("quarantined")) else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
