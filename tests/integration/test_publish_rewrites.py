"""Publish writes again only the rows of ``mrr_movements`` that the builds since the served
copy rewrote (their rewrite log, ``audit.mrr_movements_rewrites``), and copies the mart
whole whenever it cannot know that: whatever happened between two publishes (nights, a night
whose publish was discarded, a full rebuild, a served copy from another warehouse or older
than the kept log, new columns), the served mart equals the warehouse's, row for row (real
DuckDB files; the log written as the dbt hooks write it, macros/mrr_incremental.sql)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.integration.test_publish_history import assert_served_equals_warehouse, sql
from upsell.publish import SERVING_FILE, STATE_TABLE, publish, stage_publish

AS_OF = date(2026, 10, 31)
MART = "marts.mrr_movements"
LOG = "audit.mrr_movements_rewrites"
MONTHS = [date(2026, m, 1) for m in range(1, 11)]


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    sql(path, "CREATE SCHEMA marts", "CREATE SCHEMA audit",
        f"CREATE TABLE {MART} (account_id VARCHAR, month DATE, mrr_end_jpy DECIMAL(18, 2))",
        f"CREATE TABLE {LOG} (batch_no INTEGER NOT NULL, batch_id VARCHAR NOT NULL, rewritten_from DATE, "
        "account_id VARCHAR)")
    build(path, None, [], value=1)  # the first build: every row
    return path


def build(path: Path, since: date | None, accounts: list[str], value: int) -> None:
    """What a build of mrr_movements does: log what it rewrites, delete it, insert it again
    (here with mrr_end_jpy = value, so that a row not written again keeps its old value)."""
    rewritten = "true" if since is None else \
        f"month >= DATE '{since}' OR account_id IN (SELECT unnest({accounts!r}::VARCHAR[]))"
    batch_id = str(uuid.uuid4())
    sql(path, f"INSERT INTO {LOG} SELECT coalesce(max(batch_no), 0) + 1, '{batch_id}', "
              f"{'NULL' if since is None else repr(str(since)) + '::DATE'}, NULL FROM {LOG}",
        *[f"INSERT INTO {LOG} SELECT max(batch_no), '{batch_id}', NULL, '{a}' FROM {LOG}" for a in accounts],
        f"DELETE FROM {MART} WHERE {rewritten}",
        f"INSERT INTO {MART} BY NAME SELECT * FROM (SELECT 'A' || i AS account_id, m AS month, {value} AS mrr_end_jpy "
        f"FROM range(20) AS t(i), unnest({[str(m) for m in MONTHS]!r}::DATE[]) AS u(m)) WHERE {rewritten}")


def served_values(path: Path) -> dict[tuple[str, date], float]:
    con = duckdb.connect(str(path.parent / "serving" / SERVING_FILE), read_only=True)
    try:
        return {(a, m): float(v) for a, m, v in con.execute(f"SELECT * FROM {MART}").fetchall()}
    finally:
        con.close()


def hand_edit(path: Path) -> None:
    """A change no build logged, outside any rewrite below: only a whole copy serves it."""
    sql(path, f"UPDATE {MART} SET mrr_end_jpy = -1 WHERE account_id = 'A0' AND month = DATE '{MONTHS[0]}'")


def test_a_night_writes_only_the_rows_its_build_rewrote(warehouse):
    assert_served_equals_warehouse(warehouse, AS_OF)  # no served file: copied whole
    hand_edit(warehouse)
    build(warehouse, MONTHS[8], ["A3", "A4"], value=2)
    publish(warehouse, "night-2", AS_OF, warehouse.parent / "serving")
    served = served_values(warehouse)
    assert served[("A0", MONTHS[0])] == 1  # not rewritten by the build: not copied again
    assert served[("A3", MONTHS[0])] == 2 and served[("A0", MONTHS[8])] == 2 and served[("A1", MONTHS[7])] == 1
    assert sum(v == 2 for v in served.values()) == 2 * 8 + 20 * 2  # two accounts' earlier months + two months


def test_nights_whose_publish_was_discarded_are_served_with_the_next(warehouse):
    assert_served_equals_warehouse(warehouse, AS_OF)
    build(warehouse, MONTHS[8], ["A3"], value=2)
    stage_publish(warehouse, "night-2", AS_OF, warehouse.parent / "serving").discard()  # the marts gate failed
    build(warehouse, MONTHS[9], ["A5"], value=3)
    assert_served_equals_warehouse(warehouse, AS_OF)
    build(warehouse, MONTHS[9], [], value=4)
    assert_served_equals_warehouse(warehouse, AS_OF)
    assert_served_equals_warehouse(warehouse, AS_OF)  # nothing built since: nothing to write


@pytest.mark.parametrize("between", ["full rebuild", "another warehouse", "log pruned", "new column",
                                     "state lost"])
def test_the_mart_is_copied_whole_when_the_log_cannot_tell(warehouse, between):
    serving = warehouse.parent / "serving"
    publish(warehouse, "night-1", AS_OF, serving)
    hand_edit(warehouse)
    if between == "full rebuild":
        build(warehouse, None, [], value=2)
        hand_edit(warehouse)
    elif between == "another warehouse":  # the same batch number, another build
        sql(warehouse, f"UPDATE {LOG} SET batch_id = 'elsewhere'")
        build(warehouse, MONTHS[9], [], value=2)
    elif between == "log pruned":  # the served build is no longer in the kept log
        build(warehouse, MONTHS[9], [], value=2)
        sql(warehouse, f"DELETE FROM {LOG} WHERE batch_no = 1")
    elif between == "new column":
        sql(warehouse, f"ALTER TABLE {MART} ADD COLUMN is_partial BOOLEAN")
        build(warehouse, MONTHS[9], [], value=2)
    else:  # the served file's record of its build is gone
        sql(serving / SERVING_FILE, f"DELETE FROM {STATE_TABLE}")
        build(warehouse, MONTHS[9], [], value=2)
    assert_served_equals_warehouse(warehouse, AS_OF)  # the hand edit too: copied whole


def test_the_serving_file_records_the_build_it_mirrors(warehouse):
    publish(warehouse, "night-1", AS_OF, warehouse.parent / "serving")
    build(warehouse, MONTHS[9], ["A1"], value=2)
    publish(warehouse, "night-2", AS_OF, warehouse.parent / "serving")
    logged = sql(warehouse, f"SELECT batch_no, batch_id FROM {LOG} WHERE account_id IS NULL ORDER BY 1 DESC LIMIT 1")
    assert sql(warehouse.parent / "serving" / SERVING_FILE,
               f"SELECT mart, batch_no, batch_id FROM {STATE_TABLE}") == [("mrr_movements", *logged[0])]
