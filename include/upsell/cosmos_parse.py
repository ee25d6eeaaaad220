"""``dbt parse`` as Airflow's dbt producer will run it: once per deployment, not per night.

Cosmos renders the DAG from a pre-built manifest and hands its dbt build the newer of two
partial-parse files: the project's ``target/`` and its own cache
(``$AIRFLOW__COSMOS__CACHE_DIR/<dag>__<group>/target``). dbt throws that file away and parses
the whole project (≈ 2.5 s at start, before the first model) unless it was written with the
producer's vars, profile and target and the same connection values, the DuckDB path among
them (dbt hashes the profile's connection info). ``make manifest``, the compose file's
``airflow-init`` and the benchmark's Airflow set-up all parse through here, with the
producer's own values (``upsell.dag_support``), so a deployment's first night keeps the
parse as later nights do (they reuse the file each build leaves in Cosmos' cache).

Absolute paths: the partial-parse file keeps the project's root path, and dbt reads the
seeds' CSV files from there (a relative one would resolve inside Cosmos' temporary copy of
the project). ``--no-partial-parse``: dbt would otherwise keep an earlier parse's paths
when nothing else changed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from upsell.dag_support import COSMOS_CACHE_ID, DBT_PROFILE, DBT_PROJECT, DBT_TARGET, producer_vars

PARTIAL_PARSE = "partial_parse.msgpack"


def parse_command(target_path: Path, log_path: Path) -> list[str]:
    """The ``dbt parse`` invocation (the producer's profile, target and vars)."""
    return [str(Path(sys.executable).with_name("dbt")), "parse",
            "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--profile", DBT_PROFILE, "--target", DBT_TARGET, "--no-partial-parse",
            "--vars", json.dumps(producer_vars()),
            "--target-path", str(Path(target_path).resolve()), "--log-path", str(Path(log_path).resolve()),
            "--quiet"]


def parse(warehouse: Path, target_path: Path, log_path: Path) -> Path:
    """Write ``manifest.json`` and the partial-parse file to ``target_path`` for this
    warehouse; raise with dbt's output when the parse fails. The email-hash salt only has to
    be set (the few models that read it are re-parsed by the build, which has the real one)."""
    env = {**os.environ, "UPSELL_EMAIL_SALT": "parse-only", "UPSELL_WAREHOUSE": str(Path(warehouse).resolve())}
    done = subprocess.run(parse_command(target_path, log_path), env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"dbt parse failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return Path(target_path)


def seed_cosmos_cache(target_path: Path, cache_dir: Path) -> Path:
    """Copy the parse into the dbt task group's Cosmos cache, where the producer looks for it
    beside the project's own ``target/`` (the newer file wins)."""
    cached = Path(cache_dir) / COSMOS_CACHE_ID / "target"
    cached.mkdir(parents=True, exist_ok=True)
    for name in (PARTIAL_PARSE, "manifest.json"):
        shutil.copy2(Path(target_path) / name, cached / name)
    return cached


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m upsell.cosmos_parse", description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, required=True, help="the DuckDB file the DAG will build")
    ap.add_argument("--target-path", type=Path, required=True, help="where dbt writes manifest.json")
    ap.add_argument("--log-path", type=Path, required=True, help="dbt's log folder")
    ap.add_argument("--cosmos-cache", type=Path, help="also seed this Cosmos cache dir (AIRFLOW__COSMOS__CACHE_DIR)")
    args = ap.parse_args(argv)
    target = parse(args.warehouse, args.target_path, args.log_path)
    print(f"dbt parse for {args.warehouse.resolve()}: {target.resolve() / 'manifest.json'}")
    if args.cosmos_cache:
        print(f"Cosmos cache seeded: {seed_cosmos_cache(target, args.cosmos_cache)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
