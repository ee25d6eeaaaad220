"""The raw gate (``validate_raw``) with real Great Expectations on a real DuckDB file.

Each test ingests a few hand-written rows, so which expectation must fire, on which file,
is known from the rows themselves. Covers the checks the gate shapes in DuckDB before GX
sees them: the as-of + 1 day rule on business-local (Asia/Tokyo) dates, and referential
checks computed as a semi-join against the parent dataset.
"""

from __future__ import annotations

from datetime import date

import pytest

from upsell.ingest import ingest
from upsell.validate import validate_raw

AS_OF = date(2026, 10, 31)
ACCOUNTS = (
    "account_id,account_name,created_at,updated_at\n"
    "A1,Alpha,2025-01-01 10:00,2025-01-01 10:00\n"
    "A2,Beta,2025-01-01 10:00,2025-01-01 10:00\n"
)
EVENTS_HEADER = "event_id,campaign_id,step,message_id,recipient_email,event_type,occurred_at\n"


def invoices(*rows: str) -> str:
    return "invoice_id,line_no,account_id,invoice_date,product_code,amount_jpy,status\n" + "".join(
        r + "\n" for r in rows)


@pytest.fixture
def gate(landing, warehouse, monkeypatch):
    monkeypatch.setenv("UPSELL_GX_DIR", str(warehouse.parent))

    def run(run_id: str = "r1"):
        ingest(landing.root, warehouse, run_id)
        return validate_raw(warehouse, run_id, AS_OF)
    return run


def test_clean_files_pass(landing, gate):
    landing.write("crm/accounts.csv", ACCOUNTS)
    landing.write("billing/invoices_1.csv", invoices("I1,1,A1,2026-10-31,P1,1000,paid"))
    # 2026-11-01 23:59 JST is the export night after the as-of date: allowed
    landing.write("email/email_events_1.csv", EVENTS_HEADER + "E1,C1,1,M1,a@example.com,opened,2026-11-01 23:59:00\n")
    report = gate()
    assert report.success, report.summary()
    assert report.warnings == []
    assert report.suites_run == 3


def test_event_after_the_export_night_in_tokyo_fails(landing, gate):
    # 2026-11-01T15:30Z is 2026-11-02 00:30 in Tokyo: two days after the as-of date, although
    # the UTC date is still 11-01 (the rule is on the business-local date)
    landing.write("email/email_events_1.csv",
                  EVENTS_HEADER + "E1,C1,1,M1,a@example.com,opened,2026-11-01T15:30:00Z\n"
                  "E2,C1,1,M1,a@example.com,opened,2026-10-30 10:00:00\n")
    report = gate()
    assert not report.success
    [failure] = report.failures
    assert "raw.email_events" in failure and "occurred_at" in failure and "1 unexpected rows" in failure


def test_invoice_dated_after_the_export_night_fails(landing, gate):
    landing.write("crm/accounts.csv", ACCOUNTS)
    landing.write("billing/invoices_1.csv", invoices("I1,1,A1,2026-11-01,P1,1000,paid",
                                                     "I2,1,A1,2026-11-02,P1,1000,paid"))
    report = gate()
    assert [f for f in report.failures if "invoice_date" in f], report.summary()


def test_unknown_account_is_a_warning_not_a_failure(landing, gate):
    landing.write("crm/accounts.csv", ACCOUNTS)
    landing.write("billing/invoices_1.csv", invoices("I1,1,A1,2026-10-01,P1,1000,paid",
                                                     "I2,1,A9,2026-10-01,P1,1000,paid",
                                                     "I3,1,A8,2026-10-01,P1,1000,paid"))
    report = gate()
    assert report.success, report.summary()
    [warning] = report.warnings
    assert "account_id_in_accounts" in warning and "2 unexpected rows" in warning


def test_reference_against_accounts_loaded_by_an_earlier_run(landing, warehouse, gate):
    landing.write("crm/accounts.csv", ACCOUNTS)
    assert gate("r1").success
    landing.write("billing/invoices_1.csv", invoices("I1,1,A2,2026-10-01,P1,1000,paid"))
    report = gate("r2")
    assert report.success and report.warnings == [], report.summary()
    assert report.suites_run == 1  # only this run's loads are validated


def test_no_parent_rows_means_no_reference_check(landing, gate):
    landing.write("billing/invoices_1.csv", invoices("I1,1,A9,2026-10-01,P1,1000,paid"))
    report = gate()
    assert report.success and report.warnings == [], report.summary()
