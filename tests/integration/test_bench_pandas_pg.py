"""Baseline 2 of the benchmark suite (pandas ``read_csv`` + ``to_sql``) on a real Postgres.

A tiny hand-written landing folder: a CP932 accounts export with Japanese headers, a
Salesforce-style deals export with a BOM (needs the header mapping), and gzipped email
events. Every row is valid, so each raw table must hold exactly the rows of its file, with
the lineage columns the dbt models order by. A throw-away database per test module;
skipped without a server, failing when ``CI`` is set (``tests/integration/pgdb.py``).
"""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from tests.conftest import Landing
from tests.integration.pgdb import pg_params, throwaway_database
from upsell.bench.pandas_pg import PandasLoad, load_landing

REPO = Path(__file__).resolve().parents[2]

ACCOUNTS_CP932 = (
    "取引先ID,取引先名,業種,従業員数,資本金,都道府県,決算月,作成日時,更新日時\n"
    "A1,㈱髙橋製作所①,製造業,１２０,\"￥1,000,000\",東京都,3,2025-04-01 09:05,2025-04-02 10:00\n"
    "A2,みらい商事,卸売業,50,,大阪府,,2025/4/1,2025-04-03T10:00:00+09:00\n"
    "A3,北海工業,建設業,8,3000000,北海道,12,2025-04-01,2025-04-04 11:30:00\n"
)
DEALS_SF = (
    "\ufeffOpportunity ID,Account ID,Type,Stage,Amount,Product Code,Lead ID,Campaign ID,Opportunity Owner,"
    "Created Date,Close Date,Last Modified Date\n"
    "D1,A1,upsell,won,150000,P1,,,高橋 大地,2025-05-01T03:00:00Z,2025-06-01T03:00:00Z,2025-06-01T03:00:00Z\n"
    "D2,A2,cross_sell,proposal,,P2,,,,2025-05-02T03:00:00Z,,2025-05-02T03:00:00Z\n"
)
EVENTS = (
    "event_id,campaign_id,step,message_id,recipient_email,event_type,occurred_at,url,user_agent\n"
    "E1,C1,1,M1,a@example.com,sent,2025-05-01T10:00:00+09:00,,\n"
    "E2,C1,1,M1,a@example.com,opened,2025-05-01T11:00:00+09:00,,Mozilla\n"
    "E3,C1,1,M1,a@example.com,clicked,2025-05-01T11:01:00+09:00,https://example.com/?a=1,Mozilla\n"
    "E4,C1,2,M2,b@example.com,sent,2025-05-08 10:00:00,,\n"
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[str, PandasLoad]:
    """The landing folder above loaded into a fresh database: (database, what the loader said)."""
    landing = Landing(tmp_path_factory.mktemp("pandas_pg") / "landing")
    landing.write("crm/accounts.csv", ACCOUNTS_CP932, encoding="cp932")
    landing.write("crm/deals.csv", DEALS_SF)
    landing.write("email/email_events_part-000.csv.gz", EVENTS)
    with throwaway_database("benchpandas") as name:
        yield name, load_landing(landing.root, name, [REPO / "include" / "mappings" / "salesforce"])


def query(dbname: str, sql: str) -> list[tuple]:
    con = psycopg2.connect(**pg_params(dbname), options="-c TimeZone=UTC")
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def test_every_row_of_every_file_lands_in_its_raw_table(loaded):
    dbname, result = loaded
    assert {f.relpath: f.encoding for f in result.files}["crm/accounts.csv"] == "cp932"
    assert result.rows_dropped == 0
    counts = dict(query(dbname, "SELECT 'accounts', count(*) FROM raw.accounts UNION ALL "
                                "SELECT 'deals', count(*) FROM raw.deals UNION ALL "
                                "SELECT 'email_events', count(*) FROM raw.email_events"))
    assert counts == {"accounts": 3, "deals": 2, "email_events": 4}
    assert {f.relpath: f.rows_loaded for f in result.files} == {
        "crm/accounts.csv": 3, "crm/deals.csv": 2, "email/email_events_part-000.csv.gz": 4}


def test_values_are_typed_and_lineage_is_filled(loaded):
    dbname, _result = loaded
    rows = query(dbname, "SELECT account_name, employee_count, capital_jpy, updated_at::text, _source_file, "
                         "_source_line FROM raw.accounts ORDER BY account_id")
    # CP932 extension characters, full-width digits, yen sign and thousands separators
    assert rows[0][:3] == ("㈱髙橋製作所①", 120, 1000000)
    assert rows[0][3] == "2025-04-02 01:00:00+00"  # naive text is Tokyo time
    assert [(r[4], r[5]) for r in rows] == [("crm/accounts.csv", 2), ("crm/accounts.csv", 3), ("crm/accounts.csv", 4)]
