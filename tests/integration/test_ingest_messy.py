"""Ingestion against a real DuckDB file: every messy form of the spec, and every bad input.

Each test builds its own small landing folder, so expected values are hand-computed from
the rows written here, never copied from output.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import query
from upsell.ingest import ingest

ACCOUNTS_JA = (
    "取引先ID,取引先名,業種,従業員数,資本金,都道府県,決算月,作成日時,更新日時,,\n"
    'A1,"㈱髙橋商事①, 東京\n支店",IT,１２０,"￥1,000,000",東京都,3,2025/4/1 9:05,2025-04-01T09:05:00+09:00,,\n'
    "A2,株式会社B,製造,50,,大阪府,,2025/04/01,2025-04-02 10:00,,\n"
    "A2,株式会社B,製造,50,,大阪府,,2025/04/01,2025-04-02 10:00,,\n"
    ",名無し,IT,1,2,東京都,3,2025-01-01,2025-01-01,,\n"
    "A3,C社,IT,1,2,東京都,3,2025-01-01,2025-01-01,,,extra\n"
    "A4,D社,IT,10,1,東京都,12,2025-01-01 10:00,2025-13-45,,\n"
)


def reconcile(warehouse: Path) -> list[tuple]:
    """Files whose counts do not add up (must be none)."""
    return query(warehouse, """SELECT source_file FROM audit.file_loads
        WHERE rows_read <> rows_loaded + rows_quarantined + duplicates_collapsed""")


def test_cp932_japanese_headers_crlf_quoted_newlines(landing, warehouse):
    landing.write("crm/accounts_20250402.csv", ACCOUNTS_JA, encoding="cp932", newline="\r\n")
    result = ingest(landing.root, warehouse)
    [f] = result.files
    # 6 records: A1, A2, A2 (duplicate), missing key, too many columns, bad timestamp
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined, f.duplicates_collapsed) == (6, 2, 3, 1)
    rows = query(warehouse, """SELECT account_id, account_name, employee_count, capital_jpy,
        fiscal_year_end_month, created_at, updated_at, _source_line FROM raw.accounts ORDER BY 1""")
    assert rows[0] == ("A1", "㈱髙橋商事①, 東京\r\n支店", 120, Decimal("1000000.00"), 3,
                       datetime(2025, 4, 1, 0, 5, tzinfo=UTC), datetime(2025, 4, 1, 0, 5, tzinfo=UTC), 2)
    assert rows[1][0] == "A2" and rows[1][4] is None and rows[1][7] == 3
    quarantined = query(warehouse, "SELECT line, reason, raw_text FROM audit.quarantine ORDER BY line")
    assert [(q[0], q[1].split(":")[0]) for q in quarantined] == [
        (5, "missing required account_id"), (6, "TOO MANY COLUMNS"), (7, "updated_at")]
    assert quarantined[2][2] == "A4,D社,IT,10,1,東京都,12,2025-01-01 10:00,2025-13-45,,"
    audit = query(warehouse, "SELECT encoding, status FROM audit.file_loads")
    assert audit == [("cp932", "loaded")]
    assert reconcile(warehouse) == []


def test_utf8_bom_gzip_jsonl_parquet_and_booleans(landing, warehouse):
    landing.write("crm/contacts.csv", "\ufeffcontact_id,account_id,email,full_name,決裁者,created_at,updated_at\n"
                  "C1,A1,a@example.co.jp,山田 太郎,はい,2025-04-01,2025-04-01\n"
                  "C2,A1,b@example.co.jp,佐藤 花子,×,2025-04-01,2025-04-01\n"
                  "C3,A1,c@example.co.jp,田中 一郎,TRUE,2025-04-01,2025-04-01\n"
                  "C4,A1,d@example.co.jp,鈴木 次郎,たぶん,2025-04-01,2025-04-01\n")
    landing.write("email/seminar_attendance_part-1.csv.gz",
                  "campaign_id,contact_email,registered_at,attended,feedback_score\n"
                  "S1,a@example.co.jp,2025/04/01 10:00,○,5\nS1,b@example.co.jp,2025/04/01 10:00,いいえ,\n")
    landing.write("crm/nps_responses_2025.jsonl",
                  '{"response_id": "N1", "account_id": "A1", "score": 9, "responded_at": "2025-04-01T10:00:00+09:00"}\n'
                  '{"response_id": "N2", "account_id": "A1", "score": "７", "responded_at": "2025/4/2 10:00"}\n'
                  "{not json}\n"
                  '{"response_id": "N3", "account_id": "A1", "score": "ten", "responded_at": "2025-04-03"}\n')
    (landing.root / "billing").mkdir(parents=True)
    pq.write_table(pa.table({
        "product_code": ["P1", "P2"], "product_name": ["Business PC", "Pro Workstation"],
        "product_family": ["pc", "pc"], "tier_rank": [2, 3], "list_price_jpy": [150000, 300000],
        "gross_margin_rate": [0.2, 0.25], "is_subscription": [False, False]}),
        landing.root / "billing" / "products.parquet")
    result = ingest(landing.root, warehouse)
    by_file = {f.relpath: f for f in result.files}
    assert by_file["crm/contacts.csv"].rows_loaded == 3
    assert by_file["crm/contacts.csv"].rows_quarantined == 1
    assert query(warehouse, "SELECT contact_id, is_decision_maker FROM raw.contacts ORDER BY 1") == [
        ("C1", True), ("C2", False), ("C3", True)]
    assert query(warehouse, "SELECT attended, feedback_score FROM raw.seminar_attendance ORDER BY 1 DESC") == [
        (True, 5), (False, None)]
    assert query(warehouse, "SELECT response_id, score, responded_at, _source_line FROM raw.nps_responses ORDER BY 1") == [
        ("N1", 9, datetime(2025, 4, 1, 1, 0, tzinfo=UTC), 1),
        ("N2", 7, datetime(2025, 4, 2, 1, 0, tzinfo=UTC), 2)]
    assert query(warehouse, "SELECT line, reason FROM audit.quarantine WHERE dataset = 'nps_responses' ORDER BY line") == [
        (3, "not a JSON object: {not json}"), (4, "score: not an integer: ten")]
    assert query(warehouse, "SELECT product_code, tier_rank, list_price_jpy, is_subscription FROM raw.products ORDER BY 1") == [
        ("P1", 2, Decimal("150000.00"), False), ("P2", 3, Decimal("300000.00"), False)]
    assert query(warehouse, "SELECT encoding FROM audit.file_loads WHERE source_file = 'crm/contacts.csv'") == [("utf-8-sig",)]
    assert reconcile(warehouse) == []


def test_invoices_numbers_dates_enums_and_lineage(landing, warehouse):
    landing.write("billing/invoices_20250401.csv",
                  "invoice_id,line_no,account_id,invoice_date,product_code,quantity,unit_price_jpy,amount_jpy,status,updated_at\n"
                  'I1,1,A1,2025/4/1,P1,2,"¥75,000","¥150,000",paid,2025-04-01 10:00\n'
                  "I1,2,A1,2025/4/1,P2,1,１２３４,１２３４,Paid,2025-04-01 10:00\n"
                  'I2,1,A1,2025-04-02,P1,1,,"-50,000",refunded,2025-04-02 10:00\n'
                  "I3,1,A1,2025-04-02,P1,1,12x3,5,paid,2025-04-02 10:00\n"
                  "I4,1,A1,2025-04-02,P1,1,5,5,closed-ish,2025-04-02 10:00\n"
                  "I5,1,A1,2025-02-30,P1,1,5,5,paid,2025-04-02 10:00\n")
    ingest(landing.root, warehouse)
    assert query(warehouse, "SELECT invoice_id, line_no, invoice_date, amount_jpy, status FROM raw.invoices ORDER BY 1, 2") == [
        ("I1", 1, date(2025, 4, 1), Decimal("150000.00"), "paid"),
        ("I1", 2, date(2025, 4, 1), Decimal("1234.00"), "paid"),
        ("I2", 1, date(2025, 4, 2), Decimal("-50000.00"), "refunded")]
    assert query(warehouse, "SELECT line, reason FROM audit.quarantine ORDER BY line") == [
        (5, "unit_price_jpy: not a number: 12x3"),
        (6, "status: unknown value (expected paid|open|void|refunded): closed-ish"),
        (7, "invoice_date: not a date: 2025-02-30")]
    lineage = query(warehouse, """SELECT DISTINCT _source_file, length(_file_sha256), _load_id LIKE 'invoices-%',
        _loaded_at IS NOT NULL FROM raw.invoices""")
    assert lineage == [("billing/invoices_20250401.csv", 64, True, True)]


def test_deal_won_without_closed_at_is_quarantined(landing, warehouse):
    landing.write("crm/deals.csv",
                  "deal_id,account_id,deal_type,stage,amount_jpy,created_at,closed_at,updated_at\n"
                  "D1,A1,upsell,won,100,2025-04-01,2025-04-10,2025-04-10\n"
                  "D2,A1,upsell,won,100,2025-04-01,,2025-04-10\n"
                  "D3,A1,upsell,proposal,100,2025-04-01,,2025-04-10\n")
    ingest(landing.root, warehouse)
    assert query(warehouse, "SELECT deal_id FROM raw.deals ORDER BY 1") == [("D1",), ("D3",)]
    assert query(warehouse, "SELECT line, reason FROM audit.quarantine") == [
        (3, "closed_at is required when stage is won")]


def test_line_numbers_of_a_large_file_follow_the_file(landing, warehouse):
    """A file DuckDB reads in many batches: every record keeps its own line number.

    The line of a CSV record is its position in the typed table, so nothing in that query
    may reorder rows (an IN list of constants became a join that moved a whole batch:
    records got other records' lines). Mixed-case enum values take the slower path, and a
    rejected and a quarantined record in later batches shift nothing.
    """
    header = "event_id,campaign_id,step,message_id,recipient_email,event_type,occurred_at,url,user_agent"
    too_many, unknown, last = 150_000, 300_000, 400_001
    types = ("sent", "Opened", "CLICKED")
    lines = [header]
    for line in range(2, last + 1):
        event_type = "forwarded" if line == unknown else types[line % 3]
        extra = ",extra" if line == too_many else ""
        lines.append(f"EV{line:07d},C1,1,M{line % 97},r{line % 1000}@example.com,{event_type},"
                     f"2025-04-01T09:00:00+09:00,,{extra}")
    landing.write("email/email_events.csv", "\n".join(lines) + "\n")
    [f] = ingest(landing.root, warehouse).files
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (last - 1, last - 3, 2)
    misplaced = query(warehouse, """SELECT count(*) FROM raw.email_events
        WHERE event_id <> 'EV' || lpad(CAST(_source_line AS VARCHAR), 7, '0')""")
    assert misplaced == [(0,)]
    # lines 2 … 400,001 cycle through the types by line % 3; lines 150,000 and 300,000 (both
    # "sent" by that rule) are not loaded
    assert query(warehouse, "SELECT event_type, count(*) FROM raw.email_events GROUP BY 1 ORDER BY 1") == [
        ("clicked", 133_334), ("opened", 133_333), ("sent", 133_331)]
    quarantined = query(warehouse, "SELECT line, left(raw_text, 9), split_part(reason, ':', 1) "
                                   "FROM audit.quarantine ORDER BY line")
    assert quarantined == [(too_many, f"EV{too_many:07d}", "TOO MANY COLUMNS"),
                           (unknown, f"EV{unknown:07d}", "event_type")]
    assert reconcile(warehouse) == []


def test_user_mapping_headers(landing, warehouse, tmp_path):
    repo = Path(__file__).resolve().parents[2]
    landing.write("crm/deals_sfdc.csv",
                  "Opportunity ID,Account ID,Type,Stage,Amount,Created Date,Close Date,Last Modified Date,Private Notes\n"
                  "006A,001A,Upsell,Won,\"1,200,000\",2025/04/01 10:00,2025/04/20 18:00,2025/04/20 18:00,x\n")
    result = ingest(landing.root, warehouse, mapping_dirs=[repo / "include/mappings/salesforce"])
    assert result.files[0].rows_loaded == 1
    assert "ignored columns: Private Notes" in result.files[0].message
    assert query(warehouse, "SELECT deal_id, account_id, deal_type, stage, amount_jpy FROM raw.deals") == [
        ("006A", "001A", "upsell", "won", Decimal("1200000.00"))]


# ---- whole-file problems: clear message, nothing loaded, nothing lost -----------------

def _truncated_gzip() -> bytes:
    rows = "".join(f"A{i},name {i * 7919 % 10007},2025-01-01,2025-01-01\n" for i in range(20000))
    data = gzip.compress(("account_id,account_name,created_at,updated_at\n" + rows).encode())
    return data[: len(data) // 2]  # a copy cut off half-way


@pytest.mark.parametrize("relpath, content, expected", [
    ("crm/accounts.csv", b"", "empty file"),
    ("crm/accounts.csv", b"account_id,created_at,updated_at\nA1,2025-01-01,2025-01-01\n",
     "missing required column(s) account_name"),
    ("crm/accounts.csv", "account_id,account_name\n".encode("utf-16"), "unknown encoding"),
    ("crm/accounts_1.csv.gz", _truncated_gzip(), "truncated or corrupt gzip"),
    ("billing/products.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
])
def test_structurally_broken_file_is_quarantined_whole(landing, warehouse, relpath, content, expected):
    path = landing.root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    result = ingest(landing.root, warehouse)
    [f] = result.files
    assert f.status == "quarantined"
    assert expected in f.message
    assert query(warehouse, "SELECT line, reason LIKE 'whole file: %' || ? || '%' FROM audit.quarantine",
                 [expected]) == [(None, True)]
    assert query(warehouse, "SELECT status, rows_read, rows_loaded FROM audit.file_loads") == [("quarantined", 0, 0)]
    dataset = f.dataset
    assert query(warehouse, f"SELECT count(*) FROM raw.{dataset}") == [(0,)]


def test_non_export_files_are_reported_and_left_alone(landing, warehouse):
    note = landing.write("crm/export_log.txt", "exported 2025-04-01\n")
    landing.write("crm/accounts.csv", "account_id,account_name,created_at,updated_at\nA1,x,2025-01-01,2025-01-01\n")
    result = ingest(landing.root, warehouse)
    assert [i.relpath for i in result.ignored] == ["crm/export_log.txt"]
    assert note.read_text() == "exported 2025-04-01\n"
    assert query(warehouse, "SELECT count(*) FROM audit.file_loads") == [(1,)]


# ---- idempotency -----------------------------------------------------------------------

def _counts(warehouse: Path) -> tuple:
    return query(warehouse, """SELECT (SELECT count(*) FROM raw.accounts), (SELECT count(*) FROM audit.quarantine),
        (SELECT count(*) FROM audit.file_loads)""")[0]


def test_same_file_twice_changes_nothing(landing, warehouse):
    landing.write("crm/accounts_20250402.csv", ACCOUNTS_JA, encoding="cp932")
    ingest(landing.root, warehouse)
    before = _counts(warehouse)
    again = ingest(landing.root, warehouse)
    assert [f.status for f in again.files] == ["skipped"]
    # the same bytes under another name are the same export
    landing.write("crm/accounts_copy.csv", ACCOUNTS_JA, encoding="cp932")
    third = ingest(landing.root, warehouse)
    assert {f.status for f in third.files} == {"skipped"}
    copy = next(f for f in third.files if f.relpath == "crm/accounts_copy.csv")
    assert "identical to crm/accounts_20250402.csv" in copy.message
    assert _counts(warehouse) == before == (2, 3, 1)


def test_reexport_keeps_both_versions_for_newest_wins_downstream(landing, warehouse):
    header = "account_id,account_name,created_at,updated_at\n"
    landing.write("crm/accounts_20250401.csv", header + "A1,Old name,2025-01-01,2025-04-01 10:00\n")
    landing.write("crm/accounts_20250501.csv", header + "A1,New name,2025-01-01,2025-05-01 10:00\n")
    ingest(landing.root, warehouse)
    newest = query(warehouse, """SELECT account_name FROM raw.accounts
        QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY updated_at DESC) = 1""")
    assert newest == [("New name",)]
    assert query(warehouse, "SELECT count(*) FROM raw.accounts") == [(2,)]


CRASH_SCRIPT = """
import os, sys
import upsell.ingest as ing
real = ing._insert_audit
def crash(*args, **kwargs):
    # the raw rows of this file are inserted but not committed: die like a killed worker
    os._exit(137)
ing._insert_audit = crash
ing.ingest(sys.argv[1], sys.argv[2])
"""


def test_interrupted_load_leaves_nothing_and_rerun_loads_once(landing, warehouse, tmp_path):
    header = "account_id,account_name,created_at,updated_at\n"
    landing.write("crm/accounts.csv", header + "".join(f"A{i},n{i},2025-01-01,2025-01-01\n" for i in range(1000)))
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(landing.root), str(warehouse)],
                          env={**os.environ}, capture_output=True, text=True)
    assert proc.returncode == 137, proc.stderr
    assert query(warehouse, "SELECT (SELECT count(*) FROM raw.accounts), (SELECT count(*) FROM audit.file_loads)") == [(0, 0)]
    result = ingest(landing.root, warehouse)
    assert result.files[0].rows_loaded == 1000
    ingest(landing.root, warehouse)
    assert query(warehouse, "SELECT count(*), count(DISTINCT account_id) FROM raw.accounts") == [(1000, 1000)]
