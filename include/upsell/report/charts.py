"""The report's charts as Vega-Lite specs (altair), with their data inline.

Each function takes the aggregated rows from :mod:`upsell.report.data` and returns a spec
dict; the page embeds them with one inlined copy of vega-embed (no CDN). Labels are
Japanese with English beside them, in the font the page uses (Noto Sans CJK JP).
"""

from __future__ import annotations

from typing import Any

import altair as alt

from upsell.report.data import TREND_METRICS, ReportData, Row
from upsell.report.labels import KPI_LABELS, PDCA_KPI_LABELS, STATUS_COLORS

FONT = "Noto Sans CJK JP"
Spec = dict[str, Any]


def _spec(chart: alt.TopLevelMixin, rows: dict[str, list] | None = None) -> Spec:
    """Top-level config shared by every chart: the CJK font, no action menu, quiet axes.

    Not validated against the Vega-Lite schema here: the specs come from this module's
    code, not from data, and jsonschema's walk of eight specs was 0.4 s of every night's
    report. The tests validate every chart of the sample's report
    (``test_every_chart_spec_is_valid_vega_lite``) and draw each one in Chromium.

    ``rows``: the rows of each :func:`_rows` placeholder, put in after Altair has built the
    spec, where Altair would have put them inline."""
    chart = chart.configure(font=FONT).configure_view(stroke=None).configure_axis(labelFontSize=11,
                                                                                 titleFontSize=12)
    spec = chart.to_dict(validate=False)
    _fill_rows(spec, rows or {})
    return spec


def _rows(name: str) -> alt.Data:
    """A named placeholder for a chart's rows (see :func:`_spec`). Given inline, the rows are
    deep-copied by Altair at every step of building the spec: ≈ 0.2 s of the night's
    ≈ 0.6 s of charts at M (docs/benchmarks.md, twenty-seventh round)."""
    return alt.Data(name=name)


