"""End to end: `upsell run` on the bundled S sample (ingest → dbt build → Great
Expectations → publish), then assertions on the published marts, and write-audit-publish
behaviour with bad-but-parseable input and a BI reader holding the serving file open.

Expected values come from the sample's MANIFEST.json (the generator's own record of what
it wrote) or are recomputed here from the raw layer, never copied from our output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from upsell.publish import parquet_glob, parquet_path, publish

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "include" / "sample"
AS_OF = "2026-10-31"
MAPPINGS = REPO / "include" / "mappings" / "salesforce"
CPM = {"first_time", "early_repeat", "steady", "trendy", "loyal", "first_time_lapsed", "early_repeat_lapsed",
       "steady_lapsed", "trendy_lapsed", "loyal_lapsed"}


def upsell_run(landing: Path, warehouse: Path, as_of: str = AS_OF, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("upsell")), "run", "--landing", str(landing),
                           "--warehouse", str(warehouse), "--as-of", as_of, "--mappings", str(MAPPINGS), *extra],
                          capture_output=True, text=True, env={**__import__("os").environ,
                                                               "UPSELL_EMAIL_SALT": "test-salt"})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    shutil.copytree(SAMPLE, landing)
    warehouse = root / "wh" / "warehouse.duckdb"
    proc = upsell_run(landing, warehouse)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, landing, warehouse, proc.stdout


def serving(root: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(root / "wh" / "serving" / "upsell.duckdb"), read_only=True)


def test_run_prints_a_true_summary(built):
    _, _, warehouse, out = built
    manifest = json.loads((SAMPLE / "MANIFEST.json").read_text())
    rows = sum(e["rows"] for e in manifest["files"].values())
    assert f"rows:  {rows:,} read" in out
    assert "0 failed error-level expectations" in out
    assert "Published" in out and "upsell.duckdb" in out
    assert "Report: " in out and "report/2026-10-31.html" in out
    assert "Data Docs: file://" in out
    docs = out.split("Data Docs: file://")[1].split()[0]
    assert Path(docs).exists()
    # both gates' pages of this run: the raw gate's are rendered while dbt builds
    site = Path(docs).parent / "validations"
    assert list((site / "raw" / "email_events" / "manual__2026-10-31").rglob("*.html"))
    assert list((site / "marts" / "customer_rfm" / "manual__2026-10-31").rglob("*.html"))


def test_every_spec_mart_is_served_in_duckdb_and_parquet(built):
    root, *_ = built
    spec_marts = {"customer_rfm", "customer_cpm", "cpm_transitions", "customer_ltv", "ltv_lift", "mrr_movements",
                  "kpi_sales_marketing", "customer_engagement", "cross_sell_affinity", "upsell_propensity",
                  "upsell_next_best_action", "campaign_performance", "campaign_step_performance", "campaign_pdca",
                  "customer_360"}
    con = serving(root)
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
    assert spec_marts <= tables
    for mart in spec_marts:
        assert (root / "wh" / "serving" / "parquet" / "current" / f"{mart}.parquet").exists()
        n = con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0]
        assert n > 0, mart


def test_history_marts_are_served_as_one_parquet_file_per_snapshot(built):
    """A history mart's Parquet is a folder with one file per as_of_date, which read as one
    table gives the served DuckDB table's rows."""
    root, *_ = built
    current = root / "wh" / "serving" / "parquet" / "current"
    con = serving(root)
    for mart in ("customer_cpm_history", "upsell_propensity_history"):
        dates = [r[0] for r in con.execute(f"SELECT DISTINCT as_of_date FROM marts.{mart} ORDER BY 1").fetchall()]
        assert dates, mart
        assert sorted(p.name for p in (current / parquet_path(mart)).iterdir()) == [f"{d}.parquet" for d in dates]
        files = f"read_parquet('{current / parquet_glob(mart)}')"
        for a, b in ((f"marts.{mart}", files), (files, f"marts.{mart}")):
            assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"
                               ).fetchone()[0] == 0, (mart, a)


