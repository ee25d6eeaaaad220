"""A backfill equals the daily runs: `upsell run --from --to` and `airflow backfill create`
over a few as-of dates produce exactly the marts and the history that one run per day does.

Warehouse *daily*: one `upsell run --as-of D` per date. Warehouse *range*: one
`upsell run --from D1 --to D3`. Warehouse *airflow*: `airflow backfill create` executed by a
real scheduler (LocalExecutor, SQLite metadata DB, temporary AIRFLOW_HOME). Compared: every
published mart (served DuckDB file, schema marts; not the `_publish` bookkeeping table) and
the history tables in the warehouse, row by row both ways; only run ids and timestamps of
the run itself are left out.

The dates straddle the sample's last day (2026-10-31): as-of 2026-10-30 still accepts every
row (raw dates may reach as-of + 1 day), and the three dates give three different snapshots.
Every gate runs with its defaults: on 10-31 the action list grows from 297 to 491 rows
(December fiscal year-ends come within the two-month look-ahead), which the marts gate
accepts for that calendar-driven mart (tests/unit/test_mart_row_counts.py).
Time: the Airflow backfill (~14 min here: every task is its own process) runs while the
two `upsell run` warehouses are built (~4 min, both at once).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.integration.airflow_procs import (
    BIN,
    airflow,
    airflow_env,
    free_port,
    http_ok,
    json_output,
    local_executor_settings,
    start,
    stop,
    wait_until,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "include" / "sample"
MAPPINGS = REPO / "include" / "mappings" / "salesforce"
SALT = "backfill-test-salt"
DATES = [date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1)]
HISTORY = ("customer_cpm_history", "upsell_propensity_history")
RUN_COLUMNS = {"run_id", "published_at", "_load_id", "_loaded_at"}  # about the run, not the data
BACKFILL_TIMEOUT_S = 3600  # ~15 min on a quiet 2-core machine; much longer when it is shared


def upsell_run(landing: Path, warehouse: Path, *when: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "upsell"), "run", "--landing", str(landing), "--warehouse", str(warehouse),
                           "--mappings", str(MAPPINGS), *when],
                          capture_output=True, text=True, env={**os.environ, "UPSELL_EMAIL_SALT": SALT},
                          timeout=3600)


def fresh(root: Path, name: str) -> tuple[Path, Path]:
    """A copy of the sample landing folder and a warehouse path under root/name."""
    shutil.copytree(SAMPLE, root / name / "landing")
    return root / name / "landing", root / name / "wh" / "warehouse.duckdb"


@pytest.fixture(scope="module")
def cli_warehouses(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backfill_cli")

    def daily() -> Path:
        landing, warehouse = fresh(root, "daily")
        for as_of in DATES:
            proc = upsell_run(landing, warehouse, "--as-of", as_of.isoformat())
            assert proc.returncode == 0, f"as of {as_of}:\n" + proc.stdout[-3000:] + proc.stderr[-3000:]
        return warehouse

    def date_range() -> Path:
        landing, warehouse = fresh(root, "range")
        proc = upsell_run(landing, warehouse, "--from", DATES[0].isoformat(), "--to", DATES[-1].isoformat())
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert f"Backfill finished: {len(DATES)} nightly runs" in proc.stdout
        for n, as_of in enumerate(DATES, 1):
            assert f"== [{n}/{len(DATES)}] as of {as_of}" in proc.stdout
        return warehouse

    # independent warehouses: run both at once (each is mostly one dbt or GX process)
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(daily), pool.submit(date_range)
        return {"daily": a.result(), "range": b.result()}


def served(warehouse: Path) -> Path:
    return warehouse.parent / "serving" / "upsell.duckdb"


def same_row(x: tuple, y: tuple) -> bool:
    return len(x) == len(y) and all(
        math.isclose(u, v, rel_tol=1e-12, abs_tol=1e-12) if isinstance(u, float) and isinstance(v, float) else u == v
        for u, v in zip(x, y, strict=True))


def compare_schema(a: Path, b: Path, schema: str = "marts", only: tuple[str, ...] | None = None) -> list[str]:
    """Assert that every table of ``schema`` (or only those named) holds the same rows in the
    DuckDB files a and b, ignoring RUN_COLUMNS; return the tables compared.

    Exact, except DOUBLE columns, compared to 1e-12: DuckDB's parallel aggregates (an avg
    over DOUBLE) may differ in the last bit between two runs of the same query on the same
    data, backfill or not."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")

    def tables(db: str) -> set[str]:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
                                          "AND table_schema = ?", [db, schema]).fetchall()}

    def columns(db: str, table: str) -> list[tuple[str, str]]:
        return con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
                           "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                           [db, schema, table]).fetchall()

    names = tables("a")
    if only is None:
        assert names == tables("b"), f"different {schema} tables: {sorted(names ^ tables('b'))}"
        names -= {"_publish"}
    else:
        assert set(only) <= names and set(only) <= tables("b")
        names = set(only)
    for table in sorted(names):
        cols = columns("a", table)
        assert cols == columns("b", table), f"{table}: different columns"
        kept = [(c, t) for c, t in cols if c not in RUN_COLUMNS]
        exact = ", ".join(f'"{c}"' for c, t in kept if t not in ("DOUBLE", "FLOAT"))
        floats = ", ".join(f'"{c}"' for c, t in kept if t in ("DOUBLE", "FLOAT"))
        for x, y in (("a", "b"), ("b", "a")):
            extra = con.execute(f"SELECT {exact} FROM {x}.{schema}.{table} "
                                f"EXCEPT ALL SELECT {exact} FROM {y}.{schema}.{table} LIMIT 5").fetchall()
            assert not extra, f"{schema}.{table}: rows only in {x}: {extra}"
        # row by row, in the same order: the exact columns first, then the DOUBLE ones
        select = ", ".join(c for c in (exact, floats) if c)
        rows_a = con.execute(f"SELECT {select} FROM a.{schema}.{table} ORDER BY ALL").fetchall()
        rows_b = con.execute(f"SELECT {select} FROM b.{schema}.{table} ORDER BY ALL").fetchall()
        assert len(rows_a) == len(rows_b), f"{schema}.{table}: {len(rows_a)} vs {len(rows_b)} rows"
        diff = [(x, y) for x, y in zip(rows_a, rows_b, strict=True) if not same_row(x, y)]
        assert not diff, f"{schema}.{table}: {len(diff)} rows differ, e.g. {diff[:2]}"
    con.close()
    return sorted(names)