def _fill_rows(node: object, rows: dict[str, list]) -> None:
    """Replace each ``"data": {"name": n}`` of ``rows`` in the spec by ``{"values": rows[n]}``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, dict) and set(value) == {"name"} and value["name"] in rows:
                node[key] = {"values": rows[value["name"]]}
            else:
                _fill_rows(value, rows)
    elif isinstance(node, list):
        for item in node:
            _fill_rows(item, rows)


def _status_scale() -> alt.Scale:
    return alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values()))


def pdca_board(pdca: list[Row]) -> Spec:
    """Campaign × KPI grid: met / missed / no data, achievement (actual ÷ target) in each cell."""
    values = [{**r, "kpi_label": PDCA_KPI_LABELS.get(r["kpi"], r["kpi"]),
               "achievement_text": "-" if r["achievement_ratio"] is None else f"{r['achievement_ratio']:.0%}"}
              for r in pdca]
    kpi_order = [PDCA_KPI_LABELS.get(k, k) for k in
                 sorted({r["kpi"] for r in pdca}, key=lambda k: min(r["kpi_order"] for r in pdca if r["kpi"] == k))]
    base = alt.Chart(_rows("pdca")).encode(
        x=alt.X("kpi_label:N", sort=kpi_order, title=None,
                axis=alt.Axis(orient="top", labelAngle=-35, labelAlign="left", labelLimit=140)),
        y=alt.Y("campaign_id:N", title=None, sort="descending"),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("status:N", scale=_status_scale(), title="判定 status", legend=alt.Legend(orient="bottom")),
        tooltip=["campaign_name:N", "kpi:N", alt.Tooltip("target_value:Q", format=",.3~f"),
                 alt.Tooltip("actual_value:Q", format=",.3~f"), alt.Tooltip("gap:Q", format=",.3~f"),
                 "status:N"])
    text = base.mark_text(fontSize=9, color="white").encode(text="achievement_text:N")
    height = max(120, 15 * len({r["campaign_id"] for r in pdca}))
    return _spec((cells + text).properties(width=62 * max(1, len(kpi_order)), height=height,
                                           title=["達成率 (実績 ÷ 目標)", "achievement vs target"]),
                 {"pdca": values})


def campaign_economics(campaigns: list[Row]) -> Spec:
    """Deals won against the break-even line (deals needed to pay back the cost), and ROI."""
    data = _rows("campaigns")
    y = alt.Y("campaign_id:N", title=None, sort="descending")
    deals = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("deals_won:Q", title="受注件数 / deals won"),
        color=alt.Color("is_break_even_reached:N", title="損益分岐 / break-even reached",
                        scale=alt.Scale(domain=[True, False], range=["#2e7d32", "#c62828"]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=["campaign_name:N", "deals_won:Q", "break_even_deals:Q"])
    breakeven = alt.Chart(data).mark_tick(color="black", thickness=2, size=14).encode(
        y=y, x="break_even_deals:Q", tooltip=["campaign_id:N", alt.Tooltip("break_even_deals:Q", title="break-even")])
    roi = alt.Chart(data).mark_bar().encode(
        y=alt.Y("campaign_id:N", title=None, sort="descending", axis=None),
        x=alt.X("roi:Q", title="ROI", axis=alt.Axis(format="%")),
        color=alt.condition("datum.roi >= 0", alt.value("#2e7d32"), alt.value("#c62828")),
        tooltip=["campaign_name:N", alt.Tooltip("roi:Q", format=".1%"),
                 alt.Tooltip("cost_jpy:Q", format=",.0f"), alt.Tooltip("gross_profit_jpy:Q", format=",.0f")])
    zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(color="black").encode(x="x:Q")
    height = max(120, 15 * len(campaigns))
    left = (deals + breakeven).properties(width=200, height=height,
                                          title=["受注 vs 損益分岐点 (黒線)", "deals vs break-even (line)"])
    right = (roi + zero).properties(width=180, height=height, title=["ROI", "(0% = 損益分岐 / break-even)"])
    return _spec(alt.hconcat(left, right).resolve_scale(color="independent"), {"campaigns": campaigns})


def kpi_trend(kpi: list[Row], period_type: str) -> Spec:
    """One small line chart per KPI over fiscal months or quarters; partial periods hollow."""
    values = [{"period": r["period"], "period_start": r["period_start"], "is_partial": r["is_partial"],
               "metric": KPI_LABELS[m], "value": r[m]}
              for r in kpi if r["period_type"] == period_type for m in TREND_METRICS if r[m] is not None]
    base = alt.Chart(_rows("kpi")).encode(
        x=alt.X("period_start:T", title=None,
                axis=alt.Axis(format="%Y-%m" if period_type == "fiscal_month" else "%Y-%m", labelAngle=0)),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%")),
        tooltip=["period:N", "metric:N", alt.Tooltip("value:Q", format=".1%"), "is_partial:N"])
    chart = (base.mark_line(color="#1565c0")
             + base.mark_point(size=30, color="#1565c0").encode(
                 fill=alt.condition("datum.is_partial", alt.value("white"), alt.value("#1565c0"))))
    return _spec(chart.properties(width=300, height=120).facet(
        facet=alt.Facet("metric:N", title=None, sort=[KPI_LABELS[m] for m in TREND_METRICS]), columns=2)
        .resolve_scale(y="independent"), {"kpi": values})


def nrr_chart(nrr: list[Row]) -> Spec:
    """NRR bars per fiscal year against the 100 % line, GRR as a line."""
    values = [{**r, "fy": f"FY{r['fiscal_year']}" + (" (途中)" if r["is_partial"] else "")} for r in nrr]
    data = _rows("nrr")
    bars = alt.Chart(data).mark_bar(color="#1565c0").encode(
        x=alt.X("fy:N", title="会計年度 / fiscal year", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("nrr:Q", title="NRR / GRR", axis=alt.Axis(format="%")),
        tooltip=["fy:N", alt.Tooltip("nrr:Q", format=".1%"), alt.Tooltip("grr:Q", format=".1%"),
                 "cohort_accounts:Q"])
    grr = alt.Chart(data).mark_line(point=True, color="#ef6c00").encode(x="fy:N", y="grr:Q")
    hundred = alt.Chart(alt.Data(values=[{"y": 1}])).mark_rule(strokeDash=[4, 4]).encode(y="y:Q")
    title = "売上継続率 NRR (棒) と GRR (線) / net and gross revenue retention"
    return _spec((bars + grr + hundred).properties(width=520, height=220, title=title), {"nrr": values})


def cpm_segments(segments: list[Row]) -> Spec:
    """Accounts per CPM segment (Japanese label with the code)."""
    values = [{**r, "label": f"{r['cpm_segment_ja']} ({r['cpm_segment']})"} for r in segments]
    order = [v["label"] for v in values]
    base = alt.Chart(_rows("segments")).encode(
        y=alt.Y("label:N", sort=order, title=None),
        x=alt.X("accounts:Q", title="顧客数 / accounts"))
    bars = base.mark_bar().encode(
        color=alt.Color("is_lapsed:N", title="離脱 / lapsed",
                        scale=alt.Scale(domain=[False, True], range=["#1565c0", "#9e9e9e"])),
        tooltip=["cpm_segment:N", "cpm_segment_ja:N", alt.Tooltip("accounts:Q", format=","),
                 alt.Tooltip("total_amount_jpy:Q", format=",.0f")])
    text = base.mark_text(align="left", dx=3).encode(text=alt.Text("accounts:Q", format=","))
    return _spec((bars + text).properties(width=420, height=260, title="CPM 顧客区分 / CPM segments"),
                 {"segments": values})


def cpm_transitions(transitions: list[Row], period: str | None, segment_order: list[str]) -> Spec:
    """Month-over-month movement between CPM segments: accounts from (row) → to (column)."""
    base = alt.Chart(_rows("transitions")).encode(
        x=alt.X("to_segment_ja:N", sort=segment_order, title="当月 / to", axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("from_segment_ja:N", sort=segment_order, title="前月 / from"))
    cells = base.mark_rect().encode(
        color=alt.Color("accounts:Q", title="顧客数 / accounts", scale=alt.Scale(scheme="blues", type="log")),
        tooltip=["from_segment:N", "to_segment:N", alt.Tooltip("accounts:Q", format=","),
                 alt.Tooltip("share_of_from_segment:Q", format=".1%")])
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("accounts:Q", format=","),
        color=alt.condition("datum.share_of_from_segment > 0.5", alt.value("white"), alt.value("black")))
    return _spec((cells + text).properties(width=420, height=300,
                                           title=f"CPM 区分の遷移 {period or ''} / segment transitions (month-end)"),
                 {"transitions": transitions})


def rfm_grid(grid: list[Row]) -> Spec:
    """Accounts per recency × frequency score (5 = best), the classic RFM grid."""
    base = alt.Chart(_rows("grid")).encode(
        x=alt.X("f_score:O", title="F スコア (頻度) / frequency score"),
        y=alt.Y("r_score:O", sort="descending", title="R スコア (最新性) / recency score"))
    cells = base.mark_rect().encode(
        color=alt.Color("accounts:Q", title="顧客数 / accounts", scale=alt.Scale(scheme="greens")),
        tooltip=["r_score:O", "f_score:O", alt.Tooltip("accounts:Q", format=","),
                 alt.Tooltip("avg_monetary_jpy:Q", format=",.0f"), "main_segment:N"])
    text = base.mark_text(fontSize=11).encode(text=alt.Text("accounts:Q", format=","))
    return _spec((cells + text).properties(width=300, height=260, title="RFM グリッド / RFM grid (R × F)"),
                 {"grid": grid})


def all_charts(data: ReportData) -> dict[str, Spec]:
    """Chart id → spec, in page order."""
    segment_order = [r["cpm_segment_ja"] for r in data.cpm_segments]
    return {
        "chart-pdca-board": pdca_board(data.pdca),
        "chart-campaign-economics": campaign_economics(data.campaigns),
        "chart-kpi-monthly": kpi_trend(data.kpi, "fiscal_month"),
        "chart-kpi-quarterly": kpi_trend(data.kpi, "fiscal_quarter"),
        "chart-nrr": nrr_chart(data.nrr),
        "chart-cpm-segments": cpm_segments(data.cpm_segments),
        "chart-cpm-transitions": cpm_transitions(data.transitions, data.transition_period, segment_order),
        "chart-rfm-grid": rfm_grid(data.rfm_grid),
    }
