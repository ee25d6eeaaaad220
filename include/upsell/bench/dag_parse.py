"""DAG parse time of dags/upsell_nightly.py, as Airflow's DAG processor measures it.

Each round imports the DAG file in a fresh interpreter (after Airflow itself is imported,
as in the DAG processor) and reports the time to build the DagBag; the median of the
rounds goes to docs/benchmarks.md. Usage: ``python -m upsell.bench.dag_parse --rounds 5``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys, time
import airflow.sdk  # the DAG processor has Airflow loaded before it parses a file
from airflow.models.dagbag import DagBag
t = time.perf_counter()
bag = DagBag(sys.argv[1])
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "dags": len(bag.dags), "errors": len(bag.import_errors),
                  "tasks": sum(len(d.tasks) for d in bag.dags.values())}))
"""


def measure_parse(rounds: int = 5) -> dict:
    """Median and max seconds of building the DagBag in ``rounds`` fresh interpreters."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-dag-parse-") as home:
        env = {"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "PATH": "/usr/bin:/bin"}
        for _ in range(rounds):
            proc = subprocess.run([sys.executable, "-c", PROBE, str(REPO / "dags" / "upsell_nightly.py")],
                                  capture_output=True, text=True, env=env, check=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    seconds = [r["seconds"] for r in results]
    return {"median_seconds": round(statistics.median(seconds), 3), "max_seconds": round(max(seconds), 3),
            "rounds": [round(s, 3) for s in seconds], "tasks": results[0]["tasks"],
            "import_errors": results[0]["errors"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(measure_parse(args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
