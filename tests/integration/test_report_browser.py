"""The nightly report as a manager sees it: the S sample published by `upsell run`, its
report opened in real headless Chromium (Debian's package; `make test` installs it).

Asserted: every chart drew SVG marks, the console stayed clean (offline: any fetch from a
CDN would log a failed load), Japanese text is drawn in a CJK font, the numbers on the page
equal the marts queried here with our own SQL, and long tables paginate. A full-page
screenshot is saved to var/artifacts/report-latest.png (and one per section,
report-<section>.png) for a human to look at.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.integration.chromium import Browser, chromium_binary

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "var" / "artifacts" / "report-latest.png"
CHARTS = ["chart-pdca-board", "chart-campaign-economics", "chart-kpi-monthly", "chart-kpi-quarterly", "chart-nrr",
          "chart-cpm-segments", "chart-cpm-transitions", "chart-rfm-grid"]

SECTIONS = ["pdca", "kpi", "customers", "sales"]

PAGE_PROBE = """(() => ({
  report: window.__report,
  metrics: Object.fromEntries([...document.querySelectorAll('[data-metric]')]
                              .map(e => [e.dataset.metric, e.dataset.value])),
  charts: Object.fromEntries([...document.querySelectorAll('.chart')].map(c => [c.id, {
    svg: c.querySelectorAll('svg').length, canvas: c.querySelectorAll('canvas').length,
    marks: c.querySelectorAll('svg g.role-mark > *').length}])),
  externalScripts: [...document.querySelectorAll('script[src], link[href]')].length,
}))()"""


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if not binary:
        reason = "Debian's chromium is not installed (make test installs it: make browser)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    b = Browser(binary)
    yield b
    b.close()


@pytest.fixture(scope="module")
def page(published_sample, browser) -> dict:
    latest = published_sample / "report" / "latest.html"
    browser.open(latest.as_uri(), "window.__report && window.__report.done")
    probe = browser.evaluate(PAGE_PROBE)
    browser.screenshot(ARTIFACT)
    for section in SECTIONS:
        browser.screenshot_of(f"#{section}", ARTIFACT.with_name(f"report-{section}.png"))
    return probe


def marts(serving: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(serving / "upsell.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def same(shown: str, expected) -> bool:
    """A data-value from the page equals the mart's value (floats to 1e-9)."""
    if expected is None:
        return shown == ""
    if isinstance(expected, bool):
        return shown == str(expected).lower()
    if isinstance(expected, str):
        return shown == expected
    return math.isclose(float(shown), float(expected), rel_tol=1e-9, abs_tol=1e-12)


def assert_shown(metrics: dict[str, str], expected: dict[str, object]) -> None:
    missing = sorted(set(expected) - set(metrics))
    assert not missing, f"not on the page: {missing[:10]}"
    wrong = {k: (metrics[k], v) for k, v in expected.items() if not same(metrics[k], v)}
    assert not wrong, f"page vs mart: {dict(list(wrong.items())[:10])}"


def test_the_run_wrote_a_dated_report_and_latest(published_sample):
    out = published_sample / "report"
    assert sorted(p.name for p in out.iterdir()) == ["2026-10-31.html", "latest.html"]
    assert (out / "latest.html").read_bytes() == (out / "2026-10-31.html").read_bytes()
    html = (out / "latest.html").read_text(encoding="utf-8")
    # offline: no script or stylesheet from anywhere (the Vega libraries are inlined once)
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", html)
    assert html.count("window.vegaEmbed=") == 1


def test_every_chart_spec_is_valid_vega_lite(published_sample):
    """The nightly report skips altair's schema validation (upsell.report.charts._spec);
    here every chart of the sample's report is validated against Vega-Lite's schema."""
    from altair.vegalite.v6.schema.core import TopLevelSpec

    from upsell.report.charts import all_charts
    from upsell.report.data import load

    charts = all_charts(load(published_sample))
    assert sorted(charts) == sorted(CHARTS)
    for chart_id, spec in charts.items():
        TopLevelSpec.validate(spec)  # raises with the schema's message on an invalid spec
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6"), chart_id
        # the rows are put in after Altair built the spec (charts._spec): none may be left by name
        data = list(_data_objects(spec))
        assert data and all("values" in d and "name" not in d for d in data), (chart_id, data)


