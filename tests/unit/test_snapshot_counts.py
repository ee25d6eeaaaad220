"""The marts gate validates a history mart's night snapshot, not its growing total, and
holds it to the previous night's row count."""

from datetime import date

import pandas as pd

from upsell.validate.run import _snapshot_counts


def test_a_mart_with_one_as_of_date_is_not_a_history():
    assert _snapshot_counts({date(2026, 10, 31): 5}, date(2026, 10, 31)) is None
    assert _snapshot_counts({}, date(2026, 10, 31)) is None


def test_the_current_snapshot_is_compared_with_the_one_before_it():
    counts = {date(2026, 10, 29): 7, date(2026, 10, 30): 3, date(2026, 10, 31): 4}
    assert _snapshot_counts(counts, date(2026, 10, 31)) == (date(2026, 10, 31), 3)


def test_a_rerun_of_an_older_date_compares_that_date_with_its_predecessor():
    counts = {date(2026, 10, 29): 7, date(2026, 10, 30): 3, date(2026, 10, 31): 4}
    assert _snapshot_counts(counts, date(2026, 10, 30)) == (date(2026, 10, 30), 7)


def test_the_oldest_snapshot_has_nothing_to_be_compared_with():
    counts = {date(2026, 10, 30): 3, date(2026, 10, 31): 4}
    assert _snapshot_counts(counts, date(2026, 10, 30)) == (date(2026, 10, 30), None)


def test_timestamps_as_a_database_may_return_dates_work_too():
    counts = {pd.Timestamp("2026-10-30"): 1, pd.Timestamp("2026-10-31"): 2}
    assert _snapshot_counts(counts, date(2026, 10, 31)) == (pd.Timestamp("2026-10-31"), 1)
