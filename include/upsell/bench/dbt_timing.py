"""Where a ``dbt build``'s time goes, from its ``run_results.json``: models vs tests vs dbt itself.

dbt runs nodes on several threads (``UPSELL_DBT_THREADS``, default 2), so adding up each
node's ``execution_time`` can exceed the build's wall-clock time, and "wall − sum" would
then be negative. The split therefore sweeps the nodes' execute intervals over time: each
moment is shared equally among the nodes running then, so models, tests and the remaining
dbt overhead (start-up, parsing, compiling, the gaps between nodes) add up to the wall
time exactly. The plain per-type sums of ``execution_time`` are kept beside it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

# resource type (the first part of a unique_id) -> the stage its time is reported under
CATEGORY = {"model": "dbt_models", "seed": "dbt_models", "snapshot": "dbt_models",
            "test": "dbt_tests", "unit_test": "dbt_tests"}


def run_results_path(warehouse: Path, target: str = "duckdb") -> Path:
    """The last build's run_results.json (``upsell.transform.dbt_work_dir``)."""
    from upsell.transform import dbt_work_dir

    return dbt_work_dir(warehouse, target) / "target" / "run_results.json"


def category(unique_id: str) -> str:
    """``dbt_models`` or ``dbt_tests`` for a node id (anything else counts as a model)."""
    return CATEGORY.get(unique_id.split(".", 1)[0], "dbt_models")


def _execute_interval(node: dict) -> tuple[float, float] | None:
    """The node's execute phase as POSIX seconds, when dbt recorded it."""
    for phase in node.get("timing", []):
        if phase.get("name") == "execute" and phase.get("started_at") and phase.get("completed_at"):
            start = datetime.fromisoformat(phase["started_at"].replace("Z", "+00:00")).timestamp()
            end = datetime.fromisoformat(phase["completed_at"].replace("Z", "+00:00")).timestamp()
            return start, max(start, end)
    return None


def execution_sums(results: list[dict]) -> dict[str, float]:
    """Sum of ``execution_time`` per category (overlapping threads counted twice)."""
    sums = {"dbt_models": 0.0, "dbt_tests": 0.0}
    for node in results:
        sums[category(node["unique_id"])] += float(node.get("execution_time") or 0.0)
    return sums


def attribute_concurrent(intervals: list[tuple[str, float, float]]) -> dict[str, float]:
    """Seconds per category when each instant is split equally among the intervals open then.

    ``intervals``: (category, start, end). The result adds up to the length of the union of
    the intervals: time covered by no node is not in it (that is dbt's own overhead).
    """
    events = sorted({t for _c, s, e in intervals for t in (s, e)})
    out: dict[str, float] = {}
    for lo, hi in zip(events, events[1:], strict=False):
        running = [c for c, s, e in intervals if s <= lo and e >= hi]
        for c in running:
            out[c] = out.get(c, 0.0) + (hi - lo) / len(running)
    return out


def split_build(results: list[dict], wall_s: float) -> dict[str, float]:
    """``dbt_models``, ``dbt_tests`` and ``dbt_overhead`` seconds adding up to ``wall_s``.

    Nodes without execute timings (skipped ones) contribute nothing. When the nodes'
    covered time somehow exceeds ``wall_s`` (clock skew), models and tests are scaled down
    so that the three parts still add up to the wall time, with no overhead.
    """
    intervals = []
    for node in results:
        span = _execute_interval(node)
        if span:
            intervals.append((category(node["unique_id"]), *span))
    parts = {"dbt_models": 0.0, "dbt_tests": 0.0, **attribute_concurrent(intervals)}
    covered = parts["dbt_models"] + parts["dbt_tests"]
    if covered > wall_s > 0:
        parts = {k: v * wall_s / covered for k, v in parts.items()}
        covered = wall_s
    parts["dbt_overhead"] = max(0.0, wall_s - covered)
    return {k: round(v, 3) for k, v in parts.items()}


def top_nodes(results: list[dict], n: int = 8) -> list[tuple[str, float]]:
    """The ``n`` slowest nodes (name without the project prefix, execution seconds)."""
    timed = sorted(((r["unique_id"].split(".", 2)[-1], float(r.get("execution_time") or 0.0)) for r in results),
                   key=lambda x: -x[1])
    return [(name, round(secs, 2)) for name, secs in timed[:n]]


def load_results(warehouse: Path, target: str = "duckdb") -> list[dict]:
    """The node results of the warehouse's last dbt invocation."""
    return json.loads(run_results_path(warehouse, target).read_text())["results"]


def build_profile(warehouse: Path, wall_s: float, target: str = "duckdb") -> dict:
    """What a job reports about its dbt build: the split, the raw sums, the slowest nodes."""
    results = load_results(warehouse, target)
    return {"split": split_build(results, wall_s), "execution_sums": execution_sums(results),
            "nodes": len(results), "top_nodes": top_nodes(results)}