def _data_objects(node):
    """Every ``data`` object of a Vega-Lite spec."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, dict):
                yield value
            else:
                yield from _data_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _data_objects(item)


def test_every_chart_renders_svg_without_console_errors(page, browser):
    assert browser.console_errors() == []
    assert page["report"]["errors"] == [] and page["report"]["charts"] == len(CHARTS)
    assert sorted(page["charts"]) == sorted(CHARTS)
    for chart_id, drawn in page["charts"].items():
        assert drawn["svg"] + drawn["canvas"] >= 1, chart_id
        assert drawn["marks"] > 0, f"{chart_id} has an SVG but drew no marks"
    assert page["externalScripts"] == 0


def test_japanese_text_is_drawn_in_a_cjk_font_not_tofu(page, browser):
    for selector in ("header h1", "#table-cpm-segments tbody td", "#chart-cpm-segments svg text"):
        fonts = browser.fonts_for(selector)
        assert fonts and all("CJK" in f for f in fonts), (selector, fonts)


def test_campaign_pdca_numbers_equal_the_marts(page, published_sample):
    m = page["metrics"]
    expected: dict[str, object] = {}
    for cid, roi, deals, breakeven, cost in marts(published_sample, """
            SELECT campaign_id, roi, deals_won, break_even_deals, cost_jpy
            FROM marts.campaign_performance WHERE is_started"""):
        expected |= {f"campaign:{cid}:roi": roi, f"campaign:{cid}:deals_won": deals,
                     f"campaign:{cid}:break_even_deals": breakeven, f"campaign:{cid}:cost_jpy": cost}
    rows = marts(published_sample, "SELECT campaign_id, kpi, target_value, actual_value, gap, status "
                                   "FROM marts.campaign_pdca")
    for cid, kpi, target, actual, gap, status in rows:
        key = f"pdca:{cid}:{kpi}"
        expected |= {f"{key}:target": target, f"{key}:actual": actual, f"{key}:gap": gap, f"{key}:status": status}
    expected["pdca_met"] = sum(1 for r in rows if r[5] == "met")
    expected["pdca_missed"] = sum(1 for r in rows if r[5] == "missed")
    assert rows and len(expected) > 4 * len(rows)
    assert_shown(m, expected)


def test_kpi_trend_numbers_equal_the_marts(page, published_sample):
    expected: dict[str, object] = {}
    for row in marts(published_sample, """
            SELECT period_type, period, upsell_rate, upsell_lead_quality, upsell_close_rate, avg_ltv_lift_rate,
                   upsell_roi, existing_customers
            FROM marts.kpi_sales_marketing WHERE period_type IN ('fiscal_month', 'fiscal_quarter')"""):
        key = f"kpi:{row[0]}:{row[1]}"
        for name, value in zip(["upsell_rate", "upsell_lead_quality", "upsell_close_rate", "avg_ltv_lift_rate",
                                "upsell_roi", "existing_customers"], row[2:], strict=True):
            expected[f"{key}:{name}"] = value
    for fy, nrr, grr in marts(published_sample, "SELECT fiscal_year, nrr, grr FROM marts.mrr_retention "
                                                "WHERE cohort_accounts > 0"):
        expected |= {f"nrr:{fy}:nrr": nrr, f"nrr:{fy}:grr": grr}
    assert any(k.startswith("kpi:fiscal_quarter:") for k in expected) and any(k.startswith("nrr:") for k in expected)
    assert_shown(page["metrics"], expected)


def test_cpm_and_rfm_counts_equal_the_marts(page, published_sample):
    expected: dict[str, object] = {
        f"cpm:{seg}": n for seg, n in marts(published_sample,
                                            "SELECT cpm_segment, count(*) FROM marts.customer_cpm GROUP BY 1")}
    expected["accounts"] = marts(published_sample, "SELECT count(DISTINCT account_id) FROM marts.customer_rfm")[0][0]
    expected |= {f"rfm:{r}:{f}": n for r, f, n in marts(
        published_sample, "SELECT r_score, f_score, count(*) FROM marts.customer_rfm GROUP BY 1, 2")}
    expected |= {f"transition:{a}:{b}": n for a, b, n in marts(published_sample, """
        SELECT from_segment, to_segment, accounts FROM marts.cpm_transitions
        WHERE period = (SELECT max(period) FROM marts.cpm_transitions)""")}
    assert any(k.startswith("transition:") for k in expected)
    assert_shown(page["metrics"], expected)
    # every account is in exactly one CPM segment and one RFM cell
    shown = page["metrics"]
    assert sum(int(v) for k, v in shown.items() if k.startswith("cpm:")) == int(shown["accounts"])
    assert sum(int(v) for k, v in shown.items() if k.startswith("rfm:")) == int(shown["accounts"])


def test_sales_list_is_the_top_next_best_actions(page, published_sample):
    top = marts(published_sample, """SELECT account_id, score FROM marts.upsell_next_best_action
                                      ORDER BY score DESC, account_id, action LIMIT 200""")
    expected: dict[str, object] = {"nba_total": marts(published_sample,
                                                      "SELECT count(*) FROM marts.upsell_next_best_action")[0][0],
                                   "nba_shown": len(top)}
    for rank, (account, score) in enumerate(top, 1):
        expected |= {f"nba:{rank}:account_id": account, f"nba:{rank}:score": score}
    assert_shown(page["metrics"], expected)
    assert not any(k.startswith(f"nba:{len(top) + 1}:") for k in page["metrics"])


def test_long_tables_paginate(page, browser):
    visible = "[...document.querySelectorAll('#table-nba tbody tr')].filter(r => !r.hidden)"
    assert browser.evaluate(f"{visible}.length") == 25
    assert browser.evaluate(f"{visible}[0].cells[0].textContent") == "1"
    browser.evaluate("document.querySelector('#table-nba + .pager button:nth-of-type(2)').click()")
    assert browser.evaluate(f"{visible}[0].cells[0].textContent") == "26"
    assert browser.evaluate(f"{visible}.length") == 25


def test_screenshot_artifact_is_saved(page):
    for path in [ARTIFACT, *(ARTIFACT.with_name(f"report-{s}.png") for s in SECTIONS)]:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, path


def test_report_cli_rebuilds_and_the_sales_list_size_is_bounded(published_sample, tmp_path):
    """`upsell report`: the page holds aggregates plus the top N rows, whatever the number of accounts."""
    proc = subprocess.run([str(Path(sys.executable).with_name("upsell")), "report", "--serving",
                           str(published_sample), "--out", str(tmp_path), "--top", "10"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Report as of 2026-10-31" in proc.stdout
    html = (tmp_path / "2026-10-31.html").read_text(encoding="utf-8")
    assert html == (tmp_path / "latest.html").read_text(encoding="utf-8")
    assert len(re.findall(r'data-metric="nba:\d+:score"', html)) == 10
    assert not list(tmp_path.glob(".*.tmp"))
