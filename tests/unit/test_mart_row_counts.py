"""The marts gate's row-count checks, run through Great Expectations: a mart that halves or
doubles overnight fails, except a calendar-driven mart (the action list), which is held to
its structural bound instead."""

import pandas as pd
import pytest

from upsell.validate import suites
from upsell.validate.run import _Runner

ACTIONS = "upsell_next_best_action"


def frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"account_id": [f"A{i:04d}" for i in range(rows)], "score": [50.0] * rows})


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return _Runner(tmp_path_factory.mktemp("gx") / "warehouse.duckdb", "test", "marts")


def failures(runner, mart: str, df: pd.DataFrame, previous: int, max_rows: int | None = None) -> list[str]:
    runner.report.failures.clear()
    runner.validate(f"marts.{mart}", df, suites.mart_suite(mart, list(df.columns), previous, 0.5,
                                                          max_rows=max_rows))
    return list(runner.report.failures)


def test_an_entity_mart_that_grows_by_two_thirds_overnight_fails(runner):
    found = failures(runner, "customer_rfm", frame(491), previous=297)
    assert len(found) == 1 and "expect_table_row_count_to_be_between" in found[0] and "observed 491" in found[0]
    assert failures(runner, "customer_rfm", frame(400), previous=297) == []


def test_the_action_list_may_follow_the_calendar(runner):
    # the bundled sample's list on as-of 10-30 and 10-31 (December year-ends come into view)
    assert failures(runner, ACTIONS, frame(491), previous=297, max_rows=2 * 1000) == []


def test_the_action_list_is_held_to_two_actions_per_account(runner):
    found = failures(runner, ACTIONS, frame(491), previous=480, max_rows=2 * 200)
    assert len(found) == 1 and "observed 491" in found[0]
