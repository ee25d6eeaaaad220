"""``upsell-dbt``: dbt for the DAG's Cosmos tasks, one at a time per warehouse file.

Cosmos runs dbt in two places: the producer's single ``dbt build``, and a model watcher
that falls back to building its model alone (a retry after its model failed, or every
watcher when a cleared producer is skipped). Both write the DuckDB warehouse, which allows
one writing process. The producer holds the one-slot pool ``upsell_duckdb`` like every
other task that opens the warehouse; the watchers do not: their first try only reads the
producer's statuses from XCom, and holding the one slot for that made a deployed night wait
for 54 watchers one after another (≈ 1 s each under a scheduler: docs/benchmarks.md,
sixteenth round). So dbt itself takes the lock: this command holds an exclusive
``flock`` on ``<warehouse>.dbt.lock`` (the file DuckDB's own single-writer lock sits
beside, on the same file system) and replaces itself with dbt, which keeps the lock until it
exits. Fallbacks of several watchers at once, or a fallback beside the producer, then
queue instead of failing on DuckDB's lock.

Usage: ``upsell-dbt <dbt arguments>`` with ``UPSELL_WAREHOUSE`` set (the DAG passes it in
the dbt tasks' environment).
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

WAREHOUSE_ENV = "UPSELL_WAREHOUSE"


def lock_path(warehouse: Path | str) -> Path:
    """The lock file of a warehouse: beside it, so every host that can open the warehouse sees it."""
    return Path(str(Path(warehouse).resolve()) + ".dbt.lock")


def acquire(path: Path, out=sys.stderr) -> int:
    """Open ``path`` and hold an exclusive lock on it; return the descriptor (inheritable,
    so the lock survives ``exec``). Waits as long as another holder keeps it, saying so once
    (the task's execution timeout bounds the wait)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        print(f"upsell-dbt: waiting for {path} (held by {holder})", file=out, flush=True)
        started = time.monotonic()
        fcntl.flock(fd, fcntl.LOCK_EX)
        print(f"upsell-dbt: lock acquired after {time.monotonic() - started:.1f} s", file=out, flush=True)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {os.uname().nodename}\n".encode(), 0)
    os.set_inheritable(fd, True)
    return fd


def dbt_executable() -> str:
    """The dbt of this environment (beside this Python), else the one on PATH."""
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    warehouse = os.environ.get(WAREHOUSE_ENV)
    if not warehouse:
        sys.exit(f"upsell-dbt: {WAREHOUSE_ENV} is not set; it names the warehouse whose dbt runs must not overlap")
    acquire(lock_path(warehouse))
    exe = dbt_executable()
    os.execvp(exe, [exe, *argv])  # the locked descriptor stays open in dbt until it exits


if __name__ == "__main__":
    main()
