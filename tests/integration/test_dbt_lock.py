"""``upsell-dbt`` (upsell.dbt_lock), the dbt executable of the DAG's Cosmos tasks: a dbt run
waits for the warehouse's dbt lock instead of colliding on DuckDB's single-writer lock.

Real processes, real ``flock``, real dbt and DuckDB: a holder process takes the lock and
opens the warehouse for writing, as a running dbt build does. Beside it, plain dbt fails on
DuckDB's lock (what a watcher's fallback beside another dbt would do); ``upsell-dbt`` waits,
says so, and runs once the holder is gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from upsell.dbt_lock import acquire, lock_path
from upsell.transform import PROJECT_DIR, dbt_env

BIN = Path(sys.executable).parent

# The holder keeps the warehouse until the test tells it to let go (a line on its stdin):
# the order of events is fixed by the test, not by a sleep that a slow machine outlasts.
HOLDER = """
import sys, time, duckdb
from upsell.dbt_lock import acquire, lock_path
acquire(lock_path(sys.argv[1]))
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
con.close()
print(f"released {time.time()}", flush=True)
"""


def _debug_args(tmp_path: Path) -> list[str]:
    # dbt debug opens the warehouse read-write, as every dbt command of the DAG does
    return ["debug", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--log-path", str(tmp_path / "logs")]


def _first_line_with(stream, text: str) -> str:
    """Lines read from ``stream`` up to and including the first that contains ``text`` (or EOF)."""
    seen = ""
    for line in stream:
        seen += line
        if text in line:
            break
    return seen


def test_dbt_waits_for_the_warehouse_lock_instead_of_failing_on_duckdbs(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    env = {**os.environ, **dbt_env(warehouse)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse)], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    locked = None
    try:
        assert holder.stdout.readline().strip() == "holding"
        plain = subprocess.run([str(BIN / "dbt"), *_debug_args(tmp_path)], env=env, capture_output=True, text=True)
        assert plain.returncode != 0 and "Could not set lock" in plain.stdout, plain.stdout[-2000:]

        locked = subprocess.Popen([str(BIN / "upsell-dbt"), *_debug_args(tmp_path)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        waiting = _first_line_with(locked.stderr, "waiting for")
        assert f"waiting for {lock_path(warehouse)}" in waiting, waiting
        assert locked.poll() is None, "upsell-dbt went on while the lock was held"

        holder.stdin.write("release\n")
        holder.stdin.flush()
        released = float(holder.stdout.readline().split()[1])
        out, err = locked.communicate(timeout=300)
        finished = time.time()
    finally:
        for proc in (holder, locked):
            if proc is not None:
                proc.kill()
                proc.wait()
    assert locked.returncode == 0 and "All checks passed" in out, out[-2000:] + err
    assert "lock acquired" in err, err
    assert finished > released


EXEC_HOLDER = """
import os, sys
from upsell.dbt_lock import acquire, lock_path
acquire(lock_path(sys.argv[1]))
os.execv(sys.executable, [sys.executable, "-c",
         "import time; time.sleep(2); print('done', time.time(), flush=True)"])
"""


def test_the_lock_outlives_exec_and_names_its_holder(tmp_path):
    """upsell-dbt execs dbt: the program it becomes keeps the lock until it exits."""
    warehouse = tmp_path / "wh.duckdb"
    run = subprocess.Popen([sys.executable, "-c", EXEC_HOLDER, str(warehouse)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not lock_path(warehouse).exists() or not lock_path(warehouse).read_text():
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.05)
    assert lock_path(warehouse).read_text().startswith(f"pid {run.pid} on ")
    waits: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            waits.append(text)

        def flush(self) -> None:
            pass

    fd = acquire(lock_path(warehouse), out=Out())
    granted = time.time()
    os.close(fd)
    done = float(run.stdout.readline().split()[1])
    assert run.wait(timeout=30) == 0
    assert done <= granted, "the lock was released at exec, before the program it became had finished"
    assert waits and waits[0].startswith(f"upsell-dbt: waiting for {lock_path(warehouse)} (held by pid {run.pid}")


def test_without_a_warehouse_it_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "UPSELL_WAREHOUSE"}
    proc = subprocess.run([str(BIN / "upsell-dbt"), "--version"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "UPSELL_WAREHOUSE is not set" in proc.stderr
