"""One more night of exports on top of a generated landing folder (the "day N+1" files).

A nightly run sees a few new files beside the ones it already loaded (which ingestion skips
by SHA-256). This writes them for ``day`` into the same folder, built from the base exports
with DuckDB so every id joins (messages, campaigns, accounts, products):

``email/email_events_<yyyymmdd>.csv``
    opens and clicks of recent messages on ``day``; late-arriving events dated 3 days
    earlier (inside the default 7-day incremental lookback) and 30 days earlier (outside
    it); events stamped ``day + 1`` (a clock a few hours ahead; cut by the as-of date until
    the next night); re-exports of existing events (same ``event_id``, newer load wins,
    with a changed ``user_agent`` so the winner is visible).
``billing/invoices_<yyyymmdd>.csv``
    new lines dated ``day``; late lines dated 2 and 40 days earlier; re-exports of existing
    lines with a newer ``updated_at`` and a changed status (newest ``updated_at`` wins),
    stale re-exports with an *older* ``updated_at`` (must lose), and re-exports updated on
    ``day + 1`` (cut until the next night).

``crm/activities_<yyyymmdd>.csv``
    new activities on ``day``; late ones dated 3 and 30 days earlier; ones stamped
    ``day + 1`` (cut until the next night); re-exports of existing activities with another
    ``activity_type`` (the newer load wins).
``crm/deals_<yyyymmdd>.csv``, ``crm/contacts_<yyyymmdd>.csv``
    new records created on ``day``; re-exports of existing ones with a newer ``updated_at``
    and a changed value (a deal won, a contact's department), stale re-exports with an
    *older* ``updated_at`` (must lose), and re-exports updated on ``day + 1`` (cut until the
    next night).

Deterministic: rows are picked by MD5 of their key and the seed, so the same base, day and
seed give the same bytes. Used by the nightly benchmark and the incremental tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Increment:
    """What :func:`generate_next_day` wrote: file paths and row counts per kind."""

    email_file: Path
    invoice_file: Path
    counts: dict[str, int]
    crm_files: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.email_file, self.invoice_file, *self.crm_files)


def _ts(expr: str) -> str:
    """An ISO-8601 UTC text of a TIMESTAMPTZ expression (the session runs in UTC)."""
    return f"strftime({expr}, '%Y-%m-%dT%H:%M:%SZ')"


def _email_sql(files: list[str], day: dt.date, seed: int, n: int) -> str:
    d = day.isoformat()
    tag = day.strftime("%Y%m%d")
    # kinds: (name, share of n, event_type, day offset, hour JST)
    kinds = [("new_open", 0.55, "opened", 0, 9), ("new_click", 0.15, "clicked", 0, 11),
             ("late_in_lookback", 0.10, "opened", -3, 14), ("late_beyond_lookback", 0.05, "clicked", -30, 15),
             ("ahead_of_as_of", 0.02, "opened", 1, 1)]
    parts = []
    offset = 0
    for name, share, etype, delta, hour in kinds:
        k = max(1, round(n * share))
        parts.append(f"""
            SELECT 'EV{tag}-' || lpad(CAST(rn AS VARCHAR), 7, '0') AS event_id, campaign_id, step, message_id,
                   recipient_email, '{etype}' AS event_type,
                   {_ts(f"(DATE '{d}' + INTERVAL ({delta}) DAY + INTERVAL ({hour}) HOUR + INTERVAL (rn % 3600) SECOND)"
                        " AT TIME ZONE 'Asia/Tokyo'")} AS occurred_at,
                   CASE WHEN '{etype}' = 'clicked' THEN 'https://example.com/lp/' || campaign_id END AS url,
                   'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' AS user_agent, '{name}' AS kind
            FROM recent WHERE rn > {offset} AND rn <= {offset + k}""")
        offset += k
    reexports = max(1, round(n * 0.13))
    return f"""
        CREATE TEMP TABLE ev AS
        SELECT event_id, campaign_id, step, message_id, recipient_email, event_type, occurred_at,
               url, user_agent, TRY_CAST(occurred_at AS TIMESTAMPTZ) AS ts
        FROM read_csv({files!r}, all_varchar = true, union_by_name = true, ignore_errors = true);
        CREATE TEMP TABLE recent AS
        SELECT *, row_number() OVER (ORDER BY md5(message_id || ':{seed}')) AS rn
        FROM (SELECT DISTINCT ON (message_id) campaign_id, step, message_id, recipient_email
              FROM ev WHERE event_type = 'delivered' AND ts >= (SELECT max(ts) FROM ev) - INTERVAL 60 DAY
                    AND recipient_email IS NOT NULL AND campaign_id IS NOT NULL
              ORDER BY message_id);
        CREATE TEMP TABLE email_inc AS
        {' UNION ALL '.join(parts)}
        UNION ALL
        SELECT * FROM (
            SELECT event_id, campaign_id, step, message_id, recipient_email, event_type, occurred_at, url,
                   'Mozilla/5.0 (re-exported {d})' AS user_agent, 're_export' AS kind
            FROM ev WHERE ts IS NOT NULL AND event_id IS NOT NULL
                AND ts < DATE '{d}' - INTERVAL 10 DAY
            ORDER BY md5(event_id || ':{seed}') LIMIT {reexports})
    """


def _invoice_sql(files: list[str], day: dt.date, seed: int, n: int) -> str:
    d = day.isoformat()
    tag = day.strftime("%Y%m%d")
    new_kinds = [("new_line", 0.45, 0), ("late_in_lookback", 0.10, -2), ("late_beyond_lookback", 0.05, -40)]
    parts = []
    offset = 0
    for name, share, delta in new_kinds:
        k = max(1, round(n * share))
        parts.append(f"""
            SELECT 'INV-{tag}-' || lpad(CAST(rn AS VARCHAR), 6, '0') AS invoice_id, 1 AS line_no, account_id,
                   CAST(DATE '{d}' + INTERVAL ({delta}) DAY AS DATE) AS invoice_date, product_code, quantity,
                   unit_price_jpy, amount_jpy, CASE WHEN rn % 3 = 0 THEN 'open' ELSE 'paid' END AS status,
                   {_ts(f"(DATE '{d}' + INTERVAL 20 HOUR) AT TIME ZONE 'Asia/Tokyo'")} AS updated_at,
                   '{name}' AS kind
            FROM lines WHERE rn > {offset} AND rn <= {offset + k}""")
        offset += k
    # re-exports of existing keys: (kind, share, status expression, updated_at expression)
    re_kinds = [
        ("update_newer", 0.25, "CASE WHEN status = 'paid' THEN 'refunded' ELSE 'paid' END",
         f"(DATE '{d}' + INTERVAL 12 HOUR) AT TIME ZONE 'Asia/Tokyo'"),
        ("update_stale", 0.10, "'void'", "ts - INTERVAL 1 DAY"),
        ("update_ahead_of_as_of", 0.05, "'void'", f"(DATE '{d}' + INTERVAL 25 HOUR) AT TIME ZONE 'Asia/Tokyo'"),
    ]
    for name, share, status, updated in re_kinds:
        k = max(1, round(n * share))
        parts.append(f"""
            SELECT invoice_id, line_no, account_id, invoice_date, product_code, quantity, unit_price_jpy,
                   amount_jpy, {status} AS status, {_ts(updated)} AS updated_at, '{name}' AS kind
            FROM lines WHERE rn > {offset} AND rn <= {offset + k}""")
        offset += k
    return f"""
        CREATE TEMP TABLE lines AS
        SELECT *, row_number() OVER (ORDER BY md5(invoice_id || ':' || line_no || ':{seed}')) AS rn
        FROM (SELECT invoice_id, TRY_CAST(line_no AS INTEGER) AS line_no, account_id,
                     TRY_CAST(invoice_date AS DATE) AS invoice_date, product_code, quantity, unit_price_jpy,
                     amount_jpy, status, TRY_CAST(updated_at AS TIMESTAMPTZ) AS ts
              FROM read_csv({files!r}, all_varchar = true, union_by_name = true, ignore_errors = true))
        WHERE invoice_date IS NOT NULL AND ts IS NOT NULL AND line_no IS NOT NULL
            AND invoice_date < DATE '{d}' - INTERVAL 10 DAY AND ts < DATE '{d}' - INTERVAL 2 DAY
            AND status IN ('paid', 'open') AND amount_jpy NOT LIKE '%,%' AND amount_jpy NOT LIKE '%¥%';
        -- one row per key: a key drawn twice would be two versions of one line in one file
        CREATE TEMP TABLE inv_inc AS
        {' UNION ALL '.join(parts)}
    """


def _jst(day: str, days: int, hours: int) -> str:
    """ISO-8601 UTC text of ``day`` + ``days`` at ``hours`` o'clock in Japan (an SQL expression)."""
    return _ts(f"(DATE '{day}' + INTERVAL ({days}) DAY + INTERVAL ({hours}) HOUR) AT TIME ZONE 'Asia/Tokyo'")


