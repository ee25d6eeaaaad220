"""The Postgres target's own steps on a real server: the copy of committed file loads from
DuckDB, and the publish of ``marts_build`` into ``marts``.

Small landing folders written here (expected values hand-computed from these rows); a
throw-away database ``pgtarget_<random>`` per test, dropped afterwards. Skipped when no
server answers, failing instead when ``CI`` is set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2
import pytest

from tests.integration.pgdb import pg_params, throwaway_database
from upsell.ingest import ingest
from upsell.pg_load import copy_to_postgres
from upsell.pg_publish import PublishError, publish_postgres

ACCOUNTS = (
    "account_id,account_name,industry,employee_count,capital_jpy,prefecture,fiscal_year_end_month,"
    "created_at,updated_at\n"
    'A1,"Quote "" and, comma\nnewline",IT,120,1000000,東京都,3,2025-04-01 09:05,2025-04-01T09:05:00+09:00\n'
    "A2,\\N literal,,50,,大阪府,,2025-04-01,2025-04-02 10:00\n"
    "A3,bad,IT,1,2,東京都,3,2025-01-01,2025-13-45\n"
)
ACCOUNTS_LATER = (
    "account_id,account_name,industry,employee_count,capital_jpy,prefecture,fiscal_year_end_month,"
    "created_at,updated_at\n"
    "A9,Later,IT,9,9,東京都,3,2025-05-01,2025-05-01\n"
)


# throw-away database names: pgtarget_<random>, or $UPSELL_TEST_PG_PREFIX_<random> when several
# checkouts share one server
DB_PREFIX = "pgtarget"


@pytest.fixture
def pg(monkeypatch):
    """A fresh database and an open connection to it (PGDATABASE points there too)."""
    with throwaway_database(DB_PREFIX) as name:
        monkeypatch.setenv("PGDATABASE", name)
        con = psycopg2.connect(**pg_params(name), options="-c TimeZone=UTC")
        try:
            yield con
        finally:
            con.close()


def _rows(pg, sql: str) -> list[tuple]:
    with pg.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    pg.rollback()
    return rows


def test_values_quarantine_and_audit_arrive_exactly(landing, warehouse, pg):
    landing.write("crm/accounts_20250402.csv", ACCOUNTS)
    ingest(landing.root, warehouse)
    result = copy_to_postgres(warehouse)
    assert (len(result.loads), result.rows_loaded, result.rows_quarantined) == (1, 2, 1)
    rows = _rows(pg, "SELECT account_id, account_name, industry, employee_count, capital_jpy, "
                     "fiscal_year_end_month, updated_at, _source_line FROM raw.accounts ORDER BY 1")
    assert rows == [
        ("A1", 'Quote " and, comma\nnewline', "IT", 120, Decimal("1000000.00"), 3,
         datetime(2025, 4, 1, 0, 5, tzinfo=UTC), 2),
        # the text "\N" is a value, not NULL; an empty industry is NULL as in DuckDB
        ("A2", "\\N literal", None, 50, None, None, datetime(2025, 4, 2, 1, 0, tzinfo=UTC), 3),
    ]
    [(line, reason)] = _rows(pg, "SELECT line, reason FROM audit.quarantine")
    assert line == 4 and reason.startswith("updated_at")
    assert _rows(pg, "SELECT rows_read, rows_loaded, rows_quarantined, duplicates_collapsed, status "
                     "FROM audit.file_loads") == [(3, 2, 1, 0, "loaded")]


def test_copy_is_idempotent_and_picks_up_new_loads(landing, warehouse, pg):
    landing.write("crm/accounts_20250402.csv", ACCOUNTS)
    ingest(landing.root, warehouse)
    copy_to_postgres(warehouse)
    again = copy_to_postgres(warehouse)
    assert (again.loads, again.already_present) == ([], 1)
    landing.write("crm/accounts_20250501.csv", ACCOUNTS_LATER)
    ingest(landing.root, warehouse)
    later = copy_to_postgres(warehouse)
    assert (len(later.loads), later.rows_loaded, later.already_present) == (1, 1, 1)
    assert _rows(pg, "SELECT account_id FROM raw.accounts ORDER BY 1") == [("A1",), ("A2",), ("A9",)]


def test_a_failing_file_leaves_nothing_behind_and_the_others_stay(landing, warehouse, pg):
    landing.write("crm/accounts_20250402.csv", ACCOUNTS)
    ingest(landing.root, warehouse)
    landing.write("crm/accounts_20250501.csv", ACCOUNTS_LATER)
    ingest(landing.root, warehouse)  # a later night: copied after the first file
    copy_to_postgres(warehouse)  # creates the tables
    with pg.cursor() as cur:
        cur.execute("TRUNCATE raw.accounts, audit.quarantine, audit.file_loads")
        # Postgres refuses A9's row: its file must roll back as a whole (raw, quarantine, audit)
        cur.execute("ALTER TABLE raw.accounts ADD CONSTRAINT no_a9 CHECK (account_id <> 'A9')")
    pg.commit()
    with pytest.raises(psycopg2.errors.CheckViolation):
        copy_to_postgres(warehouse)
    loads = _rows(pg, "SELECT source_file FROM audit.file_loads")
    assert loads == [("crm/accounts_20250402.csv",)]
    assert _rows(pg, "SELECT count(*) FROM raw.accounts") == [(2,)]
    assert _rows(pg, "SELECT count(*) FROM audit.quarantine") == [(1,)]
    with pg.cursor() as cur:
        cur.execute("ALTER TABLE raw.accounts DROP CONSTRAINT no_a9")
    pg.commit()
    assert copy_to_postgres(warehouse).loads and _rows(pg, "SELECT count(*) FROM raw.accounts") == [(3,)]


def _build_schema(pg, marts: dict[str, int]) -> None:
    """marts_build with tables of n rows each, as dbt would leave it."""
    with pg.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS marts_build; CREATE SCHEMA IF NOT EXISTS audit")
        for mart, n in marts.items():
            cur.execute(f"DROP TABLE IF EXISTS marts_build.{mart}")
            cur.execute(f"CREATE TABLE marts_build.{mart} AS SELECT g AS id FROM generate_series(1, {n}) AS g")
    pg.commit()


def test_publish_replaces_every_mart_at_once_and_records_it(pg):
    _build_schema(pg, {"customer_rfm": 3, "old_mart": 1})
    publish_postgres("run-1", date(2026, 10, 30), pg)
    _build_schema(pg, {"customer_rfm": 5, "mrr_movements": 2})
    with pg.cursor() as cur:
        cur.execute("DROP TABLE marts_build.old_mart")
    pg.commit()
    result = publish_postgres("run-2", date(2026, 10, 31), pg)
    assert result.rows == {"customer_rfm": 5, "mrr_movements": 2}
    tables = _rows(pg, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1")
    assert tables == [("customer_rfm",), ("mrr_movements",)]  # old_mart left the project: gone
    assert _rows(pg, "SELECT count(*) FROM marts.customer_rfm") == [(5,)]
    assert _rows(pg, "SELECT run_id, mart, rows FROM audit.publishes ORDER BY run_id, mart") == [
        ("run-1", "customer_rfm", 3), ("run-1", "old_mart", 1),
        ("run-2", "customer_rfm", 5), ("run-2", "mrr_movements", 2)]


def test_a_view_on_a_served_mart_survives_a_publish(pg):
    _build_schema(pg, {"customer_rfm": 3})
    publish_postgres("run-1", date(2026, 10, 30), pg)
    with pg.cursor() as cur:
        cur.execute("CREATE VIEW public.bi_view AS SELECT * FROM marts.customer_rfm")
    pg.commit()
    _build_schema(pg, {"customer_rfm": 4})  # same columns: refilled in place
    publish_postgres("run-2", date(2026, 10, 31), pg)
    assert _rows(pg, "SELECT count(*) FROM public.bi_view") == [(4,)]


def test_a_failed_publish_leaves_the_served_marts_untouched(pg):
    _build_schema(pg, {"customer_rfm": 3, "mrr_movements": 1})
    publish_postgres("run-1", date(2026, 10, 30), pg)
    with pg.cursor() as cur:
        # a view on a served mart whose columns then change: it cannot be dropped and recreated
        cur.execute("CREATE VIEW public.bi_view AS SELECT * FROM marts.mrr_movements")
        cur.execute("ALTER TABLE marts_build.mrr_movements ADD COLUMN note varchar")
    pg.commit()
    with pg.cursor() as cur:
        cur.execute("INSERT INTO marts_build.customer_rfm SELECT 99")
    pg.commit()
    with pytest.raises(PublishError, match="(?s)mart mrr_movements changed.*view bi_view depends"):
        publish_postgres("run-2", date(2026, 10, 31), pg)
    # customer_rfm was refilled before mrr_movements failed: rolled back with it
    assert _rows(pg, "SELECT count(*) FROM marts.customer_rfm") == [(3,)]
    assert _rows(pg, "SELECT count(*) FROM marts.mrr_movements") == [(1,)]
    assert _rows(pg, "SELECT DISTINCT run_id FROM audit.publishes") == [("run-1",)]
