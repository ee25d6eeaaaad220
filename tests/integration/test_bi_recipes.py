"""docs/bi.md, tried as a BI user would: the published S sample opened read-only through a
SQLAlchemy engine with duckdb-engine (the URI Superset uses), every documented ``sql``
block run as written, its columns as documented, its values consistent with the marts,
and the same query giving the same rows on the Parquet files Excel / Power BI read.

The queries are parsed from the doc, so the doc and the test cannot drift apart.
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from upsell.publish import parquet_glob

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "bi.md"


def documented_queries() -> dict[str, tuple[list[str], str]]:
    """name → (documented columns, SQL) for every ```sql block of docs/bi.md."""
    out = {}
    for block in re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S):
        name = re.search(r"^-- query: (\w+)$", block, flags=re.M)
        cols = re.search(r"^-- columns: (.+)$", block, flags=re.M)
        assert name and cols, f"every sql block in {DOC.name} needs -- query: and -- columns:\n{block}"
        out[name.group(1)] = ([c.strip() for c in cols.group(1).split(",")], block)
    return out


QUERIES = documented_queries()


def superset_uri(serving: Path) -> str:
    """The URI docs/bi.md tells Superset users to enter, for this serving folder."""
    template = re.search(r"^\s*(duckdb:////\S+\?access_mode=read_only)\s*$", DOC.read_text(encoding="utf-8"),
                         flags=re.M).group(1)
    return template.replace("/data/upsell/upsell.duckdb", str(serving / "upsell.duckdb"))


@pytest.fixture(scope="module")
def engine(published_sample):
    eng = sa.create_engine(superset_uri(published_sample))
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def results(engine) -> dict[str, tuple[list[str], list[tuple]]]:
    out = {}
    with engine.connect() as con:
        for name, (_, sql) in QUERIES.items():
            res = con.execute(sa.text(sql))
            out[name] = (list(res.keys()), [tuple(r) for r in res.fetchall()])
    return out


def mart(engine: sa.Engine, sql: str) -> list[tuple]:
    """Our own query on a mart (through the same read-only engine: DuckDB refuses a second
    in-process connection to the file with a different configuration)."""
    with engine.connect() as con:
        return [tuple(r) for r in con.execute(sa.text(sql)).fetchall()]


def test_the_doc_documents_the_queries_the_bi_recipes_rely_on():
    assert {"cpm_segments", "campaign_pdca", "campaign_roi", "kpi_monthly", "nrr", "sales_list",
            "freshness"} <= set(QUERIES)


def test_the_superset_uri_opens_the_serving_file_read_only(engine):
    with engine.connect() as con:
        assert con.execute(sa.text("SELECT current_setting('access_mode')")).scalar() == "read_only"
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            con.execute(sa.text("CREATE TABLE marts.scratch (x INTEGER)"))
    # what Superset lists when you add the database: the marts schema and its tables
    tables = set(sa.inspect(engine).get_table_names(schema="marts"))
    assert {"campaign_pdca", "kpi_sales_marketing", "customer_cpm", "upsell_next_best_action"} <= tables


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_documented_query_runs_with_the_documented_columns(results, name):
    columns, rows = results[name]
    assert columns == QUERIES[name][0]
    assert rows, f"{name} returned no rows on the S sample"


def test_documented_results_agree_with_the_marts(results, engine):
    cpm = dict((seg, n) for seg, _, n in results["cpm_segments"][1])
    assert sum(cpm.values()) == mart(engine, "SELECT count(*) FROM marts.customer_rfm")[0][0]
    assert len(cpm) >= 5 and all(n > 0 for n in cpm.values())

    pdca = results["campaign_pdca"][1]
    assert len(pdca) == mart(engine, "SELECT count(*) FROM marts.campaign_pdca")[0][0]
    for _, _, _, target, actual, gap, status, action in pdca:
        if status != "no_data":
            assert math.isclose(gap, actual - target, abs_tol=1e-9) and (status == "met") == (actual >= target)
            assert action

    for _, _, cost, profit, _, _, roi in results["campaign_roi"][1]:
        if cost:
            assert math.isclose(roi, (float(profit) - float(cost)) / float(cost), rel_tol=1e-9)

    months = results["kpi_monthly"][1]
    assert [m[0] for m in months] == sorted(m[0] for m in months)
    assert all(0 <= r <= 1 for m in months for r in m[2:5] if r is not None)

    assert all(grr <= nrr + 1e-12 for *_, nrr, grr in results["nrr"][1])

    sales = results["sales_list"][1]
    scores = [r[-1] for r in sales]
    assert scores == sorted(scores, reverse=True) and len(sales) == 50
    assert max(scores) == mart(engine, "SELECT max(score) FROM marts.upsell_next_best_action")[0][0]

    (_, as_of, _), = results["freshness"][1]
    assert as_of == date(2026, 10, 31)


@pytest.mark.parametrize("name", sorted(n for n in QUERIES if n != "freshness"))
def test_the_parquet_files_give_the_same_answer(results, published_sample, name):
    """Excel / Power BI read parquet/current/<mart>.parquet (a history mart's folder): the same
    rows as the DuckDB file."""
    current = published_sample / "parquet" / "current"
    sql = re.sub(r"\bmarts\.(\w+)", lambda m: f"read_parquet('{current / parquet_glob(m.group(1))}')",
                 QUERIES[name][1])
    con = duckdb.connect()
    try:
        assert con.execute(sql).fetchall() == results[name][1]
    finally:
        con.close()