def _activities_sql(files: list[str], day: dt.date, seed: int, n: int) -> str:
    d, tag = day.isoformat(), day.strftime("%Y%m%d")
    # (kind, share of n, day offset); then re-exports of existing activities
    kinds = [("new", 0.60, 0), ("late_in_lookback", 0.10, -3), ("late_beyond_lookback", 0.05, -30),
             ("ahead_of_as_of", 0.05, 1)]
    parts, offset = [], 0
    for name, share, delta in kinds:
        k = max(1, round(n * share))
        hour = 1 if delta > 0 else 10  # 01:00 JST the next day is still `day` in UTC
        parts.append(f"""
            SELECT 'ACT-{tag}-' || lpad(CAST(rn AS VARCHAR), 6, '0') AS activity_id, account_id, contact_email,
                   activity_type, NULL AS campaign_id, {_jst(d, delta, hour)} AS occurred_at,
                   '{name}' AS kind
            FROM acts WHERE rn > {offset} AND rn <= {offset + k}""")
        offset += k
    parts.append(f"""
        SELECT activity_id, account_id, contact_email,
               CASE WHEN activity_type = 'call' THEN 'meeting' ELSE 'call' END AS activity_type, campaign_id,
               occurred_at, 're_export' AS kind
        FROM acts WHERE rn > {offset} AND rn <= {offset + max(1, round(n * 0.20))}""")
    return f"""
        CREATE OR REPLACE TEMP TABLE acts AS
        SELECT *, row_number() OVER (ORDER BY md5(activity_id || ':{seed}')) AS rn
        FROM read_csv({files!r}, all_varchar = true, union_by_name = true, ignore_errors = true)
        WHERE activity_id IS NOT NULL AND account_id IS NOT NULL
            AND activity_type IN ('call', 'meeting', 'inquiry', 'support_ticket', 'consultation');
        CREATE OR REPLACE TEMP TABLE crm_inc AS {' UNION ALL '.join(parts)}
    """


