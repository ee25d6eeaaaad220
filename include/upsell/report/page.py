"""The report page: one self-contained HTML file (inline JS, CSS and data; no network).

Every number a reader (or the browser test) checks carries ``data-metric`` (what it is)
and ``data-value`` (the unrounded value from the mart) beside its formatted text. Long
tables paginate in plain JS; the Vega libraries are inlined once for all charts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import Any

from upsell.report.data import CPM_ORDER, TREND_METRICS, ReportData, Row
from upsell.report.labels import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    KPI_LABELS,
    PDCA_KPI_LABELS,
    RATE_KPIS,
    STATUS_LABELS,
)

CSS = """
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --met: #2e7d32; --missed: #c62828; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "Hiragino Sans", "Yu Gothic", sans-serif;
       color: var(--fg); margin: 0; background: #f5f7fa; font-size: 14px; }
header { background: #102a43; color: white; padding: 16px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: #bcccdc; font-size: 13px; }
nav { padding: 8px 28px; background: #243b53; }
nav a { color: #d9e2ec; margin-right: 18px; text-decoration: none; font-size: 13px; }
main { padding: 8px 28px 40px; }
section { background: white; border: 1px solid var(--line); border-radius: 6px; margin: 18px 0; padding: 12px 20px; }
h2 { font-size: 18px; margin: 6px 0 10px; }
h3 { font-size: 15px; margin: 16px 0 6px; color: #334e68; }
.en { color: var(--muted); font-weight: normal; font-size: 0.85em; }
.note { color: var(--muted); font-size: 12px; margin: 4px 0 10px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.chart { min-height: 60px; }
.tiles { display: flex; gap: 14px; flex-wrap: wrap; margin: 6px 0 8px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.tile .v { font-size: 20px; font-weight: bold; }
table { border-collapse: collapse; margin: 6px 0; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.met { color: var(--met); font-weight: bold; } .missed { color: var(--missed); font-weight: bold; }
.no_data { color: var(--muted); }
.pager { margin: 4px 0 10px; font-size: 12px; color: var(--muted); }
.pager button { margin-right: 6px; }
td:first-child { white-space: nowrap; }
.matrix td.num { min-width: 52px; }
"""

PAGER_JS = """
document.querySelectorAll('table.paginate').forEach(function (table) {
  var size = parseInt(table.dataset.pageSize || '25', 10);
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  if (rows.length <= size) return;
  var pages = Math.ceil(rows.length / size), page = 0;
  var nav = document.createElement('div'); nav.className = 'pager';
  var prev = document.createElement('button'); prev.textContent = '\\u2039 前へ prev';
  var next = document.createElement('button'); next.textContent = '次へ next \\u203a';
  var label = document.createElement('span');
  function show() {
    rows.forEach(function (r, i) { r.hidden = Math.floor(i / size) !== page; });
    label.textContent = (page + 1) + ' / ' + pages + ' ページ (' + rows.length + ' 行 rows)';
    prev.disabled = page === 0; next.disabled = page === pages - 1;
  }
  prev.onclick = function () { page -= 1; show(); };
  next.onclick = function () { page += 1; show(); };
  nav.append(prev, next, label); table.after(nav); show();
});
"""

EMBED_JS = """
window.__report = {done: false, charts: 0, errors: []};
(function () {
  var specs = JSON.parse(document.getElementById('report-charts').textContent);
  var jobs = Object.keys(specs).map(function (id) {
    return vegaEmbed('#' + id, specs[id], {renderer: 'svg', actions: false}).then(function () {
      window.__report.charts += 1;
    });
  });
  Promise.all(jobs).then(function () { window.__report.done = true; }, function (err) {
    window.__report.errors.push(String(err)); console.error('chart failed: ' + err); window.__report.done = true;
  });
})();
"""


def _value(v: Any) -> str:
    """data-value: the unrounded value, as JSON would write it ('' for none)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def _fmt(v: Any, kind: str) -> str:
    if v is None:
        return "—"
    if kind == "pct":
        return f"{v:.1%}"
    if kind == "yen":
        return f"¥{v:,.0f}"
    if kind == "int":
        return f"{int(v):,}"
    if kind == "num":
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return escape(str(v))


def _cell(v: Any, kind: str = "text", metric: str | None = None, cls: str = "") -> str:
    """A table cell; numbers are right-aligned and, with a metric key, machine-checkable."""
    classes = " ".join(c for c in (cls, "num" if kind != "text" else "") if c)
    attrs = f' class="{classes}"' if classes else ""
    if metric:
        attrs += f' data-metric="{escape(metric)}" data-value="{escape(_value(v))}"'
    return f"<td{attrs}>{_fmt(v, kind)}</td>"


def _table(headers: Iterable[str], rows: Iterable[str], cls: str = "", page_size: int | None = None,
           table_id: str | None = None) -> str:
    classes = " ".join(c for c in (cls, "paginate" if page_size else "") if c)
    attrs = (f' id="{table_id}"' if table_id else "") + (f' class="{classes}"' if classes else "")
    if page_size:
        attrs += f' data-page-size="{page_size}"'
    head = "".join(f"<th{' class=num' if h.startswith('#') else ''}>{h.lstrip('#')}</th>" for h in headers)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _tile(label: str, metric: str, value: int, cls: str = "") -> str:
    return (f'<div class=tile>{label}<div class="v {cls}" data-metric="{metric}" data-value="{value}">'
            f"{value:,}</div></div>")


def _chart(chart_id: str) -> str:
    return f'<div class="chart" id="{chart_id}"></div>'


def _kpi_value_kind(kpi: str) -> str:
    return "pct" if kpi in RATE_KPIS else "num"


def campaign_section(data: ReportData) -> str:
    by_campaign = {c["campaign_id"]: c for c in data.campaigns}
    camp_rows = []
    for c in data.campaigns:
        key = f"campaign:{c['campaign_id']}"
        camp_rows.append(
            "<tr>" + _cell(c["campaign_id"]) + f"<td>{escape(c['campaign_name'] or '')}</td>"
            + f"<td>{escape(CHANNEL_LABELS.get(c['channel'], c['channel']))}</td>"
            + _cell(c["cost_jpy"], "yen", f"{key}:cost_jpy")
            + _cell(c["gross_profit_jpy"], "yen", f"{key}:gross_profit_jpy")
            + _cell(c["deals_won"], "int", f"{key}:deals_won")
            + _cell(c["break_even_deals"], "int", f"{key}:break_even_deals")
            + _cell(c["roi"], "pct", f"{key}:roi", "met" if (c["roi"] or 0) >= 0 else "missed")
            + f"<td>{escape(c['roi_suggested_action_ja'] or '')}<br><span class=en>"
              f"{escape(c['roi_suggested_action_en'] or '')}</span></td></tr>")
    pdca_rows = []
    for r in data.pdca:
        key = f"pdca:{r['campaign_id']}:{r['kpi']}"
        kind = _kpi_value_kind(r["kpi"])
        camp = by_campaign.get(r["campaign_id"], {})
        pdca_rows.append(
            "<tr>" + _cell(r["campaign_id"]) + f"<td>{escape(PDCA_KPI_LABELS.get(r['kpi'], r['kpi']))}</td>"
            + _cell(r["target_value"], kind, f"{key}:target") + _cell(r["actual_value"], kind, f"{key}:actual")
            + _cell(r["gap"], kind, f"{key}:gap")
            + f'<td class="{r["status"]}" data-metric="{key}:status" data-value="{r["status"]}">'
              f'{STATUS_LABELS.get(r["status"], r["status"])}</td>'
            + _cell(camp.get("roi"), "pct") + _cell(camp.get("break_even_deals"), "int")
            + f"<td>{escape(r['suggested_action_ja'] or '')}<br><span class=en>"
              f"{escape(r['suggested_action_en'] or '')}</span></td></tr>")
    met = sum(1 for r in data.pdca if r["status"] == "met")
    missed = sum(1 for r in data.pdca if r["status"] == "missed")
    return f"""
<section id="pdca"><h2>キャンペーン PDCA ボード <span class=en>Campaign PDCA board</span></h2>
<p class=note>Plan (目標) vs Check (実績): 目標のある KPI ごとに達成・未達、差 (実績 − 目標)、推奨アクション (Act)。
損益分岐点 = 費用 ÷ 1件あたり粗利 の受注件数。ROI = (粗利 − 費用) ÷ 費用。</p>
<div class=tiles>
{_tile("キャンペーン campaigns", "campaigns", len(data.campaigns))}
{_tile("KPI 達成 met", "pdca_met", met, "met")}
{_tile("KPI 未達 missed", "pdca_missed", missed, "missed")}
</div>
<div class=charts>{_chart("chart-pdca-board")}{_chart("chart-campaign-economics")}</div>
<h3>KPI 目標 vs 実績 <span class=en>target vs actual per KPI</span></h3>
{_table(["キャンペーン campaign", "KPI", "#目標 target", "#実績 actual", "#差 gap", "判定 status", "#ROI",
         "#損益分岐 break-even deals", "推奨アクション suggested action"], pdca_rows, page_size=20,
        table_id="table-pdca")}
<h3>費用対効果 <span class=en>economics per campaign</span></h3>
{_table(["キャンペーン campaign", "名称 name", "チャネル channel", "#費用 cost", "#粗利 gross profit",
         "#受注 deals won", "#損益分岐 break-even deals", "#ROI", "ROI アクション ROI action"], camp_rows,
        page_size=15, table_id="table-campaigns")}
</section>"""


def kpi_section(data: ReportData) -> str:
    def rows(period_type: str) -> list[str]:
        out = []
        for r in reversed([r for r in data.kpi if r["period_type"] == period_type]):
            key = f"kpi:{period_type}:{r['period']}"
            label = escape(r["period"]) + (" <span class=en>(途中 partial)</span>" if r["is_partial"] else "")
            out.append("<tr>" + f"<td>{label}</td>"
                       + _cell(r["existing_customers"], "int", f"{key}:existing_customers")
                       + _cell(r["upsold_customers"], "int", f"{key}:upsold_customers")
                       + "".join(_cell(r[m], "pct", f"{key}:{m}") for m in TREND_METRICS)
                       + _cell(r["upsell_roi"], "pct", f"{key}:upsell_roi") + "</tr>")
        return out

    headers = ["期間 period", "#既存顧客 existing", "#アップセル顧客 upsold",
               *[f"#{KPI_LABELS[m]}" for m in TREND_METRICS], "#ROI"]
    nrr_rows = ["<tr>" + f"<td>FY{r['fiscal_year']}{' (途中 partial)' if r['is_partial'] else ''}</td>"
                + _cell(r["cohort_accounts"], "int", f"nrr:{r['fiscal_year']}:cohort_accounts")
                + _cell(r["base_mrr_jpy"], "yen") + _cell(r["nrr"], "pct", f"nrr:{r['fiscal_year']}:nrr")
                + _cell(r["grr"], "pct", f"nrr:{r['fiscal_year']}:grr") + "</tr>" for r in reversed(data.nrr)]
    return f"""
<section id="kpi"><h2>KPI の推移 <span class=en>KPI trends by fiscal month and quarter</span></h2>
<p class=note>アップセル率 = アップセル成約数 ÷ 既存顧客数; リード品質 = アップセル成約数 ÷ 提供リード数;
成約率 = 受注 ÷ (受注 + 失注); LTV 向上率 = (アップセル後LTV − アップセル前LTV) ÷ アップセル前LTV;
NRR は会計年度ごと。白抜きの点は途中の期間 (hollow points: period in progress).</p>
<h3>会計月 <span class=en>fiscal months</span></h3><div class=charts>{_chart("chart-kpi-monthly")}</div>
<h3>四半期 <span class=en>fiscal quarters</span></h3><div class=charts>{_chart("chart-kpi-quarterly")}</div>
<div class=charts>{_chart("chart-nrr")}
{_table(["会計年度 FY", "#コホート cohort", "#期首 MRR", "#NRR", "#GRR"], nrr_rows, table_id="table-nrr")}</div>
<h3>四半期 KPI 表 <span class=en>quarterly KPIs</span></h3>
{_table(headers, rows("fiscal_quarter"), page_size=12, table_id="table-kpi-quarterly")}
<h3>月次 KPI 表 <span class=en>monthly KPIs</span></h3>
{_table(headers, rows("fiscal_month"), page_size=12, table_id="table-kpi-monthly")}
</section>"""


def customer_section(data: ReportData) -> str:
    seg_rows = ["<tr>" + f"<td>{escape(r['cpm_segment_ja'] or '')}</td>" + _cell(r["cpm_segment"])
                + _cell(r["accounts"], "int", f"cpm:{r['cpm_segment']}")
                + _cell(r["accounts"] / data.accounts if data.accounts else None, "pct")
                + _cell(r["total_amount_jpy"], "yen") + "</tr>" for r in data.cpm_segments]
    present = {r["from_segment"] for r in data.transitions} | {r["to_segment"] for r in data.transitions}
    order = [s for s in CPM_ORDER if s in present] + sorted(present - set(CPM_ORDER))
    ja = {r["from_segment"]: r["from_segment_ja"] for r in data.transitions}
    ja.update({r["to_segment"]: r["to_segment_ja"] for r in data.transitions})
    counts = {(r["from_segment"], r["to_segment"]): r["accounts"] for r in data.transitions}
    matrix_rows = ["<tr>" + f"<th>{escape(ja.get(f) or f)}</th>"
                   + "".join(_cell(counts.get((f, t)), "int", f"transition:{f}:{t}" if (f, t) in counts else None)
                             for t in order) + "</tr>" for f in order]
    matrix = _table(["前月 from \\ 当月 to", *[f"#{escape(ja.get(t) or t)}" for t in order]], matrix_rows,
                    cls="matrix", table_id="table-cpm-transitions")
    grid = {(r["r_score"], r["f_score"]): r["accounts"] for r in data.rfm_grid}
    rfm_rows = ["<tr>" + f"<th>R {r}</th>"
                + "".join(_cell(grid.get((r, f)), "int", f"rfm:{r}:{f}" if (r, f) in grid else None)
                          for f in range(1, 6)) + "</tr>" for r in range(5, 0, -1)]
    rfm_table = _table(["R \\ F", *[f"#F {f}" for f in range(1, 6)]], rfm_rows, cls="matrix",
                       table_id="table-rfm-grid")
    return f"""
<section id="customers"><h2>顧客ポートフォリオ (CPM) と RFM <span class=en>Customer portfolio (CPM) and RFM</span></h2>
<div class=tiles>{_tile("購入顧客 accounts", "accounts", data.accounts)}</div>
<div class=charts>{_chart("chart-cpm-segments")}
{_table(["区分", "segment", "#顧客数 accounts", "#構成比 share", "#累計購入額 lifetime amount"], seg_rows,
        table_id="table-cpm-segments")}</div>
<h3>区分の遷移 <span class=en>month-over-month transitions ({escape(data.transition_period or '—')})</span></h3>
<p class=note>前月末の区分 (行) から当月末の区分 (列) へ移った顧客数。CPM is about movement between segments.</p>
<div class=charts>{_chart("chart-cpm-transitions")}{matrix}</div>
<h3>RFM グリッド <span class=en>RFM grid: accounts per recency (row) × frequency (column) score</span></h3>
<div class=charts>{_chart("chart-rfm-grid")}
{rfm_table}</div>
</section>"""


def _reasons(codes: str | None, labels: dict[str, Row]) -> str:
    parts = []
    for code in (codes or "").replace(";", ",").split(","):
        code = code.strip()
        if code:
            lab = labels.get(code)
            parts.append(f'<span title="{escape(lab["description_en"] if lab else code)}">'
                         f'{escape(lab["description_ja"] if lab else code)}</span>')
    return "・".join(parts) or "—"


def sales_section(data: ReportData) -> str:
    labels = {r["reason_code"]: r for r in data.reason_codes}
    rows = []
    for rank, r in enumerate(data.nba, 1):
        key = f"nba:{rank}"
        rows.append(
            "<tr>" + _cell(rank, "int")
            + f'<td data-metric="{key}:account_id" data-value="{escape(r["account_id"])}">{escape(r["account_id"])}'
              f"<br>{escape(r['account_name'] or '')}</td>"
            + f"<td>{escape(r['industry'] or '—')}<br><span class=en>{escape(r['cpm_segment_ja'] or '')}</span></td>"
            + _cell(r["decision_maker_contact_id"] or "— (未登録)")
            + f"<td>{escape(ACTION_LABELS.get(r['action'], r['action']))}</td>" + _cell(r["product_code"])
            + f"<td>{escape(r['window_start'])} 〜 {escape(r['window_end'])}</td>"
            + f"<td>{_reasons(r['reasons'], labels)}</td>"
            + _cell(r["score"], "num", f"{key}:score") + "</tr>")
    legend = "".join(f"<tr><td>{escape(c['reason_code'])}</td><td>{escape(c['description_ja'])}</td>"
                     f"<td class=en>{escape(c['description_en'])}</td></tr>" for c in data.reason_codes)
    return f"""
<section id="sales"><h2>営業リスト: 誰に・いつ・何を
<span class=en>Sales list: next best actions (who, when, what, why)</span></h2>
<p class=note>スコア上位 <span data-metric="nba_shown" data-value="{len(data.nba)}">{len(data.nba):,}</span> 件 /
全 <span data-metric="nba_total" data-value="{data.nba_total}">{data.nba_total:,}</span> 件 (top by propensity score;
the full list is the mart upsell_next_best_action).
不満のある顧客 (NPS ≤ 6, 直近の問い合わせチケット) は含まれません。</p>
{_table(["#順位 rank", "誰に who (account)", "業種 industry / CPM", "意思決定者 contact", "何を what", "商品 product",
         "いつ when (window)", "理由 why", "#スコア score"], rows, page_size=25, table_id="table-nba")}
<h3>理由コード <span class=en>reason codes</span></h3>
{_table(["code", "理由", "reason"], legend, table_id="table-reasons")}
</section>"""


def _script_json(obj: Any) -> str:
    """JSON safe inside a <script> element (no '</' can close it early)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def render(data: ReportData, charts: dict[str, dict], vega_js: str) -> str:
    """The whole page."""
    return f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>夜間レポート {data.as_of} — Nightly upsell report</title>
<style>{CSS}</style></head>
<body data-as-of="{data.as_of}" data-run-id="{escape(data.run_id)}">
<header><h1>アップセル・クロスセル 夜間レポート
<span class=en style="color:#bcccdc">Nightly upsell &amp; cross-sell report</span></h1>
<div class=meta>基準日 as of <b>{data.as_of}</b> ・ 公開 published {escape(str(data.published_at))}
・ run {escape(data.run_id)}</div></header>
<nav><a href="#pdca">キャンペーン PDCA</a><a href="#kpi">KPI 推移</a><a href="#customers">CPM・RFM</a>
<a href="#sales">営業リスト</a></nav>
<main>
{campaign_section(data)}
{kpi_section(data)}
{customer_section(data)}
{sales_section(data)}
</main>
<script id="report-charts" type="application/json">{_script_json(charts)}</script>
<script>{vega_js}</script>
<script>{EMBED_JS}</script>
<script>{PAGER_JS}</script>
</body></html>
"""
