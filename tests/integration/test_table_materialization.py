"""The project's table and view materializations on DuckDB (dbt_project/macros/materializations/).

Real dbt and DuckDB on a small project that uses the real macro files: a rebuild replaces the
relation and leaves no intermediate or backup relation behind, a view becomes a table and a
table a view, a Python model builds and rebuilds, a contract with a primary key is handed to
dbt-duckdb's own materialization, and a failure inside the transaction (a post-hook) leaves
the old relations as they were (a Python model's intermediate table stays until the next run drops it, as with
dbt-duckdb's own). dbt's debug log shows which swap ran: dbt-duckdb's own renames the old table to
a ``__dbt_backup`` name (so does dbt's view materialization), the project's drops it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from upsell.transform import PROJECT_DIR

BIN = Path(sys.executable).parent
MATERIALIZATIONS = PROJECT_DIR / "macros" / "materializations"

PROJECT = """
name: swap_test
version: "1.0"
config-version: 2
profile: swap_test
macro-paths: ["macros"]
models:
  swap_test:
    +post-hook: "{{ var('post_hook', 'select 1') }}"
"""

PROFILES = """
swap_test:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('SWAP_TEST_WAREHOUSE') }}"
      threads: 1
"""

MODELS = {
    "numbers.sql": "{{ config(materialized='table') }}\nselect {{ var('n', 1) }} as n",
    "was_view.sql": "{{ config(materialized=var('was_view_as', 'view')) }}\nselect {{ var('n', 1) }} as n",
    "was_table.sql": "{{ config(materialized=var('was_table_as', 'table')) }}\nselect {{ var('n', 1) }} as n",
    "a_view.sql": "{{ config(materialized='view') }}\nselect n + 10 as n from {{ ref('numbers') }}",
    "keyed.sql": "{{ config(materialized='table') }}\nselect {{ var('n', 1) }} as id",
    "scored.py": ("import pandas as pd\n\n\ndef model(dbt, session):\n"
                  "    dbt.config(materialized='table')\n"
                  "    return pd.DataFrame({'score': [1, 2, 3]})\n"),
    "keyed.yml": """
models:
  - name: keyed
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: primary_key
""",
}


# the relations every run builds, and their types
BUILT = {"numbers": "BASE TABLE", "a_view": "VIEW", "keyed": "BASE TABLE", "scored": "BASE TABLE"}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    shutil.copytree(MATERIALIZATIONS, root / "macros")
    (root / "dbt_project.yml").write_text(PROJECT)
    (root / "profiles.yml").write_text(PROFILES)
    for name, text in MODELS.items():
        (root / "models" / name).write_text(text)
    return root


def _dbt_run(project: Path, run: str, **vars_) -> subprocess.CompletedProcess:
    logs = project / "logs" / run
    return subprocess.run(
        [str(BIN / "dbt"), "run", "--project-dir", str(project), "--profiles-dir", str(project),
         "--log-path", str(logs), "--log-level-file", "debug", "--vars", json.dumps(vars_)],
        env={**os.environ, "SWAP_TEST_WAREHOUSE": str(project / "wh.duckdb")},
        capture_output=True, text=True)


def _relations(project: Path) -> dict[str, str]:
    with duckdb.connect(str(project / "wh.duckdb"), read_only=True) as con:
        return dict(con.execute("select table_name, table_type from information_schema.tables "
                                "where table_schema = 'main'").fetchall())


def _value(project: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(project / "wh.duckdb"), read_only=True) as con:
        return con.execute(f"select * from {table} order by 1").fetchall()


def _backup_lines(project: Path, run: str) -> list[str]:
    log = (project / "logs" / run / "dbt.log").read_text()
    return [line for line in log.splitlines() if "__dbt_backup" in line]


def test_table_models_are_swapped_in_one_transaction(project: Path):
    first = _dbt_run(project, "first", n=1)
    assert first.returncode == 0, first.stdout[-3000:]
    assert _relations(project) == {**BUILT, "was_view": "VIEW", "was_table": "BASE TABLE"}

    second = _dbt_run(project, "second", n=2, was_view_as="table", was_table_as="view")
    assert second.returncode == 0, second.stdout[-3000:]
    # replaced, and nothing left under an intermediate or backup name
    assert _relations(project) == {**BUILT, "was_view": "BASE TABLE", "was_table": "VIEW"}
    assert _value(project, "numbers") == [(2,)]
    assert _value(project, "a_view") == [(12,)]
    assert _value(project, "was_view") == [(2,)]
    assert _value(project, "was_table") == [(2,)]
    assert _value(project, "keyed") == [(2,)]
    assert _value(project, "scored") == [(1,), (2,), (3,)]
    # only the keyed model (primary key in its contract) went through dbt-duckdb's renames
    backups = _backup_lines(project, "second")
    assert backups, "dbt-duckdb's own materialization should have built the keyed model"
    assert all('"keyed__dbt_backup"' in line for line in backups), backups


def test_a_failure_before_the_commit_keeps_the_old_table(project: Path):
    assert _dbt_run(project, "first", n=1).returncode == 0
    # the post-hook runs inside the model's transaction, after the old table was dropped
    failed = _dbt_run(project, "failed", n=2, post_hook="select error('post-hook failed')")
    assert failed.returncode != 0
    assert "post-hook failed" in failed.stdout
    assert _value(project, "numbers") == [(1,)]
    assert _value(project, "scored") == [(1,), (2,), (3,)]
    # a Python model writes its intermediate table through a cursor of its own, which has
    # committed it; the next run drops it before building
    assert _value(project, "a_view") == [(11,)]
    assert set(_relations(project)) - {"scored__dbt_tmp"} == {*BUILT, "was_view", "was_table"}
    again = _dbt_run(project, "again", n=3)
    assert again.returncode == 0, again.stdout[-3000:]
    assert set(_relations(project)) == {*BUILT, "was_view", "was_table"}
    assert _value(project, "numbers") == [(3,)]
    assert _value(project, "a_view") == [(13,)]