def test_served_marts_carry_the_model_yaml_descriptions(built):
    """The descriptions BI users browse are on the served tables (publish writes them from
    the manifest; dbt's persist_docs is off on DuckDB), with the Japanese label first."""
    root, *_ = built
    import yaml

    models = {m["name"]: m for f in (REPO / "dbt_project" / "models" / "marts").rglob("_*.yml")
              for m in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("models", [])}
    con = serving(root)
    columns = {(t, c): comment for t, c, comment in con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts'").fetchall()}
    tables = dict(con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name <> '_publish'"
    ).fetchall())
    assert set(tables) <= set(models)
    for mart, comment in tables.items():
        assert comment and comment.split()[:4] == models[mart]["description"].split()[:4], mart
        for col in models[mart].get("columns", []):
            text = " ".join((col.get("description") or "").split())
            if "{{" in text or not text:  # a doc() block: rendered by dbt, not comparable here
                continue
            label = ((col.get("config") or {}).get("meta") or col.get("meta") or {}).get("label_ja")
            assert columns[(mart, col["name"])] == (f"{label}: {text}" if label else text), (mart, col["name"])
    assert columns[("customer_rfm", "monetary_jpy")] == "Revenue (paid lines) in the same window."
    assert columns[("customer_cpm", "cpm_segment")].startswith("CPM顧客区分: ")
    # and the warehouse file BI never opens is not commented by dbt any more (persist_docs off)
    wh = duckdb.connect(str(root / "wh" / "warehouse.duckdb"), read_only=True)
    try:
        assert wh.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'marts' "
                          "AND comment IS NOT NULL").fetchone() == (0,)
    finally:
        wh.close()


def test_rfm_and_cpm_follow_the_contract(built):
    root, *_ = built
    con = serving(root)
    assert con.execute("SELECT min(r_score), max(r_score), min(f_score), max(m_score) FROM marts.customer_rfm"
                       ).fetchone() == (1, 5, 1, 5)
    assert {r[0] for r in con.execute("SELECT DISTINCT cpm_segment FROM marts.customer_cpm").fetchall()} <= CPM
    # the lapsed flag and the segment suffix agree, with the spec's 365-day boundary
    assert con.execute("""SELECT count(*) FROM marts.customer_cpm
        WHERE is_lapsed <> (cpm_segment LIKE '%_lapsed') OR is_lapsed <> (days_since_last_purchase >= 365)
    """).fetchone() == (0,)


def test_rfm_monetary_reconciles_with_raw_paid_revenue(built):
    root, _, warehouse, _ = built
    wh = duckdb.connect(str(warehouse), read_only=True)
    # recomputed from raw: newest version of each invoice line, paid, dated in (as_of - 365, as_of]
    expected = wh.execute("""
        WITH newest AS (
            SELECT *, row_number() OVER (PARTITION BY invoice_id, line_no
                                         ORDER BY updated_at DESC NULLS LAST, _loaded_at DESC) AS n
            FROM raw.invoices)
        SELECT sum(amount_jpy) FROM newest
        WHERE n = 1 AND status = 'paid' AND invoice_date > DATE '2026-10-31' - 365 AND invoice_date <= DATE '2026-10-31'
    """).fetchone()[0]
    got = serving(root).execute("SELECT sum(monetary_jpy) FROM marts.customer_rfm").fetchone()[0]
    assert float(got) == pytest.approx(float(expected), abs=0.5)


def test_seed_dm_campaign_reproduces_the_article(built):
    root, *_ = built
    seed = json.loads((SAMPLE / "MANIFEST.json").read_text())["seed_dm_campaign"]
    cid = seed["campaign_id"]
    row = serving(root).execute("""SELECT list_size, undeliverable, inquiries, response_rate, break_even_deals
        FROM marts.campaign_performance WHERE campaign_id = ?""", [cid]).fetchone()
    assert row[:3] == (1000, 10, 18)
    assert row[3] == pytest.approx(18 / 990)
    assert row[4] == 3


