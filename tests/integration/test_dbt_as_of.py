"""Where dbt gets the as-of date: UPSELL_AS_OF in its environment, or --vars, which wins;
neither is a clear compilation error, never a silent default date."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from upsell.transform import AS_OF_ENV, PROJECT_DIR


def _compile(tmp: Path, *args: str, as_of: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != AS_OF_ENV}
    env |= {"UPSELL_WAREHOUSE": str(tmp / "w.duckdb"), "UPSELL_EMAIL_SALT": "as-of-test"}
    if as_of:
        env[AS_OF_ENV] = as_of
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "compile", "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
         "--select", "int_campaign_windows", *args], env=env, capture_output=True, text=True)


def _compiled(tmp: Path) -> str:
    return next((tmp / "target" / "compiled").rglob("int_campaign_windows.sql")).read_text()


@pytest.mark.parametrize(("as_of", "args", "expected"), [
    ("2026-10-15", (), "2026-10-15"),
    ("2026-10-15", ("--vars", "{as_of: '2026-09-30'}"), "2026-09-30"),
    (None, ("--vars", "{as_of: '2026-09-30'}"), "2026-09-30"),
])
def test_the_as_of_date_comes_from_the_environment_or_vars(tmp_path, as_of, args, expected):
    proc = _compile(tmp_path, *args, as_of=as_of)
    assert proc.returncode == 0, proc.stdout[-3000:]
    sql = _compiled(tmp_path)
    assert f"cast('{expected}' as date)" in sql and "1970-01-01" not in sql


def test_no_as_of_date_is_a_clear_error(tmp_path):
    proc = _compile(tmp_path)
    assert proc.returncode != 0
    assert "no as-of date: set UPSELL_AS_OF=YYYY-MM-DD or --vars" in proc.stdout
