"""The nightly DAG as a deployment runs it: a scheduler, not ``airflow dags test``.

``airflow dags test`` (the suite's Airflow contender) runs every task in one process, one
after another, with Airflow already imported: it hides what a deployment pays per task —
scheduling, a process per task that parses the DAG, and the one-slot pool that queues the
warehouse's writers. This benchmark starts the execution API server and a scheduler
(LocalExecutor, SQLite metadata DB in a throw-away ``AIRFLOW_HOME``, parallelism 4, as
``tests/integration/test_airflow_backfill.py`` does), triggers one run of
``upsell_nightly`` on a fresh warehouse, and reads every task instance's start and end
from the metadata DB. The night's duration is its first task's start to its last task's
end (the components' own start-up, paid once per deployment, is not in it). Beside it, in
the same invocation and alternating with it, the CLI's full night (``upsell.bench.jobs
night``) on a fresh warehouse and the same landing folder: Airflow's own overhead is
(deployed - CLI) / deployed.

``--repo PATH`` runs the DAG of another checkout (its ``dags/`` and ``include/`` first on
``PYTHONPATH``, its pre-built dbt manifest), for a before/after in one invocation.

Usage: ``python -m upsell.bench.airflow_deployed --scale M --out bench-data [--rounds 2]
[--repo ../old-checkout]``.
"""

from __future__ import annotations

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

from upsell.airflow_local import free_port, http_ok, json_output, local_executor_settings, start, stop
from upsell.bench.airflow_run import logical_date_for
from upsell.bench.measure import ensure_data, link_landing, measure
from upsell.bench.nightly import BENCH_ENV, scale_parser, warehouse_in
from upsell.dag_support import POOL, REPO, local_airflow_settings

BIN = Path(sys.executable).parent
RUN_TIMEOUT_S = 3600


