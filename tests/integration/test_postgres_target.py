"""The same models give the same numbers on Postgres as on DuckDB.

The bundled S sample is run twice from the same landing folder: once through ingestion +
dbt build on the default DuckDB target (in-process API), once with ``upsell run --target
postgres`` (its own ingestion file, raw validation, copy of each file load to Postgres,
dbt build into ``marts_build``, marts validation, publish into ``marts``), into a
throw-away database ``pgtarget_<random>``. Then every mart of ``dbt_project/models/marts``
as published in Postgres' schema ``marts`` is compared row by row with DuckDB's.

Values are compared exactly (Decimal money, integers, dates, text, booleans, instants),
except double precision columns, compared with a relative tolerance of 1e-9: the two
engines add and divide doubles in different orders (parallel aggregation, Postgres' numeric
averages vs DuckDB's double ones), which moves the last bits (~1e-15 relative) of a
result; 1e-9 is six orders of magnitude above that noise and far below any precision the
spec publishes (scores rounded to 2 or 6 decimals, rates shown as percentages).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.integration.pgdb import pg_params, throwaway_database
from upsell.generate.increment import generate_next_day
from upsell.ingest import ingest
from upsell.pipeline import build

# throw-away database names: pgtarget_<random>, or $UPSELL_TEST_PG_PREFIX_<random> when several
# checkouts share one server
DB_PREFIX = "pgtarget"

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "include" / "sample"
MAPPINGS = REPO / "include" / "mappings" / "salesforce"
AS_OF = date(2026, 10, 31)
NEXT_DAY = date(2026, 11, 1)  # the next night, in the next month
SALT = "pg-target-test-salt"
REL_TOL = 1e-9
MARTS = sorted(p.stem for p in (REPO / "dbt_project" / "models" / "marts").rglob("*.sql"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_database():
    with throwaway_database(DB_PREFIX) as name:
        yield name


@pytest.fixture(scope="module")
def both(tmp_path_factory, pg_database):
    """(DuckDB warehouse file, Postgres database name, stdout of the Postgres run)."""
    root = tmp_path_factory.mktemp("pgtarget")
    landing = root / "landing"
    shutil.copytree(SAMPLE, landing)
    return _night(root, pg_database, AS_OF)


@pytest.fixture(scope="module")
def next_night(both):
    """Both warehouses after an incremental night: the generator's next day of new, late,
    re-exported and stale rows, as of the first day of the next month (the incremental
    models' pre-hooks and deletes run on Postgres too)."""
    duck, pg_database, _ = both
    root = duck.parents[1]
    generate_next_day(root / "landing", NEXT_DAY)
    return _night(root, pg_database, NEXT_DAY)


def _night(root: Path, pg_database: str, as_of: date) -> tuple[Path, str, str]:
    """One night on both targets: DuckDB (ingest, dbt build) and Postgres (`upsell run`)."""
    landing = root / "landing"
    env_before = os.environ.get("UPSELL_EMAIL_SALT")
    os.environ["UPSELL_EMAIL_SALT"] = SALT
    try:
        duck = root / "duckdb" / "warehouse.duckdb"
        ingest(landing, duck, f"pg-compare-{as_of}", mapping_dirs=[MAPPINGS])
        build(duck, as_of, target="duckdb")
    finally:
        if env_before is None:
            os.environ.pop("UPSELL_EMAIL_SALT")
        else:
            os.environ["UPSELL_EMAIL_SALT"] = env_before
    env = {**os.environ, "UPSELL_EMAIL_SALT": SALT, "PGDATABASE": pg_database}
    env.pop("UPSELL_TARGET", None)
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("upsell")), "run", "--landing", str(landing),
         "--warehouse", str(root / "pg" / "warehouse.duckdb"), "--as-of", as_of.isoformat(),
         "--mappings", str(MAPPINGS), "--target", "postgres"],
        capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return duck, pg_database, proc.stdout


def _pg(dbname: str):
    import psycopg2

    return psycopg2.connect(**pg_params(dbname), options="-c TimeZone=UTC")


