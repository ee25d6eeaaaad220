"""Shared integration fixtures: one published S sample for every test that reads the
serving folder (the BI recipes, the nightly report): `upsell run` takes minutes, so the
run is made once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def published_sample(tmp_path_factory) -> Path:
    """`upsell run` on a copy of the bundled S sample as of 2026-10-31: the serving folder
    (upsell.duckdb, parquet/current/, report/) exactly as BI users and managers get it."""
    root = tmp_path_factory.mktemp("published_sample")
    landing = root / "landing"
    shutil.copytree(REPO / "include" / "sample", landing)
    warehouse = root / "wh" / "warehouse.duckdb"
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("upsell")), "run", "--landing", str(landing), "--warehouse",
         str(warehouse), "--as-of", "2026-10-31", "--mappings", str(REPO / "include" / "mappings" / "salesforce")],
        capture_output=True, text=True, env={**os.environ, "UPSELL_EMAIL_SALT": "test-salt"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    serving = warehouse.parent / "serving"
    assert (serving / "upsell.duckdb").exists()
    return serving
