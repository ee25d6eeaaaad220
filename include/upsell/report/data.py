"""The report's numbers, read from the published serving file (read-only, schema ``marts``).

Every query aggregates in DuckDB: segment counts, transition counts, RFM grid counts and
the top-N of the sales list. Nothing here is per account beyond that top N, so the page
is the same size for 1,000 accounts as for 500,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from upsell.publish import SERVING_FILE

CPM_ORDER = ["first_time", "early_repeat", "steady", "trendy", "loyal",
             "first_time_lapsed", "early_repeat_lapsed", "steady_lapsed", "trendy_lapsed", "loyal_lapsed"]
TREND_METRICS = ["upsell_rate", "upsell_lead_quality", "upsell_close_rate", "avg_ltv_lift_rate"]
DEFAULT_TOP_N = 200

Row = dict[str, Any]


@dataclass
class ReportData:
    """Everything one report page shows."""

    as_of: date
    run_id: str
    published_at: datetime
    accounts: int
    campaigns: list[Row] = field(default_factory=list)
    pdca: list[Row] = field(default_factory=list)
    kpi: list[Row] = field(default_factory=list)
    nrr: list[Row] = field(default_factory=list)
    cpm_segments: list[Row] = field(default_factory=list)
    transitions: list[Row] = field(default_factory=list)
    transition_period: str | None = None
    rfm_grid: list[Row] = field(default_factory=list)
    nba: list[Row] = field(default_factory=list)
    nba_total: int = 0
    reason_codes: list[Row] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """JSON-friendly values (Decimal → float, dates → ISO text) for charts and attributes."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Row]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [{n: _plain(v) for n, v in zip(names, r, strict=True)} for r in cur.fetchall()]


def serving_file(serving_dir: Path) -> Path:
    path = Path(serving_dir) / SERVING_FILE
    if not path.exists():
        raise FileNotFoundError(f"no published serving file at {path}: run the nightly job (upsell run) first")
    return path


def load(serving_dir: Path, top_n: int = DEFAULT_TOP_N) -> ReportData:
    """Read the report's aggregates from ``<serving_dir>/upsell.duckdb`` (read-only)."""
    con = duckdb.connect(str(serving_file(serving_dir)), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        run_id, as_of, published_at = con.execute(
            "SELECT run_id, as_of_date, published_at FROM marts._publish").fetchone()
        data = ReportData(as_of=as_of, run_id=run_id, published_at=published_at,
                          accounts=con.execute("SELECT count(*) FROM marts.customer_360").fetchone()[0])
        _campaigns(con, data)
        _kpis(con, data)
        _customers(con, data)
        _sales_list(con, data, top_n)
        return data
    finally:
        con.close()


def _campaigns(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    data.campaigns = _rows(con, """
        SELECT campaign_id, campaign_name, channel, start_date, end_date, is_window_closed,
               cost_jpy, gross_profit_jpy, won_amount_jpy, deals_won, break_even_deals,
               is_break_even_reached, roi, roi_status, roi_suggested_action_ja, roi_suggested_action_en
        FROM marts.campaign_performance
        WHERE is_started
        ORDER BY start_date DESC, campaign_id""")
    data.pdca = _rows(con, """
        SELECT campaign_id, campaign_name, channel, kpi, kpi_order, target_value, actual_value, gap,
               achievement_ratio, status, is_final, suggested_action_ja, suggested_action_en
        FROM marts.campaign_pdca
        ORDER BY campaign_id, kpi_order""")


def _kpis(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    data.kpi = _rows(con, f"""
        SELECT period_type, period, period_start, fiscal_year, fiscal_quarter, is_partial,
               existing_customers, upsold_customers, upsell_leads, upsell_deals_won, upsell_deals_lost,
               {", ".join(TREND_METRICS)}, upsell_roi, upsell_revenue_jpy
        FROM marts.kpi_sales_marketing
        WHERE period_type IN ('fiscal_month', 'fiscal_quarter')
        ORDER BY period_type, period_start""")
    data.nrr = _rows(con, """
        SELECT fiscal_year, is_partial, cohort_accounts, base_mrr_jpy, nrr, grr
        FROM marts.mrr_retention
        WHERE nrr IS NOT NULL
        ORDER BY fiscal_year""")


def _customers(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    data.cpm_segments = _rows(con, """
        SELECT cpm_segment, any_value(cpm_segment_ja) AS cpm_segment_ja, is_lapsed,
               count(*) AS accounts, sum(total_amount_jpy) AS total_amount_jpy
        FROM marts.customer_cpm
        GROUP BY cpm_segment, is_lapsed""")
    order = {s: i for i, s in enumerate(CPM_ORDER)}
    data.cpm_segments.sort(key=lambda r: order.get(r["cpm_segment"], len(order)))
    latest = con.execute("SELECT max(period) FROM marts.cpm_transitions").fetchone()[0]
    data.transition_period = latest
    data.transitions = _rows(con, """
        SELECT from_segment, to_segment, from_segment_ja, to_segment_ja, accounts, share_of_from_segment
        FROM marts.cpm_transitions
        WHERE period = ?
        ORDER BY from_segment, to_segment""", [latest])
    data.rfm_grid = _rows(con, """
        SELECT r_score, f_score, count(*) AS accounts, avg(monetary_jpy) AS avg_monetary_jpy,
               mode(rfm_segment) AS main_segment
        FROM marts.customer_rfm
        GROUP BY r_score, f_score
        ORDER BY r_score, f_score""")


def _sales_list(con: duckdb.DuckDBPyConnection, data: ReportData, top_n: int) -> None:
    data.nba_total = con.execute("SELECT count(*) FROM marts.upsell_next_best_action").fetchone()[0]
    data.reason_codes = _rows(con, """
        SELECT reason_code, description_ja, description_en
        FROM marts.upsell_nba_reason_codes ORDER BY sort_order""")
    # top N by score; the same order a BI tool shows (score, then account for ties)
    data.nba = _rows(con, """
        SELECT n.account_id, c.account_name, c.industry, c.cpm_segment_ja, n.decision_maker_contact_id,
               n.action, n.product_code, n.window_start, n.window_end, n.reasons, n.score
        FROM marts.upsell_next_best_action AS n
        LEFT JOIN marts.customer_360 AS c USING (account_id)
        ORDER BY n.score DESC, n.account_id, n.action
        LIMIT ?""", [top_n])