def _sort_key(row: tuple) -> tuple:
    # None first; doubles rounded for ordering only (the comparison below uses the tolerance)
    return tuple((v is not None, round(v, 6) if isinstance(v, float) else v) for v in row)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def test_postgres_run_reports_the_copy_and_the_build(both):
    duck, dbname, out = both
    con = duckdb.connect(str(duck), read_only=True)
    loads = con.execute("SELECT count(*) FROM audit.file_loads").fetchone()[0]
    con.close()
    assert f"Copied to Postgres: {loads} file load(s)" in out
    assert "dbt build (postgres):" in out and " error" not in out.split("dbt build (postgres):")[1].splitlines()[0]
    assert f"Published {len(MARTS)} marts for BI to Postgres" in out and f"/{dbname}, schema marts" in out
    # the same GX suites ran on the Postgres marts (one suite per mart at least)
    marts_line = next(line for line in out.splitlines() if line.startswith("marts validation:"))
    assert int(marts_line.split(":")[1].split()[0]) >= len(MARTS)
    assert "0 failed error-level expectations" in marts_line


def test_postgres_audit_reconciles_with_the_duckdb_audit(both):
    duck, dbname, _ = both
    con = duckdb.connect(str(duck), read_only=True)
    want = con.execute("SELECT dataset, sum(rows_read), sum(rows_loaded), sum(rows_quarantined), "
                       "sum(duplicates_collapsed) FROM audit.file_loads GROUP BY 1 ORDER BY 1").fetchall()
    raw_counts = {d: con.execute(f"SELECT count(*) FROM raw.{d}").fetchone()[0] for d, *_ in want}
    con.close()
    with _pg(dbname) as pg, pg.cursor() as cur:
        cur.execute("SELECT dataset, sum(rows_read), sum(rows_loaded), sum(rows_quarantined), "
                    "sum(duplicates_collapsed) FROM audit.file_loads GROUP BY 1 ORDER BY 1")
        got = [tuple(int(v) if not isinstance(v, str) else v for v in r) for r in cur.fetchall()]
        for dataset, n in raw_counts.items():
            cur.execute(f"SELECT count(*) FROM raw.{dataset}")
            assert cur.fetchone()[0] == n, dataset
        cur.execute("SELECT count(*) FROM audit.quarantine")
        quarantined = cur.fetchone()[0]
    assert got == [tuple(int(v) if not isinstance(v, str) else v for v in r) for r in want]
    assert quarantined == sum(r[3] for r in want)


@pytest.mark.parametrize("mart", MARTS)
def test_mart_is_identical_on_postgres(both, mart):
    duck, dbname, _ = both
    assert_same_mart(duck, dbname, mart)


def assert_same_mart(duck: Path, dbname: str, mart: str) -> None:
    con = duckdb.connect(str(duck), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    d_cur = con.execute(f"SELECT * FROM marts.{mart}")
    d_cols = [c[0] for c in d_cur.description]
    d_rows = sorted(d_cur.fetchall(), key=_sort_key)
    con.close()
    with _pg(dbname) as pg, pg.cursor() as cur:
        cur.execute(f"SELECT * FROM marts.{mart}")
        p_cols = [c[0] for c in cur.description]
        p_rows = sorted(cur.fetchall(), key=_sort_key)
    assert p_cols == d_cols
    assert d_rows, f"{mart} is empty on DuckDB: the comparison would prove nothing"
    assert len(p_rows) == len(d_rows)
    for d_row, p_row in zip(d_rows, p_rows, strict=True):
        diffs = [(col, dv, pv) for col, dv, pv in zip(d_cols, d_row, p_row, strict=True) if not _same(dv, pv)]
        assert not diffs, f"{mart}: DuckDB vs Postgres differ in {diffs} (DuckDB row {d_row})"


def test_clv_fit_is_bit_for_bit_on_postgres(both):
    """On Postgres the CLV models' Python runs outside dbt (upsell.pg_clv) on inputs read back
    from Postgres: exact inputs (integer day counts, one double division of a decimal) in the
    same order give the very same optimiser path, so the parameters are equal, not just close."""
    duck, dbname, _ = both
    con = duckdb.connect(str(duck), read_only=True)
    want = con.execute("SELECT model, parameter, value, log_likelihood, customers FROM marts.clv_model_params "
                       "ORDER BY 1, 2").fetchall()
    con.close()
    with _pg(dbname) as pg, pg.cursor() as cur:
        cur.execute("SELECT model, parameter, value, log_likelihood, customers FROM marts.clv_model_params "
                    "ORDER BY 1, 2")
        got = cur.fetchall()
    assert len(want) == 8 and all(row[2] is not None for row in want)
    assert got == want


@pytest.mark.parametrize("mart", MARTS)
def test_mart_is_identical_on_postgres_after_an_incremental_night(next_night, mart):
    duck, dbname, _ = next_night
    assert_same_mart(duck, dbname, mart)