def test_campaign_deals_are_won_deals_and_rates_are_rates(built):
    root, *_ = built
    con = serving(root)
    assert con.execute("SELECT count(*) FROM marts.campaign_pdca WHERE status NOT IN ('met', 'missed', 'no_data')"
                       ).fetchone() == (0,)
    for column in ("upsell_rate", "upsell_close_rate", "upsell_lead_quality"):
        assert con.execute(f"SELECT count(*) FROM marts.kpi_sales_marketing WHERE {column} < 0 OR {column} > 1"
                           ).fetchone() == (0,), column


def test_predictive_clv_is_fitted_and_reaches_customer_360_and_the_sales_list(built):
    root, *_ = built
    con = serving(root)
    customers = con.execute("SELECT count(*) FROM marts.customer_ltv").fetchone()[0]
    repeat = con.execute("SELECT count(*) FROM marts.customer_ltv WHERE clv_frequency > 0 "
                         "AND clv_monetary_value_jpy > 0").fetchone()[0]
    params = {(m, p): (v, n) for m, p, v, n in con.execute(
        "SELECT model, parameter, value, customers FROM marts.clv_model_params").fetchall()}
    assert {p for _, p in params} == {"r", "alpha", "a", "b", "p", "q", "gamma", "frequency_monetary_correlation"}
    assert all(v is not None and v > 0 and n == customers for (m, _), (v, n) in params.items() if m == "bg_nbd")
    assert all(n == repeat for (m, _), (_, n) in params.items() if m == "gamma_gamma")
    # one prediction per customer; P(alive) in [0, 1]; a repeat customer always has a CLV
    assert con.execute("""SELECT count(*), count(probability_alive), min(probability_alive) >= 0,
        max(probability_alive) <= 1 FROM marts.customer_clv_prediction""").fetchone() == (customers, customers,
                                                                                        True, True)
    assert con.execute("""SELECT count(*) FROM marts.customer_clv_prediction p
        JOIN marts.customer_ltv l USING (account_id)
        WHERE l.clv_frequency > 0 AND l.clv_monetary_value_jpy > 0 AND p.predicted_clv_365d_jpy IS NULL""").fetchone() == (0,)
    # customer_360 and the sales list carry the same numbers
    for mart in ("customer_360", "upsell_next_best_action"):
        assert con.execute(f"""SELECT count(*) FROM marts.{mart} m
            JOIN marts.customer_clv_prediction p USING (account_id)
            WHERE m.probability_alive IS DISTINCT FROM p.probability_alive
               OR m.predicted_clv_365d_jpy IS DISTINCT FROM p.predicted_clv_365d_jpy""").fetchone() == (0,), mart
    assert con.execute("SELECT count(probability_alive) FROM marts.customer_360").fetchone() == (customers,)


def test_no_personal_data_reaches_the_served_marts(built):
    root, *_ = built
    con = serving(root)
    columns = con.execute("""SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'marts'""").fetchall()
    assert not [c for c in columns if c[1] in ("email", "full_name", "recipient_email", "contact_email")]
    for table, column, dtype in columns:
        if dtype == "VARCHAR":
            hits = con.execute(f'SELECT count(*) FROM marts."{table}" WHERE "{column}" LIKE \'%@%\'').fetchone()[0]
            assert hits == 0, f"{table}.{column} holds email-like values"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bad_but_parseable_day_blocks_publish_and_keeps_served_marts(built):
    root, landing, warehouse, _ = built
    served = root / "wh" / "serving" / "upsell.duckdb"
    before = _digest(served)
    report = root / "wh" / "serving" / "report" / "latest.html"
    report_before = _digest(report)
    before_rows = serving(root).execute("SELECT count(*) FROM marts.customer_rfm").fetchone()[0]
    # a day of email events that are all bounces: every value parses, the data is wrong
    lines = ["event_id,campaign_id,step,message_id,recipient_email,event_type,occurred_at"]
    lines += [f"BAD{i},CMP-BAD,1,MSG-BAD{i},nobody{i}@example.co.jp,bounced,2026-10-31 10:00:00" for i in range(500)]
    (landing / "email" / "email_events_20261031-bad.csv").write_text("\n".join(lines) + "\n")
    email_pages = len(list((warehouse.parent / "gx").rglob("validations/raw/email_events/**/*.html")))
    proc = upsell_run(landing, warehouse)
    assert proc.returncode == 1
    assert "raw.email_events" in proc.stderr and "expect_column_values_to_not_be_in_set" in proc.stderr
    assert "Data Docs: file://" in proc.stderr
    docs = Path(proc.stderr.split("Data Docs: file://")[1].split()[0])
    # the failing night's raw pages are rendered before it stops: one more validation of the file
    assert len(list((docs.parent / "validations" / "raw" / "email_events").rglob("*.html"))) > email_pages
    assert "previously published marts stay served" in proc.stderr
    assert _digest(served) == before
    assert _digest(report) == report_before  # no publish, no new report: the last good one stays
    assert serving(root).execute("SELECT count(*) FROM marts.customer_rfm").fetchone()[0] == before_rows