def _versioned_sql(files: list[str], day: dt.date, seed: int, n: int, key: str, prefix: str,
                   changed: dict[str, str], fresh: dict[str, str]) -> str:
    """New records and re-exports of a dataset whose newest ``updated_at`` wins (deals,
    contacts). ``changed``: column -> the SQL expression of its value in a re-export;
    ``fresh``: the same for a new record."""
    d, tag = day.isoformat(), day.strftime("%Y%m%d")
    new_id = f"'{prefix}-{tag}-' || lpad(CAST(rn AS VARCHAR), 6, '0')"
    k_new, k_newer, k_stale, k_ahead = (max(1, round(n * share)) for share in (0.40, 0.35, 0.15, 0.10))
    bounds = [k_new, k_new + k_newer, k_new + k_newer + k_stale, k_new + k_newer + k_stale + k_ahead]
    changes = ", ".join(f"{expr} AS {col}" for col, expr in changed.items())
    news = "".join(f", {expr} AS {col}" for col, expr in fresh.items())
    return f"""
        CREATE OR REPLACE TEMP TABLE recs AS
        SELECT *, row_number() OVER (ORDER BY md5({key} || ':{seed}')) AS rn
        FROM (SELECT *, TRY_CAST(updated_at AS TIMESTAMPTZ) AS ts
              FROM read_csv({files!r}, all_varchar = true, union_by_name = true, ignore_errors = true))
        WHERE {key} IS NOT NULL AND ts IS NOT NULL AND ts < DATE '{d}' - INTERVAL 2 DAY;
        CREATE OR REPLACE TEMP TABLE crm_inc AS
        SELECT * EXCLUDE (ts, rn) REPLACE ({new_id} AS {key}, {_jst(d, 0, 10)} AS created_at,
                                           {_jst(d, 0, 10)} AS updated_at{news}), 'new' AS kind
        FROM recs WHERE rn <= {bounds[0]}
        UNION ALL
        SELECT * EXCLUDE (ts, rn) REPLACE ({changes}, {_jst(d, 0, 12)} AS updated_at), 'update_newer' AS kind
        FROM recs WHERE rn > {bounds[0]} AND rn <= {bounds[1]}
        UNION ALL
        SELECT * EXCLUDE (ts, rn) REPLACE ({changes}, {_ts("ts - INTERVAL 1 DAY")} AS updated_at),
               'update_stale' AS kind
        FROM recs WHERE rn > {bounds[1]} AND rn <= {bounds[2]}
        UNION ALL
        SELECT * EXCLUDE (ts, rn) REPLACE ({changes}, {_jst(d, 1, 1)} AS updated_at), 'update_ahead_of_as_of' AS kind
        FROM recs WHERE rn > {bounds[2]} AND rn <= {bounds[3]}
    """


