"""The benchmark suite of issue 9: every contender at S, M and L, the targets, the scaling plot.

For each scale (data generated with seed 42 when missing, under ``<out>/<scale>``), in one
invocation, each contender in its own fresh process:

* bare DuckDB ``read_csv`` of the inputs, before and after (median);
* the full nightly run and the incremental next night, seconds and peak RSS per stage
  (``upsell.bench.nightly.run_nightly_contenders``; the dbt build split into models, tests
  and dbt's own overhead from ``run_results.json``);
* the same full run through ``airflow dags test`` (``--airflow-scales``, default S M);
* the DAG under a scheduler as deployed (``--airflow-deployed-scales``, default M;
  ``upsell.bench.airflow_deployed``);
* baseline 3, the project on its Postgres target (``--baseline3-scales``, default S M);
* baseline 2, pandas ``read_csv`` + ``to_sql`` into Postgres and dbt there
  (``--baseline2-scales``, default S M);

and once per invocation the DAG parse time. Results are merged per scale into
``<out>/suite-results.json`` (a scale measured again replaces its entry whole, so the ratios
of a scale always come from one run; ``--scales L`` later adds L; ``--extras-only`` adds a
long baseline to an existing entry, stamped with its own time), then rendered into
``<out>/suite-report.md`` and ``docs/bench-scaling.png``. ``--render-only`` re-renders.

Usage: ``python -m upsell.bench.suite --scales S M L --out bench-data`` (``make bench``).
Postgres from libpq's PG* variables; each baseline gets a throw-away database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from upsell.bench.measure import ensure_data, link_landing, measure
from upsell.bench.nightly import BENCH_ENV, DEFAULT_AS_OF, DEFAULT_MAPPINGS, run_nightly_contenders

REPO = Path(__file__).resolve().parents[3]
RESULTS = "suite-results.json"
REPORT = "suite-report.md"
PLOT = REPO / "docs" / "bench-scaling.png"


def merge_results(old: dict, new: dict) -> dict:
    """``new`` over ``old``: scale entries replaced whole (never mixed across runs), other
    top-level keys (DAG parse, machine) replaced when ``new`` has them."""
    merged = {**old, **{k: v for k, v in new.items() if k != "scales"}}
    merged["scales"] = {**old.get("scales", {}), **new.get("scales", {})}
    return merged


def load_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"scales": {}}


def save_results(path: Path, new: dict) -> dict:
    """Merge ``new`` into the results file (atomically) and return the merged results."""
    merged = merge_results(load_results(path), new)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged, indent=1, sort_keys=True))
    tmp.replace(path)
    return merged


def machine() -> dict:
    import psutil

    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)}


def optional(name: str, run: Callable[[], dict]) -> dict:
    """Run an extra contender; a failure is recorded in its entry instead of ending the scale."""
    print(f"{name} ...", flush=True)
    try:
        result = run()
    except Exception as exc:  # the suite goes on: one broken baseline must not lose an L run
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}"[:4000]}
    print(f"{name}: {result.get('wall_s', result.get('night_s', '?'))} s", flush=True)
    return result


def on_postgres(job: str, landing: Path, work: Path, as_of: dt.date, mappings: Path) -> dict:
    """A Postgres contender (``pg-target`` or ``pandas-pg``) on its own throw-away database."""
    from upsell.bench.targets import throwaway_database

    folder = work / job
    folder.mkdir(parents=True, exist_ok=True)
    with throwaway_database(f"upsell_suite_{job.replace('-', '_')}") as db:
        return measure(job, str(landing), str(folder), str(as_of), str(mappings), db, env=BENCH_ENV,
                       log=folder / "job.log")


def run_scale(scale: str, args: argparse.Namespace, save: Callable[[dict], None]) -> dict:
    """Every contender of one scale; the entry is saved after each so a crash keeps the rest."""
    from upsell.bench.airflow_deployed import run_deployed
    from upsell.bench.airflow_run import measure_airflow
    from upsell.dag_support import REPO

    data = ensure_data(args.out, scale, args.seed)
    # read before this run saves anything: its first save replaces the scale's entry
    previous = load_results(args.out / RESULTS).get("scales", {}).get(scale, {})
    work = Path(tempfile.mkdtemp(prefix=f"suite-{scale}-", dir=args.out))
    entry: dict = {"scale": scale, "seed": args.seed, "when": time.strftime("%Y-%m-%d %H:%M")}
    try:
        if args.extras_only:
            # a long baseline measured in a separate invocation, added to the scale's entry
            entry = previous or entry
            landing = link_landing(data, work / "landing")
        else:
            entry |= run_nightly_contenders(data, work, args.as_of, args.mappings, args.seed)
            save(entry)
            landing = work / "landing"  # the base night, without the next day's files
        extras = (("airflow", args.airflow_scales, lambda: measure_airflow(work, landing, args.as_of, args.mappings)),
                  ("airflow_deployed", args.airflow_deployed_scales,
                   lambda: run_deployed(landing, work / "deployed", args.as_of, args.mappings, REPO)),
                  ("baseline3", args.baseline3_scales,
                   lambda: on_postgres("pg-target", landing, work, args.as_of, args.mappings)),
                  ("baseline2", args.baseline2_scales,
                   lambda: on_postgres("pandas-pg", landing, work, args.as_of, args.mappings)))
        for name, scales, run in extras:
            if scale in scales:
                entry[name] = {**optional(name, run), "when": time.strftime("%Y-%m-%d %H:%M")}
                save(entry)
            elif name in previous and name not in entry:
                entry[name] = previous[name]  # measured by an --extras-only run: kept, with its time
                save(entry)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return entry


def render(results: dict, out: Path, plot: Path) -> None:
    """The Markdown report beside the results and the PNG plot."""
    from upsell.bench.suite_report import render_markdown, render_png

    # a scale that so far has only an --extras-only baseline waits for its nightly contenders
    results = {**results, "scales": {s: e for s, e in results.get("scales", {}).items() if "bare" in e}}
    (out / REPORT).write_text(render_markdown(results))
    render_png(results, plot)
    print(f"report: {out / REPORT}\nplot: {plot}", flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", nargs="+", default=["S", "M", "L"], choices=["S", "M", "L"])
    p.add_argument("--out", type=Path, default=Path("bench-data"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    p.add_argument("--mappings", type=Path, default=DEFAULT_MAPPINGS)
    for name, help_ in (("airflow", "the full run through airflow dags test"),
                        ("baseline2", "pandas read_csv + to_sql into Postgres, dbt on Postgres"),
                        ("baseline3", "the project on its Postgres target")):
        p.add_argument(f"--{name}-scales", nargs="*", default=["S", "M"], choices=["S", "M", "L"],
                       help=f"scales to run {help_} at (default S M; none: give the flag alone)")
    p.add_argument("--airflow-deployed-scales", nargs="*", default=["M"], choices=["S", "M", "L"],
                   help="scales to run the DAG under a scheduler at (upsell.bench.airflow_deployed; default M)")
    p.add_argument("--extras-only", action="store_true",
                   help="run only the Airflow/baseline contenders selected above and add them to each scale's "
                        "existing entry (for a baseline too long to run beside the others; its 'when' says so)")
    p.add_argument("--dag-parse-rounds", type=int, default=5, help="0: do not measure the DAG parse")
    p.add_argument("--plot", type=Path, default=PLOT)
    p.add_argument("--keep", action="store_true", help="keep each scale's work folder (warehouses, logs)")
    p.add_argument("--render-only", action="store_true", help="re-render report and plot from the JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / RESULTS
    if args.render_only:
        render(load_results(path), args.out, args.plot)
        return 0
    save_results(path, {"machine": machine()})
    if args.dag_parse_rounds:
        from upsell.bench.dag_parse import measure_parse

        save_results(path, {"dag_parse": measure_parse(args.dag_parse_rounds)})
    for scale in args.scales:
        print(f"== scale {scale}", flush=True)
        run_scale(scale, args, lambda entry, s=scale: save_results(path, {"scales": {s: entry}}))
    render(load_results(path), args.out, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
