"""Real Airflow 3 on the Postgres target: with ``UPSELL_TARGET=postgres`` the nightly DAG copies
the file loads to Postgres, builds there (predictive CLV step included), validates and
publishes schema ``marts``: `airflow dags test upsell_nightly` on the bundled sample with a
temporary AIRFLOW_HOME (SQLite metadata) and a throw-away database ``pgclv_<random>``
(prefix: ``UPSELL_TEST_PG_PREFIX``). Skipped without a Postgres server (fails on CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.integration.airflow_procs import sample_airflow_env
from tests.integration.pgdb import pg_params, throwaway_database
from tests.integration.test_airflow_dags import DAGBAG_PROBE, dags_test, task_states

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DB_PREFIX = "pgclv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_database():
    with throwaway_database(DB_PREFIX) as name:
        yield name


@pytest.fixture(scope="module")
def pg_airflow_env(tmp_path_factory, pg_database) -> dict[str, str]:
    return sample_airflow_env(tmp_path_factory, "pg", "airflow-pg-test-salt",
                              UPSELL_TARGET="postgres", PGDATABASE=pg_database)


def test_postgres_dag_shape(pg_airflow_env):
    proc = subprocess.run([sys.executable, "-c", DAGBAG_PROBE, str(REPO / "dags")], env=pg_airflow_env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bag = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not bag["errors"], bag["errors"]
    tasks = bag["dags"]["upsell_nightly"]["tasks"]
    assert not [t for t in tasks if t.startswith("dbt.")]  # no Cosmos group on this target
    assert tasks["copy_to_postgres"]["upstream"] == ["validate_raw"]
    assert tasks["dbt_build"]["upstream"] == ["copy_to_postgres", "resolve_as_of"]
    assert "dbt_build" in tasks["validate"]["upstream"]
    assert tasks["publish"]["upstream"] == ["resolve_as_of", "validate"]
    assert "report" not in tasks


def test_dags_test_builds_validates_and_publishes_in_postgres(pg_airflow_env, pg_database):
    import psycopg2

    proc, log, run_id, state = dags_test(pg_airflow_env, "2026-11-01")
    assert proc.returncode == 0 and state == "success", log[-5000:]
    states = task_states(pg_airflow_env, run_id)
    for task_id in ("validate_raw", "copy_to_postgres", "dbt_build", "validate", "publish"):
        assert states[task_id] == "success", (task_id, states)
    with psycopg2.connect(**pg_params(pg_database)) as con, con.cursor() as cur:
        cur.execute("SELECT DISTINCT as_of_date FROM marts.customer_rfm")
        assert cur.fetchall() == [(date(2026, 10, 31),)]
        # the predictive CLV step ran between the two dbt builds, and its marts were published
        cur.execute("SELECT count(*), count(value) FROM marts.clv_model_params")
        assert cur.fetchone() == (8, 8)
        cur.execute("SELECT count(*), count(probability_alive) FROM marts.customer_clv_prediction")
        customers, scored = cur.fetchone()
        cur.execute("SELECT count(*) FROM marts.customer_rfm")
        assert customers == scored == cur.fetchone()[0] > 0
        cur.execute("SELECT DISTINCT run_id FROM audit.publishes")
        assert cur.fetchall() == [(run_id,)]
