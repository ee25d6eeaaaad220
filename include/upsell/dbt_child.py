"""The dbt child of :class:`upsell.transform.PreparedDbt`: parse now, build when told.

``python -m upsell.dbt_child '{"command": "build", "common": [...], "extra": [...], "warm": [...]}'``
imports dbt and runs ``dbt parse`` with the common arguments (project, profiles, target
and log paths, vars), imports the ``warm`` modules, then reads one line from stdin: ``go`` runs the command with the
parsed manifest (dbt's documented ``dbtRunner(manifest=...)``: no second parse); end of
input exits without touching the warehouse. The command runs with ``--no-write-json`` and
this child writes its ``run_results.json``: dbt would otherwise serialise the whole manifest
again after the last node (2 MB, ≈ 0.5–0.9 s of every night on the critical path), and the
parse has written that manifest already. The exit code is the dbt CLI's: 0 success,
1 a node failed, 2 dbt itself failed.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    from dbt.cli.main import dbtRunner

    parsed = dbtRunner().invoke(["parse", *spec["common"]])
    if not parsed.success or parsed.result is None:
        print(f"dbt parse failed: {parsed.exception or 'see the log above'}", file=sys.stderr)
        return 2
    for module in spec.get("warm", []):
        # what the Python models import (pandas, scipy: ≈ 1 s), while the parent's raw gate
        # still runs, not inside a model, where it holds the GIL the other dbt thread needs
        try:
            importlib.import_module(module)
        except ImportError as exc:
            print(f"not pre-imported: {module} ({exc})", flush=True)  # logged by the parent
    if sys.stdin.readline().strip() != "go":
        return 0
    common = spec["common"]
    run_results = Path(common[common.index("--target-path") + 1]) / "run_results.json"
    run_results.unlink(missing_ok=True)  # never summarise an earlier night's results
    done = dbtRunner(manifest=parsed.result).invoke([spec["command"], "--no-write-json", *common, *spec["extra"]])
    if done.result is not None and hasattr(done.result, "write"):
        done.result.write(str(run_results))
    if done.exception is not None:
        print(f"dbt {spec['command']} failed: {done.exception}", file=sys.stderr)
        return 2
    return 0 if done.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
