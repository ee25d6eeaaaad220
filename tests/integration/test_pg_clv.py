"""Predictive CLV on the Postgres target (upsell.pg_clv) with real dbt and a real Postgres.

* The two dbt selections the Postgres build runs around the CLV step (selectors.yml) split
  the project: every model, seed and test is in exactly one, the CLV models' inputs in the
  first, the CLV stand-ins and everything downstream in the second (``dbt ls``).
* The step, run on a manifest that ``dbt parse`` wrote for the postgres target, reads the
  summary table dbt would have built, and writes exactly (bit for bit) what the DuckDB
  Python models' functions return for the same rows, with the vars given to dbt.

Uses a throw-away database ``pgclv_<random>``; skipped without a Postgres server (fails on CI).
The whole Postgres build against DuckDB's marts is tests/integration/test_postgres_target.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.integration.pgdb import pg_params, throwaway_database
from upsell import clv
from upsell.clv_marts import fit_models, score_customers
from upsell.pg_clv import run_clv_step

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
AS_OF = "2026-10-31"


def _dbt(tmp: Path, *args: str, dbname: str = "unused") -> str:
    env = {**os.environ, "UPSELL_DBT_TARGET": "postgres", "UPSELL_EMAIL_SALT": "x", "PGDATABASE": dbname}
    proc = subprocess.run([str(DBT), *args, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
                           "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _ls(tmp: Path, *selection: str) -> set[str]:
    out = _dbt(tmp, "ls", "--quiet", "--resource-type", "all", "--output", "json", "--output-keys",
               "unique_id resource_type", *selection)
    return {row["unique_id"] for row in map(json.loads, out.splitlines())
            if row["resource_type"] not in ("source", "exposure")}


def test_the_two_postgres_builds_split_every_node(tmp_path):
    everything = _ls(tmp_path)
    first = _ls(tmp_path, "--selector", "clv_inputs")
    rest = _ls(tmp_path, "--selector", "after_clv_inputs")
    assert not first & rest, f"built twice: {sorted(first & rest)}"
    assert first | rest == everything, f"never built: {sorted(everything - first - rest)}"
    model = "model.upsell_warehouse."
    assert {model + "int_customer_purchase_summary", model + "stg_billing__invoices"} <= first
    assert {model + "int_clv_model_fits", model + "int_customer_clv_scored", model + "customer_clv_prediction",
            model + "customer_360", model + "upsell_next_best_action"} <= rest
    # the tests of the summary run before the fit reads it; the stand-ins' tests after they exist
    assert any(t.startswith("test.upsell_warehouse.unique_int_customer_purchase_summary_account_id") for t in first)
    assert any(t.startswith("test.upsell_warehouse.unique_int_customer_clv_scored_account_id") for t in rest)


@pytest.fixture
def pg_db():
    with throwaway_database("pgclv") as name:
        yield name


def _summary(n: int = 3000) -> pd.DataFrame:
    """CLV inputs as int_customer_purchase_summary has them: integer day counts, double money."""
    rng = np.random.default_rng(7)
    T = rng.integers(0, 900, n).astype(float)
    x, t_x, _, _ = clv.simulate_bgnbd(clv.BgNbdParams(r=0.6, alpha=50.0, a=0.8, b=2.5), T, rng)
    # mean repeat spend per purchase day: a decimal sum of yen over an integer count, as in the SQL
    money = np.where(x > 0, np.round(rng.gamma(6.0, 5000.0, n) * np.maximum(x, 1), 2) / np.maximum(x, 1), 0.0)
    ids = [f"ACC{i:05d}" for i in rng.permutation(n)]  # stored out of account order
    return pd.DataFrame({"account_id": ids, "as_of_date": pd.Timestamp(AS_OF).date(),
                         "clv_frequency": x.astype(np.int64), "clv_recency_days": np.floor(t_x).astype(np.int64),
                         "clv_t_days": T.astype(np.int64), "clv_monetary_value_jpy": money})


def _read(cur, table: str, order: str) -> pd.DataFrame:
    cur.execute(f"SELECT * FROM clv_scoring.{table} ORDER BY {order}")
    return pd.DataFrame.from_records(cur.fetchall(), columns=[c[0] for c in cur.description])


def test_step_writes_what_the_python_models_compute(tmp_path, pg_db, monkeypatch):
    import psycopg2
    from psycopg2.extras import execute_values

    vars_ = {"as_of": AS_OF, "clv_time_unit": "week", "clv_horizon_days": 180, "clv_discount_rate_monthly": 0.02}
    _dbt(tmp_path, "parse", "--vars", json.dumps(vars_), dbname=pg_db)
    monkeypatch.setenv("PGDATABASE", pg_db)  # the step connects like the pipeline: libpq's PG* variables
    summary = _summary()
    con = psycopg2.connect(**pg_params(pg_db))
    try:
        with con.cursor() as cur:
            cur.execute("CREATE SCHEMA intermediate")
            cur.execute("CREATE TABLE intermediate.int_customer_purchase_summary (account_id text, as_of_date date, "
                        "clv_frequency bigint, clv_recency_days bigint, clv_t_days bigint, "
                        "clv_monetary_value_jpy double precision)")
            execute_values(cur, "INSERT INTO intermediate.int_customer_purchase_summary VALUES %s",
                           [tuple(r) for r in summary.astype(object).itertuples(index=False, name=None)])
        con.commit()

        result = run_clv_step(tmp_path / "target" / "manifest.json")
        assert result.customers == len(summary)
        result = run_clv_step(tmp_path / "target" / "manifest.json")  # a re-run replaces, never appends

        want_fits = fit_models(summary, time_unit="week")
        want_scored = score_customers(summary, want_fits, horizon_days=180, monthly_discount_rate=0.02)
        with con.cursor() as cur:
            got_fits = _read(cur, "clv_model_fits", "model, parameter")
            got_scored = _read(cur, "customer_clv_scored", "account_id")
    finally:
        con.close()
    assert result.parameters == len(want_fits) == len(got_fits) == 8
    assert set(got_fits.time_unit) == {"week"} and set(got_scored.horizon_days) == {180}  # vars reached the step
    want_fits = want_fits.sort_values(["model", "parameter"]).reset_index(drop=True)
    assert got_fits["value"].notna().all()
    # bit for bit: the same inputs through the same functions, written in round-trip text
    assert got_fits["value"].tolist() == want_fits["value"].tolist()
    assert got_fits["log_likelihood"].tolist() == want_fits["log_likelihood"].tolist()
    assert got_fits["customers"].tolist() == want_fits["customers"].tolist()
    want_scored = want_scored.sort_values("account_id").reset_index(drop=True)
    assert len(got_scored) == len(summary)
    for col in ("probability_alive", "expected_purchases_365d", "expected_avg_purchase_value_jpy",
                "predicted_clv_365d_jpy"):
        assert got_scored[col].notna().all(), col
        assert got_scored[col].tolist() == want_scored[col].tolist(), col