def test_reader_holding_the_served_file_is_not_blocked_and_sees_whole_versions(built):
    root, _, warehouse, _ = built
    served = root / "wh" / "serving" / "upsell.duckdb"
    reader = duckdb.connect(str(served), read_only=True)
    old = reader.execute("SELECT run_id, published_at FROM marts._publish").fetchone()
    counts = dict(reader.execute("""SELECT table_name, estimated_size FROM duckdb_tables()
        WHERE schema_name = 'marts'""").fetchall())
    # publish while the reader keeps its connection open (DuckDB: one writer per file)
    result = publish(warehouse, "reader-test", date.fromisoformat(AS_OF))
    assert result.serving_file == served
    # the open reader still sees the complete old version ...
    assert reader.execute("SELECT run_id, published_at FROM marts._publish").fetchone() == old
    for table, n in counts.items():
        assert reader.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0] == n
    reader.close()
    # ... and a new reader sees the complete new one
    fresh = duckdb.connect(str(served), read_only=True)
    assert fresh.execute("SELECT run_id FROM marts._publish").fetchone() == ("reader-test",)
    assert fresh.execute("SELECT count(*) FROM marts.customer_rfm").fetchone()[0] == counts["customer_rfm"]


def test_a_failing_marts_gate_serves_nothing_and_leaves_no_copy(built):
    """The publish copy runs beside the marts gate; when the gate fails, the copy is
    removed and the served file, the Parquet versions and the report stay as they were."""
    root, landing, warehouse, _ = built
    serving = root / "wh" / "serving"
    before = {p.relative_to(serving): _digest(p) for p in serving.rglob("*") if p.is_file()}
    con = duckdb.connect(str(warehouse))
    try:
        # the last publish recorded a hundredth of customer_rfm's rows: tonight's count is
        # then far outside the row-count tolerance, an error-level marts expectation
        con.execute("CREATE TABLE audit.publishes_saved AS SELECT * FROM audit.publishes")
        con.execute("UPDATE audit.publishes SET rows = greatest(rows // 100, 1) WHERE mart = 'customer_rfm'")
    finally:
        con.close()
    try:
        # a run id of its own: the raw gate checks what this run loaded (nothing new), not
        # the bad day an earlier test left in raw under the default run id
        proc = upsell_run(landing, warehouse, AS_OF, "--run-id", "marts-gate-test")
    finally:
        con = duckdb.connect(str(warehouse))
        con.execute("DELETE FROM audit.publishes")
        con.execute("INSERT INTO audit.publishes SELECT * FROM audit.publishes_saved")
        con.execute("DROP TABLE audit.publishes_saved")
        con.close()
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "marts.customer_rfm" in proc.stderr and "expect_table_row_count_to_be_between" in proc.stderr, \
        proc.stderr[-3000:]
    assert "previously published marts stay served" in proc.stderr
    after = {p.relative_to(serving): _digest(p) for p in serving.rglob("*") if p.is_file()}
    assert after == before  # no new Parquet version, no hidden copy left, nothing renamed