def _canonical(paths: list[Path], key: str) -> list[str]:
    """The files among ``paths`` whose header names ``key`` (canonical English headers:
    a generated folder also holds a Salesforce-style deals export)."""
    from upsell.encoding import open_binary

    out = []
    for path in paths:
        with open_binary(path, compressed=path.suffix == ".gz") as fh:
            if key in fh.readline().decode("utf-8-sig", errors="replace").strip().split(","):
                out.append(str(path))
    return out


# dataset -> (key, id prefix, the values a re-export changes, the values of a new record)
_VERSIONED = {
    "deals": ("deal_id", "DL", {
        "stage": "CASE WHEN stage IN ('won', 'lost') THEN stage ELSE 'won' END",
        "closed_at": f"coalesce(closed_at, {_ts('ts')})"}, {"stage": "'prospecting'", "closed_at": "NULL"}),
    "contacts": ("contact_id", "CON", {"department": "'経営企画部'"}, {}),
}


def _write_crm(con, landing: Path, day: dt.date, seed: int) -> tuple[list[Path], dict[str, int]]:
    """The CRM files of the increment (activities, deals, contacts), about 0.2 % of each base."""
    tag = day.strftime("%Y%m%d")
    written: list[Path] = []
    counts: dict[str, int] = {}
    for dataset in ("activities", *_VERSIONED):
        key = "activity_id" if dataset == "activities" else _VERSIONED[dataset][0]
        out = landing / "crm" / f"{dataset}_{tag}.csv"
        files = _canonical(sorted(p for p in (landing / "crm").glob(f"{dataset}*.csv*") if p != out), key)
        if not files:
            continue
        total = con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true, union_by_name = true, "
                            "ignore_errors = true)", [files]).fetchone()[0]
        n = max(20, total // 500)
        if dataset == "activities":
            con.execute(_activities_sql(files, day, seed, n))
        else:
            con.execute(_versioned_sql(files, day, seed, n, *_VERSIONED[dataset]))
        con.execute(f"COPY (SELECT * EXCLUDE (kind) FROM crm_inc ORDER BY ALL) TO '{out}' (HEADER)")
        counts |= {f"{dataset}.{k}": c for k, c in
                   con.execute("SELECT kind, count(*) FROM crm_inc GROUP BY kind ORDER BY kind").fetchall()}
        written.append(out)
    return written, counts


def generate_next_day(landing: Path, day: dt.date, seed: int = 42, *, email_rows: int | None = None,
                      invoice_rows: int | None = None) -> Increment:
    """Write ``day``'s new email-event, invoice and CRM files into ``landing`` (a generated folder).

    Sizes default to 0.2 % of the base email events and 0.3 % of the base invoice lines
    (about one busy day at every scale).
    """
    landing = Path(landing)
    email_files = sorted(str(p) for p in (landing / "email").glob("email_events*.csv*")
                         if not p.name.startswith("email_events_2"))
    invoice_files = sorted(str(p) for p in (landing / "billing").glob("invoices*.csv*")
                           if not p.name.startswith("invoices_2"))
    if not email_files or not invoice_files:
        raise FileNotFoundError(f"{landing} has no generated email_events / invoices exports to build on "
                                "(run `upsell generate` first)")
    tag = day.strftime("%Y%m%d")
    email_out = landing / "email" / f"email_events_{tag}.csv"
    invoice_out = landing / "billing" / f"invoices_{tag}.csv"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'; SET enable_progress_bar = false")
        if email_rows is None:
            total = con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true, union_by_name = true, "
                                "ignore_errors = true)", [email_files]).fetchone()[0]
            email_rows = max(50, total // 500)
        con.execute(_email_sql(email_files, day, seed, email_rows))
        if invoice_rows is None:
            total = con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true, union_by_name = true, "
                                "ignore_errors = true)", [invoice_files]).fetchone()[0]
            invoice_rows = max(30, total * 3 // 1000)
        con.execute(_invoice_sql(invoice_files, day, seed, invoice_rows))
        con.execute(f"COPY (SELECT * EXCLUDE (kind) FROM email_inc ORDER BY event_id) TO '{email_out}' (HEADER)")
        con.execute(f"COPY (SELECT * EXCLUDE (kind) FROM inv_inc ORDER BY invoice_id, line_no) "
                    f"TO '{invoice_out}' (HEADER)")
        counts = {f"email_events.{k}": c for k, c in
                  con.execute("SELECT kind, count(*) FROM email_inc GROUP BY kind ORDER BY kind").fetchall()}
        counts |= {f"invoices.{k}": c for k, c in
                   con.execute("SELECT kind, count(*) FROM inv_inc GROUP BY kind ORDER BY kind").fetchall()}
        crm_files, crm_counts = _write_crm(con, landing, day, seed)
    finally:
        con.close()
    return Increment(email_out, invoice_out, counts | crm_counts, tuple(crm_files))