def assert_history_covers_every_date(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in HISTORY:
            got = [r[0] for r in con.execute(f"SELECT DISTINCT as_of_date FROM marts.{table} ORDER BY 1").fetchall()]
            assert got == DATES, (table, got)
    with duckdb.connect(str(served(warehouse)), read_only=True) as con:
        assert con.execute("SELECT as_of_date FROM marts._publish").fetchone() == (DATES[-1],)


# ---------------------------------------------------------------- airflow backfill create


@pytest.fixture(scope="module")
def airflow_backfill(tmp_path_factory):
    """`airflow backfill create` over DATES, executed by a real scheduler (LocalExecutor on
    SQLite) and the execution API server. Yields (warehouse, env, wait) once the backfill is
    created: wait() returns the runs when they have all finished. The components are
    stopped afterwards whatever happens."""
    root = tmp_path_factory.mktemp("backfill_airflow")
    home = root / "airflow_home"
    landing, warehouse = fresh(root, "airflow")
    api_port = free_port()
    # no scheduled runs beside the backfill (local_executor_settings: unpausing would start today's)
    env = airflow_env(home, landing, warehouse, SALT, **local_executor_settings(api_port))
    airflow(env, "db", "migrate")
    airflow(env, "pools", "set", "upsell_duckdb", "1", "DuckDB single writer")
    airflow(env, "dags", "reserialize")  # the DAG in the metadata DB without waiting for a dag-processor
    airflow(env, "dags", "unpause", "upsell_nightly")

    components: list[subprocess.Popen] = []
    logs = root / "logs"
    logs.mkdir()
    try:
        for name, args in (("api-server", ["api-server", "--apps", "execution", "-w", "1", "-p", str(api_port)]),
                           ("scheduler", ["scheduler"])):
            components.append(start([str(BIN / "airflow"), *args], env, logs / f"{name}.log"))
        wait_until(lambda: http_ok(f"http://127.0.0.1:{api_port}/execution/health"), 180, "the API server",
                   components, logs)

        # the runs computing as of D1..D3 are those whose logical date (the start of the data
        # interval, 02:00 Asia/Tokyo) falls on D1..D3 in Tokyo
        airflow(env, "backfill", "create", "--dag-id", "upsell_nightly",
                "--from-date", f"{DATES[0].isoformat()}T00:00:00+09:00",
                "--to-date", f"{DATES[-1].isoformat()}T23:59:59+09:00", "--max-active-runs", "1")
        deadline = time.monotonic() + BACKFILL_TIMEOUT_S

        def wait() -> list[dict]:
            while True:
                runs = json_output(airflow(env, "dags", "list-runs", "upsell_nightly", "-o", "json"))
                if len(runs) >= len(DATES) and all(r["state"] in ("success", "failed") for r in runs):
                    return runs
                assert time.monotonic() < deadline, f"backfill not finished after {BACKFILL_TIMEOUT_S} s: {runs}"
                assert all(p.poll() is None for p in components), "an Airflow component exited: " + \
                    (logs / "scheduler.log").read_text()[-3000:]
                time.sleep(15)

        yield warehouse, env, wait
    finally:
        for proc in components:
            stop(proc)


def test_airflow_backfill_equals_daily_runs(airflow_backfill, request):
    warehouse, env, wait = airflow_backfill
    # the daily and range warehouses are built while the scheduler works through the backfill
    daily = request.getfixturevalue("cli_warehouses")["daily"]
    runs = wait()
    # run id = backfill__<end of the data interval>: as of D ends at D+1 02:00 JST = D 17:00 UTC
    assert sorted(r["run_id"] for r in runs) == [f"backfill__{d.isoformat()}T17:00:00+00:00" for d in DATES], runs
    failed = {r["run_id"]: json_output(airflow(env, "tasks", "states-for-dag-run", "upsell_nightly", r["run_id"],
                                               "-o", "json")) for r in runs if r["state"] != "success"}
    assert not failed, {run: [(t["task_id"], t["state"]) for t in tis if t["state"] != "success"]
                        for run, tis in failed.items()}
    assert_history_covers_every_date(warehouse)
    compare_schema(served(daily), served(warehouse))
    compare_schema(daily, warehouse, only=HISTORY)


# ---------------------------------------------------------------- upsell run --from --to


def test_upsell_run_over_a_date_range_equals_daily_runs(cli_warehouses):
    daily, ranged = cli_warehouses["daily"], cli_warehouses["range"]
    for warehouse in (daily, ranged):
        assert_history_covers_every_date(warehouse)
    marts = compare_schema(served(daily), served(ranged))
    assert {"customer_rfm", "customer_cpm", "upsell_propensity", "campaign_pdca", *HISTORY} <= set(marts)
    assert compare_schema(daily, ranged, only=HISTORY) == sorted(HISTORY)
    # the same run ids too: a range run is the daily runs, one run id per as-of date
    with duckdb.connect(str(ranged), read_only=True) as con:
        runs = [r[0] for r in con.execute("SELECT DISTINCT run_id FROM audit.publishes ORDER BY 1").fetchall()]
    assert runs == [f"manual__{d.isoformat()}" for d in DATES]


def test_upsell_run_rejects_a_malformed_range(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    for args, message in ((["--from", "2026-10-31"], "--from needs --to"),
                          (["--from", "2026-10-31", "--to", "2026-10-30"], "is before --from"),
                          (["--as-of", "2026-10-31", "--to", "2026-11-01"], "--to goes with --from"),
                          ([], "one of the arguments --as-of --from is required")):
        proc = upsell_run(landing, warehouse, *args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    assert not warehouse.exists()
