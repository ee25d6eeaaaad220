"""Incremental staging (email events, invoice lines) gives exactly the marts of a full refresh.

Real ingestion, real dbt on real DuckDB files. Night 1 builds the bundled S sample from
scratch as of 2026-10-31; night 2 adds the generator's day-2026-11-01 files (new rows,
late rows inside and beyond the lookback, re-exports with newer and with stale
``updated_at``, rows stamped after the as-of date) and runs incrementally; night 3 moves the
as-of on with no new files (rows cut on night 2 become due); night 4 re-runs the old date
2026-10-31 (as-of going backwards). After each night, a copy of the warehouse is rebuilt
with ``--full-refresh`` and every mart (plus the two incremental staging tables) is
compared row by row. Behaviour is also checked directly against the increment's CSV.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from upsell.generate.increment import generate_next_day
from upsell.ingest import ingest
from upsell.marts_diff import diff_warehouses, table_count
from upsell.pipeline import build
from upsell.transform import NIGHTLY_BUILD_FLAGS, dbt_work_dir, run_dbt

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "include" / "sample"
MAPPINGS = [REPO / "include" / "mappings" / "salesforce"]
STAGING = ("staging.stg_email__email_events", "staging.stg_billing__invoices",
           "intermediate.int_email_messages_summarised", "staging.stg_crm__activities", "staging.stg_crm__deals",
           "staging.stg_crm__contacts", "intermediate.int_account_mrr_month_ends",
           "intermediate.int_purchases_aggregated", "intermediate.int_cpm_segment_runs",
           "intermediate.int_customer_purchase_summary")
DAY1, DAY2, DAY3 = date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)


@pytest.fixture(scope="module", autouse=True)
def environment():
    """A fixed salt, so the warehouse and its copies hash emails alike; dbt's debug log,
    which says how dbt parsed (test_night2_build_parses_partially)."""
    settings = {"UPSELL_EMAIL_SALT": "test-salt", "DBT_LOG_LEVEL_FILE": "debug"}
    old = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    yield
    for name, value in old.items():
        if value is None:
            del os.environ[name]
        else:
            os.environ[name] = value


def night(landing: Path, warehouse: Path, as_of: date) -> None:
    """What the nightly job does before validation: ingest new files, then dbt build."""
    ingest(landing, warehouse, f"test__{as_of}", mapping_dirs=MAPPINGS)
    build(warehouse, as_of)


def assert_same_as_full_refresh(warehouse: Path, as_of: date, tmp: Path, vars_: dict | None = None) -> None:
    """Copy the warehouse, rebuild the copy with --full-refresh, compare every table."""
    full = tmp / f"full-{as_of}" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copy(warehouse, full)
    run_dbt("run", full, as_of, extra=["--full-refresh"], vars_=vars_)
    assert table_count(full) >= 15
    diffs = diff_warehouses(warehouse, full, tables=STAGING)
    assert not diffs, "incremental differs from a full refresh:\n" + "\n".join(map(str, diffs))


def staged(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def increment_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    landing = root / "landing"
    shutil.copytree(SAMPLE, landing)
    day2 = root / "day2"
    shutil.copytree(SAMPLE, day2)
    inc = generate_next_day(day2, DAY2)
    warehouse = root / "wh" / "warehouse.duckdb"
    night(landing, warehouse, DAY1)
    return root, landing, warehouse, inc


@pytest.fixture(scope="module")
def night2(setup):
    root, landing, warehouse, inc = setup
    assert len(inc.crm_files) == 3  # activities, deals, contacts
    for f in inc.files:
        shutil.copy(f, landing / f.parent.name / f.name)
    night(landing, warehouse, DAY2)
    return setup


def test_night2_incremental_equals_full_refresh(night2, tmp_path):
    _, _, warehouse, _ = night2
    assert_same_as_full_refresh(warehouse, DAY2, tmp_path)


def test_night2_recomputes_only_changed_invoices(night2):
    """The purchases are rewritten for the invoices the night changed, not all of them
    (macros/purchases_incremental.sql): a voided or refunded purchase is gone, a new one is in."""
    _, _, warehouse, inc = night2
    [(latest, written, total)] = staged(warehouse, "SELECT max(_batch_no), count(*) FILTER (WHERE _batch_no = "
                                                   "(SELECT max(_batch_no) FROM intermediate.int_purchases_aggregated)), "
                                                   "count(*) FROM intermediate.int_purchases_aggregated")
    assert latest == 2 and 0 < written < total / 10, (latest, written, total)
    lines = increment_rows(inc.invoice_file)
    purchases = {i for (i,) in staged(warehouse, "SELECT invoice_id FROM intermediate.int_purchases_aggregated")}
    paid = {(i, n) for i, n in staged(warehouse, "SELECT invoice_id, line_no FROM staging.stg_billing__invoices "
                                                 "WHERE status = 'paid'")}
    unpaid = {r["invoice_id"] for r in lines} - {i for i, _ in paid}
    assert unpaid and not unpaid & purchases
    new = {r["invoice_id"] for r in lines if r["invoice_id"].startswith(f"INV-{DAY2:%Y%m%d}")
           and (r["invoice_id"], int(r["line_no"])) in paid}
    assert new and new <= purchases


def test_night2_message_summary_is_incremental(night2):
    """The night's re-exported events keep their campaign and message: the message summary
    recomputes the messages they touched, it is not rebuilt (stg_email__email_events._moved)."""
    _, _, warehouse, _ = night2
    assert staged(warehouse, "SELECT count(*) FILTER (WHERE _moved) FROM staging.stg_email__email_events") == [(0,)]
    [(latest, written, total)] = staged(warehouse, "SELECT max(_batch_no), count(*) FILTER (WHERE _batch_no = 2), "
                                                   "count(*) FROM intermediate.int_email_messages_summarised")
    assert latest == 2 and 0 < written < total / 5, (latest, written, total)


def test_night2_late_rows_and_reexports_resolved(night2):
    """Late rows (even beyond the lookback) are in, newer updated_at wins, stale loses,
    rows after the as-of date are not in yet."""
    _, _, warehouse, inc = night2
    lines = {(r["invoice_id"], int(r["line_no"])): r for r in increment_rows(inc.invoice_file)}
    got = {(i, n): s for i, n, s in staged(warehouse, "SELECT invoice_id, line_no, status "
                                                      "FROM staging.stg_billing__invoices")}
    kinds = inc.counts
    assert kinds["invoices.late_beyond_lookback"] and kinds["invoices.update_newer"] and kinds["invoices.update_stale"]
    # re-exports of existing lines updated at noon JST on day 2 (new lines are stamped 20:00)
    newer = [k for k, r in lines.items() if r["updated_at"] == "2026-11-01T03:00:00Z"]
    assert newer and all(got[k] == lines[k]["status"] for k in newer)
    stale = [k for k, r in lines.items() if r["status"] == "void" and r["updated_at"] < "2026-10-30"]
    assert stale and all(got[k] != "void" for k in stale)
    ahead = [k for k, r in lines.items() if r["updated_at"] >= "2026-11-01T15"]
    assert ahead and all(got[k] != "void" for k in ahead)
    late = [k for k, r in lines.items() if r["invoice_date"] < "2026-10-01"
            and k[0].startswith(f"INV-{DAY2:%Y%m%d}")]
    assert late and all(k in got for k in late)

    events = increment_rows(inc.email_file)
    ev = dict(staged(warehouse, "SELECT event_id, user_agent FROM staging.stg_email__email_events"))
    reexported = [r for r in events if "re-exported" in (r["user_agent"] or "")]
    assert reexported and all(ev[r["event_id"]] == r["user_agent"] for r in reexported)
    late_events = [r for r in events if r["occurred_at"] < "2026-10-05"
                   and r["event_id"].startswith(f"EV{DAY2:%Y%m%d}")]
    assert late_events and all(r["event_id"] in ev for r in late_events)
    ahead_events = [r for r in events if r["occurred_at"] >= "2026-11-01T15"]
    assert ahead_events and not any(r["event_id"] in ev for r in ahead_events)


def test_night2_crm_changes_resolved(night2):
    """CRM staging: new and late records are in, a newer updated_at wins, a stale one loses,
    records stamped after the as-of date are not in yet; a re-exported activity's newer load
    wins."""
    _, _, warehouse, inc = night2
    crm = {f.name.split("_")[0]: increment_rows(f) for f in inc.crm_files}
    deals = dict(staged(warehouse, "SELECT deal_id, updated_at FROM staging.stg_crm__deals"))
    newer = [r for r in crm["deals"] if r["updated_at"] == "2026-11-01T03:00:00Z"]
    assert newer and all(deals[r["deal_id"]].isoformat().startswith("2026-11-01T03:00:00") for r in newer)
    stale = [r for r in crm["deals"] if r["updated_at"] < "2026-10-30"]
    assert stale and all(deals[r["deal_id"]].isoformat()[:19] != r["updated_at"][:19].replace(" ", "T")
                         for r in stale)
    fresh = [r for r in crm["deals"] if r["deal_id"].startswith(f"DL-{DAY2:%Y%m%d}")]
    assert fresh and all(r["deal_id"] in deals for r in fresh)
    departments = dict(staged(warehouse, "SELECT contact_id, department FROM staging.stg_crm__contacts"))
    newer = [r for r in crm["contacts"] if r["updated_at"] == "2026-11-01T03:00:00Z"]
    assert newer and all(departments[r["contact_id"]] == r["department"] for r in newer)
    ahead = [r for r in crm["contacts"] if r["updated_at"] >= "2026-11-01T15"]
    assert ahead and not any(departments[r["contact_id"]] == r["department"] for r in ahead)
    activities = dict(staged(warehouse, "SELECT activity_id, activity_type FROM staging.stg_crm__activities"))
    new = [r for r in crm["activities"] if r["activity_id"].startswith(f"ACT-{DAY2:%Y%m%d}")]
    late = [r for r in new if r["occurred_at"] < "2026-10-05"]
    assert late and all(r["activity_id"] in activities for r in late)
    ahead = [r for r in new if r["occurred_at"] >= "2026-11-01T15"]
    assert ahead and not any(r["activity_id"] in activities for r in ahead)
    reexported = [r for r in crm["activities"] if r not in new]
    assert reexported and all(activities[r["activity_id"]] == r["activity_type"] for r in reexported)


@pytest.fixture(scope="module")
def night3(night2):
    root, landing, warehouse, inc = night2
    night(landing, warehouse, DAY3)
    return night2


def test_night3_rows_cut_before_become_due(night3, tmp_path):
    _, _, warehouse, inc = night3
    ahead_events = [r["event_id"] for r in increment_rows(inc.email_file) if r["occurred_at"] >= "2026-11-01T15"]
    ev = {r[0] for r in staged(warehouse, "SELECT event_id FROM staging.stg_email__email_events")}
    assert ahead_events and set(ahead_events) <= ev
    assert_same_as_full_refresh(warehouse, DAY3, tmp_path)


def test_rerun_of_an_old_date_rebuilds(night3, tmp_path):
    """As-of going backwards: the incremental tables drop what the later nights added."""
    _, landing, warehouse, _ = night3
    night(landing, warehouse, DAY1)
    after = staged(warehouse, "SELECT count(*) FROM staging.stg_email__email_events "
                              "WHERE cast(occurred_at AT TIME ZONE 'Asia/Tokyo' AS date) > DATE '2026-10-31'")
    assert after == [(0,)]
    assert_same_as_full_refresh(warehouse, DAY1, tmp_path)


def test_night2_build_parses_partially(night2):
    """The as-of date moved on, yet dbt did not re-parse the project (it reaches dbt in the
    environment, not as a var: changed vars force a full parse, ≈ 3 s of every night)."""
    _, _, warehouse, _ = night2
    from upsell.transform import dbt_work_dir

    log = (dbt_work_dir(warehouse) / "logs" / "dbt.log").read_text(errors="replace")
    parses = [line for line in log.splitlines()
              if "partial parsing" in line.lower() or "Starting full parse" in line]
    # night 1 parsed from scratch, night 2 (as of the next day) parsed partially
    assert len(parses) >= 2 and "saved manifest not found" in parses[0], parses
    assert not [line for line in parses[1:] if "full parse" in line or "Unable to do partial" in line], parses


def test_replanned_campaign_is_recomputed(night3, tmp_path):
    """A plan re-export that moves one email campaign's start and shortens its attribution
    window: the next incremental night recomputes that campaign's messages (no email event
    changed)."""
    _, landing, warehouse, _ = night3
    plan = (landing / "plan" / "campaigns.csv").read_text(encoding="utf-8-sig").splitlines()
    header, row = plan[0], next(line for line in plan if line.startswith("CMP-202304-EM1,"))
    cells = next(csv.reader([row]))
    names = header.split(",")
    days, start = names.index("attribution_window_days"), names.index("start_date")
    assert (cells[start], cells[days]) == ("2023/4/18", "60")
    cells[start], cells[days] = "2023/5/1", "3"
    out = landing / "plan" / "campaigns_20261103.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        csv.writer(fh, lineterminator="\n").writerow(cells)
    sql = "SELECT count(*) FROM intermediate.int_email_messages_summarised WHERE campaign_id = 'CMP-202304-EM1'"
    before = staged(warehouse, sql)
    as_of = staged(warehouse, "SELECT max(as_of_date) FROM intermediate.int_campaign_windows")[0][0]
    night(landing, warehouse, as_of)
    after = staged(warehouse, sql)
    windows = staged(warehouse, "SELECT window_start_date FROM intermediate.int_campaign_windows "
                                "WHERE campaign_id = 'CMP-202304-EM1'")
    assert [str(w[0]) for w in windows] == ["2023-05-01"]
    # messages whose events all came before the new start date are gone
    assert after < before, (before, after)
    assert_same_as_full_refresh(warehouse, as_of, tmp_path)


MOVEMENTS = "SELECT account_id, month, mrr_start_jpy, mrr_end_jpy, movement FROM marts.mrr_movements"
REWRITES = "audit.mrr_movements_rewrites"


def test_restated_subscriptions_are_recomputed(night3, tmp_path):
    """A subscriptions re-export that changes old history: a version backdated years, a
    subscription moved to another account, a cancellation backdated. The next incremental
    night recomputes those accounts' every month of MRR and movements, not only the
    current month (macros/mrr_incremental.sql), and logs them as rewritten whole."""
    _, landing, warehouse, _ = night3
    with (landing / "billing" / "subscriptions.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    newest = {}
    for r in rows:  # the newest version of each subscription
        if r["subscription_id"] not in newest or r["updated_at"] > newest[r["subscription_id"]]["updated_at"]:
            newest[r["subscription_id"]] = r
    old = [r for r in newest.values() if r["start_date"] < "2022-01-01" and not r["end_date"]
           and int(r["mrr_jpy"] or 0) > 0]
    # a version dated 2022-07-15 is in effect at the end of August 2022 if no other is dated in between
    quiet = {r["subscription_id"] for r in old} - {r["subscription_id"] for r in rows
                                                   if "2022-07" <= r["updated_at"][:7] <= "2022-09"}
    upgraded = next(r for r in old if r["subscription_id"] in quiet)
    moved, cancelled = [r for r in old if r["account_id"] != upgraded["account_id"]][:2]
    other_account = next(r["account_id"] for r in newest.values()
                         if r["account_id"] not in {upgraded["account_id"], moved["account_id"]})
    highest = max(int(r["mrr_jpy"] or 0) for r in rows if r["subscription_id"] == upgraded["subscription_id"])
    restated = [
        upgraded | {"mrr_jpy": str(highest * 10), "updated_at": "2022-07-15T10:00:00+09:00"},
        moved | {"account_id": other_account, "updated_at": "2026-10-30T10:00:00+09:00"},
        cancelled | {"end_date": "2023-01-31", "status": "cancelled", "updated_at": "2026-10-30T11:00:00+09:00"},
    ]
    out = landing / "billing" / "subscriptions_20261103.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(restated)
    accounts = sorted({upgraded["account_id"], moved["account_id"], cancelled["account_id"], other_account})
    sql = ("SELECT account_id, month_start, mrr_jpy FROM intermediate.int_account_mrr_month_ends "
           f"WHERE account_id IN ({', '.join(repr(a) for a in accounts)}) AND month_start < DATE '2024-01-01' "
           "ORDER BY 1, 2")
    before = staged(warehouse, sql)
    movements_before = set(staged(warehouse, MOVEMENTS))
    as_of = staged(warehouse, "SELECT max(measured_on) FROM intermediate.int_account_mrr_month_ends")[0][0]
    night(landing, warehouse, as_of)
    after = staged(warehouse, sql)
    # mrr_movements' rewrite log names what the build rewrote: every changed row lies in it
    (rewritten_from,) = staged(warehouse, f"SELECT rewritten_from FROM {REWRITES} WHERE account_id IS NULL "
                                          f"AND batch_no = (SELECT max(batch_no) FROM {REWRITES})")[0]
    logged = {a for (a,) in staged(warehouse, f"SELECT account_id FROM {REWRITES} WHERE account_id IS NOT NULL "
                                              f"AND batch_no = (SELECT max(batch_no) FROM {REWRITES})")}
    assert rewritten_from is not None and set(accounts) <= logged
    changed = movements_before ^ set(staged(warehouse, MOVEMENTS))
    assert changed and all(row[1] >= rewritten_from or row[0] in logged for row in changed)

    def mrr(rows, account, month):
        return next((m for a, s, m in rows if a == account and str(s) == month), None)

    # history years before the as-of changed: raised in August 2022, moved, ended in January 2023
    assert mrr(after, upgraded["account_id"], "2022-08-01") > mrr(before, upgraded["account_id"], "2022-08-01")
    assert mrr(after, cancelled["account_id"], "2023-06-01") != mrr(before, cancelled["account_id"], "2023-06-01")
    assert mrr(after, other_account, "2022-03-01") != mrr(before, other_account, "2022-03-01")
    assert_same_as_full_refresh(warehouse, as_of, tmp_path)


CPM_RUNS = ("SELECT account_id, first_month_end, last_month_end, purchase_count, first_purchase_date, cpm_segment "
            "FROM intermediate.int_cpm_segment_runs WHERE account_id = ? ORDER BY first_month_end")


def test_restated_old_invoice_recomputes_cpm_runs(night3, tmp_path):
    """A re-export voids an account's first invoice, years old. The next night (same month:
    the incremental CPM runs keep every other account) recomputes that account's month-end
    segments from its first one (macros/cpm_runs_incremental.sql), and nothing else differs
    from a full refresh."""
    _, landing, warehouse, _ = night3
    with (landing / "billing" / "invoices_FY2023_p1.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    by_account: dict[str, list[dict]] = {}
    for r in rows:
        by_account.setdefault(r["account_id"], []).append(r)
    # an account with a single-line first invoice, alone on its day, and later purchases
    account, first = next((a, lines[0]) for a, lines in by_account.items()
                          if len(lines) > 3 and sum(x["invoice_date"] == lines[0]["invoice_date"] for x in lines) == 1
                          and lines[0]["status"] == "paid")
    out = landing / "billing" / "invoices_restated_20261103.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerow(first | {"status": "void", "updated_at": "2026-10-30T09:00:00Z"})
    others = "SELECT count(*), sum(hash(account_id, first_month_end, cpm_segment)) FROM intermediate.int_cpm_segment_runs "
    before, others_before = staged(warehouse, CPM_RUNS.replace("?", repr(account))), staged(
        warehouse, others + f"WHERE account_id <> {account!r}")
    as_of = staged(warehouse, "SELECT max(measured_on) FROM intermediate.int_account_mrr_month_ends")[0][0]
    night(landing, warehouse, as_of)
    after = staged(warehouse, CPM_RUNS.replace("?", repr(account)))
    assert before and after and before != after
    # the night took the incremental path: it computed only the accounts left without runs
    compiled = next((dbt_work_dir(warehouse) / "target" / "compiled").rglob("int_cpm_segment_runs.sql")).read_text()
    assert "not in (select distinct account_id from" in compiled
    # one purchase fewer from the first month-end on; the first purchase is a later one now
    assert after[0][3] == before[0][3] - 1 or after[0][1] > before[0][1]
    assert all(a[4] > before[0][4] for a in after)
    assert staged(warehouse, others + f"WHERE account_id <> {account!r}") == others_before
    assert_same_as_full_refresh(warehouse, as_of, tmp_path)


def test_changed_cpm_vars_recompute_every_account(night3, tmp_path):
    """Other cpm vars on an incremental night classify every account again, not only the
    changed ones (the runs keep the rules they were classified with)."""
    _, _, warehouse, _ = night3
    as_of = staged(warehouse, "SELECT max(measured_on) FROM intermediate.int_account_mrr_month_ends")[0][0]
    lapsed = "SELECT count(*) FILTER (WHERE is_lapsed), min(_rules), max(_rules) FROM intermediate.int_cpm_segment_runs"
    before = staged(warehouse, lapsed)[0]
    vars_ = {"business_tz": "Asia/Tokyo", "cpm_lapse_days": 120}
    result = run_dbt("build", warehouse, as_of, vars_=vars_, extra=NIGHTLY_BUILD_FLAGS)
    assert result.success
    after = staged(warehouse, lapsed)[0]
    assert after[1] == after[2] and after[1].endswith("|120") and before[1].endswith("|365")
    assert after[0] > before[0]  # a shorter lapse: more lapsed runs
    assert_same_as_full_refresh(warehouse, as_of, tmp_path, vars_=vars_)


def test_reexport_moving_an_event_recomputes_the_message_it_left(night3, tmp_path):
    """A re-export names another campaign and message for an event (the newest version
    wins). The message it left must lose it: the staging table holds the newest version only,
    so the night cannot tell which message that was from it and rebuilds the message summary
    (stg_email__email_events._moved; macros/email_messages_incremental.sql)."""
    _, landing, warehouse, _ = night3
    opened_once = staged(warehouse, """
        SELECT s.campaign_id, s.message_id, any_value(e.event_id)
        FROM intermediate.int_email_messages_summarised s
        JOIN staging.stg_email__email_events e USING (campaign_id, message_id)
        WHERE s.is_opened AND e.event_type = 'opened'
        GROUP BY 1, 2 HAVING count(*) = 1 ORDER BY 1, 2 LIMIT 1""")
    assert opened_once
    campaign, message, event_id = opened_once[0]
    [(other_campaign, other_message)] = staged(warehouse, f"""
        SELECT campaign_id, message_id FROM intermediate.int_email_messages_summarised
        WHERE campaign_id <> {campaign!r} ORDER BY 1, 2 LIMIT 1""")
    header, row = None, None
    for path in sorted((landing / "email").glob("email_events*.csv*")):
        with (gzip.open(path, "rt", encoding="utf-8-sig", newline="") if path.suffix == ".gz"
              else path.open(encoding="utf-8-sig", newline="")) as fh:
            reader = csv.DictReader(fh)
            row = next((r for r in reader if r["event_id"] == event_id), None)
            header = reader.fieldnames
        if row:
            break
    assert row, event_id
    out = landing / "email" / "email_events_moved_20261103.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerow(row | {"campaign_id": other_campaign, "message_id": other_message})
    opened = (f"SELECT bool_or(is_opened) FROM intermediate.int_email_messages_summarised "
              f"WHERE campaign_id = {campaign!r} AND message_id = {message!r}")
    assert staged(warehouse, opened) == [(True,)]
    as_of = staged(warehouse, "SELECT max(as_of_date) FROM intermediate.int_campaign_windows")[0][0]
    night(landing, warehouse, as_of)
    assert staged(warehouse, f"SELECT campaign_id, message_id FROM staging.stg_email__email_events "
                             f"WHERE event_id = {event_id!r}") == [(other_campaign, other_message)]
    # the message it left has no open any more: the summary was rebuilt (batch 1 again)
    assert staged(warehouse, opened) in ([(False,)], [(None,)])
    assert staged(warehouse, "SELECT min(_batch_no), max(_batch_no) FROM intermediate.int_email_messages_summarised"
                  ) == [(1, 1)]
    assert_same_as_full_refresh(warehouse, as_of, tmp_path)
    # the next night is incremental again (the moved event is not new any more)
    night(landing, warehouse, as_of)
    assert staged(warehouse, "SELECT max(_batch_no) FROM intermediate.int_email_messages_summarised") == [(2,)]