def deployed_env(home: Path, landing: Path, warehouse: Path, mappings: Path, repo: Path) -> dict[str, str]:
    """A LocalExecutor deployment on SQLite, on ``repo``'s DAG and package."""
    return {**os.environ, **local_airflow_settings(home), **BENCH_ENV, **local_executor_settings(free_port()),
            "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
            "PYTHONPATH": os.pathsep.join([str(repo / "include"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "UPSELL_LANDING": str(landing), "UPSELL_WAREHOUSE": str(warehouse),
            "UPSELL_HEADER_MAPPINGS": str(mappings), "UPSELL_TARGET": "duckdb"}


def _airflow(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def prepare(env: dict[str, str], repo: Path) -> None:
    """What a deployment's init does once (not timed): metadata DB, pool, the dbt parse for
    this warehouse in Cosmos' cache, the DAG serialized and unpaused."""
    _airflow(env, "db", "migrate")
    _airflow(env, "pools", "set", POOL, "1", "DuckDB single writer")
    home = Path(env["AIRFLOW_HOME"])
    subprocess.run([sys.executable, "-m", "upsell.cosmos_parse", "--warehouse", env["UPSELL_WAREHOUSE"],
                    "--target-path", str(home / "dbt-parse"), "--log-path", str(home / "dbt-parse" / "logs"),
                    "--cosmos-cache", env["AIRFLOW__COSMOS__CACHE_DIR"]],
                   env=env, check=True, capture_output=True, cwd=repo)
    _airflow(env, "dags", "reserialize")
    _airflow(env, "dags", "unpause", "upsell_nightly")


def phases(tis: list[dict]) -> dict:
    """Seconds of the night and of its phases, from the task instances' start and end."""
    def at(value: str) -> dt.datetime:
        return dt.datetime.fromisoformat(value)

    ran = [t for t in tis if t.get("start_date") and t.get("end_date")]
    first = min(at(t["start_date"]) for t in ran)

    def span(pick) -> float | None:
        chosen = [t for t in ran if pick(t["task_id"])]
        if not chosen:
            return None
        return round((max(at(t["end_date"]) for t in chosen) - min(at(t["start_date"]) for t in chosen))
                     .total_seconds(), 2)

    watcher = lambda tid: tid.startswith("dbt.") and tid.endswith(("_run", "_seed"))  # noqa: E731
    return {
        "night_s": round((max(at(t["end_date"]) for t in ran) - first).total_seconds(), 2),
        "before_ingest_s": span(lambda tid: tid in ("resolve_as_of", "discover")),
        "ingest_s": span(lambda tid: tid.startswith("ingest.")),
        "validate_raw_s": span(lambda tid: tid == "validate_raw"),
        "dbt_producer_s": span(lambda tid: tid == "dbt.dbt_producer_watcher"),
        "dbt_watchers_s": span(watcher),
        "watchers": sum(1 for t in ran if watcher(t["task_id"])),
        "after_dbt_s": span(lambda tid: tid in ("validate", "publish", "report", "data_docs")),
        "tasks": len(ran),
        "states": sorted({t["state"] for t in tis}),
    }


def run_deployed(landing: Path, work: Path, as_of: dt.date, mappings: Path, repo: Path) -> dict:
    """One triggered run under a scheduler on a fresh warehouse; its phases."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    env = deployed_env(work / "home", landing, warehouse_in(work), mappings, repo)
    prepare(env, repo)
    components = [start([str(BIN / "airflow"), *args], env, work / "logs" / f"{name}.log") for name, args in (
        ("api-server", ["api-server", "--apps", "execution", "-w", "1", "-p", env["AIRFLOW__API__PORT"]]),
        ("scheduler", ["scheduler"]))]
    try:
        deadline = time.monotonic() + 180
        while not http_ok(f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}/execution/health"):
            if time.monotonic() > deadline or any(p.poll() is not None for p in components):
                raise RuntimeError(f"the Airflow components did not come up (logs in {work / 'logs'})")
            time.sleep(2)
        _airflow(env, "dags", "trigger", "upsell_nightly", "--logical-date",
                 f"{logical_date_for(as_of)}T00:00:00+00:00")
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            runs = json_output(_airflow(env, "dags", "list-runs", "upsell_nightly", "-o", "json"))
            if runs and all(r["state"] in ("success", "failed") for r in runs):
                break
            if time.monotonic() > deadline or any(p.poll() is not None for p in components):
                raise RuntimeError(f"the run did not finish (logs in {work / 'logs'})")
            time.sleep(3)
        (run,) = runs
        tis = json_output(_airflow(env, "tasks", "states-for-dag-run", "upsell_nightly", run["run_id"], "-o", "json"))
    finally:
        for proc in components:
            stop(proc)
    if run["state"] != "success":
        raise RuntimeError(f"the run ended {run['state']}: "
                           f"{[(t['task_id'], t['state']) for t in tis if t['state'] != 'success']}")
    return {"repo": str(repo), **phases(tis)}


def main(argv: list[str] | None = None) -> int:
    parser = scale_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--repo", type=Path, action="append",
                        help="a checkout whose DAG to run (repeat for a before/after); default this one")
    args = parser.parse_args(argv)
    repos = [r.resolve() for r in (args.repo or [REPO])]
    data = ensure_data(args.out, args.scale, args.seed)
    work = Path(tempfile.mkdtemp(prefix=f"bench-deployed-{args.scale}-", dir=args.out))
    landing = link_landing(data, work / "landing")
    results: dict[str, list[dict]] = {"cli": [], **{str(r): [] for r in repos}}
    try:
        for n in range(args.rounds):
            order = ["cli", *map(str, repos)]
            for name in order if n % 2 == 0 else order[::-1]:
                if name == "cli":
                    night_work = work / f"cli-{n}"
                    res = measure("night", str(landing), str(warehouse_in(night_work)), str(args.as_of),
                                  str(args.mappings), env=BENCH_ENV, log=work / f"cli-{n}.log")
                    shutil.rmtree(night_work, ignore_errors=True)
                    entry = {"night_s": res["stages"]["total"]}
                else:
                    entry = run_deployed(landing, work / f"deployed-{n}", args.as_of, args.mappings, Path(name))
                results[name].append(entry)
                print(f"round {n + 1} {name}: {json.dumps(entry)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cli = statistics.median(e["night_s"] for e in results["cli"])
    print(f"\nCLI full night (median): {cli:.1f} s")
    print("| DAG of | night s | Airflow's share | ingest | validate_raw | dbt producer | model watchers "
          "| validate → report |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for repo in map(str, repos):
        for e in results[repo]:
            print(f"| {repo} | {e['night_s']:.1f} | {(e['night_s'] - cli) / e['night_s']:.0%} | {e['ingest_s']} "
                  f"| {e['validate_raw_s']} | {e['dbt_producer_s']} | {e['dbt_watchers_s']} ({e['watchers']}) "
                  f"| {e['after_dbt_s']} |")
    print(json.dumps({"cli_night_s": cli, **results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
