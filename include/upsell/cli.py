"""``upsell`` command line: run the nightly job, ingest alone, or generate sample data."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import date, timedelta
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

    run = sub.add_parser("run", help="run the whole nightly job for one as-of date, or for each date of a range")
    _common(run)
    when = run.add_mutually_exclusive_group(required=True)
    when.add_argument("--as-of", type=_date, help="business date YYYY-MM-DD")
    when.add_argument("--from", dest="date_from", type=_date, metavar="YYYY-MM-DD",
                      help="backfill: run the nightly job once per as-of date from this date to --to "
                           "(inclusive, oldest first), exactly as that many daily runs would")
    run.add_argument("--to", dest="date_to", type=_date, metavar="YYYY-MM-DD",
                     help="last as-of date of a --from range (inclusive)")
    run.add_argument("--run-id", default=None,
                     help="id recorded in the audit (default manual__<as-of>; with --from/--to: <ID>__<as-of>)")
    run.add_argument("--target", choices=["duckdb", "postgres"], default=None,
                     help="warehouse the marts are built in (default $UPSELL_TARGET, else duckdb); "
                          "postgres: connection from PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild the incremental staging tables (email events, invoice lines) from raw "
                          "instead of updating them; needed after a salt change or a model change")
    run.add_argument("--serving", type=Path, default=None,
                     help="serving folder for BI (default: <warehouse dir>/serving, or $UPSELL_SERVING_DIR)")

    ing = sub.add_parser("ingest", help="load landing files into the raw schema only")
    _common(ing)
    ing.add_argument("--run-id", default="manual")

    summ = sub.add_parser("summary", help="what the last run did: loads, quarantine, publish (read-only)")
    summ.add_argument("--warehouse", type=Path, required=True)

    rep = sub.add_parser("report", help="build the nightly HTML report from the published serving folder")
    rep.add_argument("--serving", type=Path, required=True, help="serving folder holding upsell.duckdb")
    rep.add_argument("--out", type=Path, default=None, help="output folder (default <serving>/report)")
    rep.add_argument("--top", type=int, default=None, metavar="N",
                     help="rows of the sales list (top next-best-actions by score; default 200)")

    gen = sub.add_parser("generate", help="write a sample landing folder")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--scale", choices=["S", "M", "L"], default="S")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--next-day", type=_date, default=None, metavar="YYYY-MM-DD",
                     help="instead: add that day's new files (email events, invoice lines: new, late, "
                          "re-exported) to the landing folder already generated in --out")
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


def as_of_dates(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[date]:
    """The as-of dates ``upsell run`` computes: ``--as-of``, or every day of ``--from``..``--to``."""
    if args.as_of is not None:
        if args.date_to is not None:
            parser.error("--to goes with --from, not with --as-of")
        return [args.as_of]
    if args.date_to is None:
        parser.error("--from needs --to (the last as-of date, inclusive)")
    if args.date_to < args.date_from:
        parser.error(f"--to {args.date_to} is before --from {args.date_from}")
    return [args.date_from + timedelta(days=n) for n in range((args.date_to - args.date_from).days + 1)]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from upsell.validate.context import quiet_gx_logging

    quiet_gx_logging()
    t0 = time.perf_counter()
    if args.command == "generate" and args.next_day:
        from upsell.generate.increment import generate_next_day

        inc = generate_next_day(args.out, args.next_day, args.seed)
        print(f"Wrote {', '.join(map(str, inc.files))} in {time.perf_counter() - t0:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(inc.counts.items())))
        return 0
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
    if args.command == "report":
        from upsell.report import build_report

        res = build_report(args.serving, args.out, top_n=args.top)
        print(f"Report as of {res.as_of}: {res.path} ({res.charts} charts, {res.bytes / 1e6:.1f} MB); "
              f"latest: {res.latest}")
        return 0
    if args.command == "ingest":
        from upsell.ingest import ingest

        result = ingest(args.landing, args.warehouse, args.run_id, tz=args.tz, mapping_dirs=args.mappings)
        print(f"Ingestion took {time.perf_counter() - t0:.1f} s")
        print_ingest_summary(result, args.warehouse)
        return 1 if args.strict and result.count("quarantined") else 0
    if args.command == "run":
        dates = as_of_dates(args, parser)
        if len(dates) == 1:
            return run_one(args, dates[0], args.run_id, t0)
        # a backfill is the daily runs, oldest first, each with its own as-of date and run id:
        # the same marts and history as running them night by night. Stops at the first failure.
        print(f"Backfill: {len(dates)} nightly runs, as of {dates[0]} .. {dates[-1]}")
        for n, as_of in enumerate(dates, 1):
            run_id = f"{args.run_id}__{as_of.isoformat()}" if args.run_id else None
            print(f"== [{n}/{len(dates)}] as of {as_of}", flush=True)
            # --full-refresh rebuilds once, on the first date; the later dates update incrementally
            status = run_one(args, as_of, run_id, time.perf_counter(), full_refresh=args.full_refresh and n == 1)
            if status:
                print(f"Backfill stopped at as-of {as_of} ({n - 1} of {len(dates)} dates done); "
                      f"re-run from {as_of} after fixing", file=sys.stderr)
                return status
        print(f"Backfill finished: {len(dates)} nightly runs in {time.perf_counter() - t0:.1f} s")
        return 0
    return 2


def run_one(args: argparse.Namespace, as_of: date, run_id: str | None, t0: float,
            full_refresh: bool | None = None) -> int:
    """One nightly run (``upsell run --as-of``): print its summary, return the exit status."""
    from upsell.pipeline import ValidationFailed, run_nightly

    try:
        res = run_nightly(args.landing, args.warehouse, as_of, run_id, tz=args.tz,
                          mapping_dirs=args.mappings, serving_dir=args.serving, target=args.target,
                          full_refresh=args.full_refresh if full_refresh is None else full_refresh)
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
    if res.copied:
        print(f"Copied to Postgres: {len(res.copied.loads)} file load(s), {res.copied.rows_loaded:,} raw rows, "
              f"{res.copied.rows_quarantined:,} quarantined rows ({res.copied.already_present} already there)")
    if res.dbt:
        print(f"dbt build ({res.target}): " + ", ".join(f"{n} {k}" for k, n in sorted(res.dbt.counts.items())))
    for report in res.validations or []:
        print(report.summary())
    if res.published:
        print(f"Published {len(res.published.rows)} marts for BI: {res.published.serving_file} "
              f"(open read-only) and {res.published.parquet_dir}/<mart>.parquet "
              f"(history marts: <mart>/<as_of_date>.parquet)")
    elif res.pg_published:
        from upsell.target import pg_settings

        pg = pg_settings()
        print(f"Published {len(res.pg_published.rows)} marts for BI to Postgres {pg['host']}:{pg['port']}/"
              f"{pg['dbname']}, schema {res.pg_published.schema}")
    if res.report:
        print(f"Report: {res.report.path} (latest: {res.report.latest})")
    return 0 if res.ok and not (args.strict and res.ingest.count("quarantined")) else 1


if __name__ == "__main__":
    sys.exit(main())
