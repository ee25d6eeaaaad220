"""The marts gate holds a history mart's night snapshot, not its growing total, to the
previous night's row count."""

from datetime import date

import pandas as pd

from upsell.validate.run import _snapshot_counts


def history(counts: dict[date, int]) -> pd.DataFrame:
    return pd.DataFrame({"as_of_date": [d for d, n in counts.items() for _ in range(n)]})


def test_a_mart_with_one_as_of_date_is_not_a_history():
    assert _snapshot_counts(history({date(2026, 10, 31): 5}), date(2026, 10, 31)) is None
    assert _snapshot_counts(pd.DataFrame({"account_id": ["A", "B"]}), date(2026, 10, 31)) is None


def test_the_current_snapshot_is_compared_with_the_one_before_it():
    df = history({date(2026, 10, 29): 7, date(2026, 10, 30): 3, date(2026, 10, 31): 4})
    current, before = _snapshot_counts(df, date(2026, 10, 31))
    assert current == date(2026, 10, 31) and before == 3


def test_a_rerun_of_an_older_date_compares_that_date_with_its_predecessor():
    df = history({date(2026, 10, 29): 7, date(2026, 10, 30): 3, date(2026, 10, 31): 4})
    current, before = _snapshot_counts(df, date(2026, 10, 30))
    assert current == date(2026, 10, 30) and before == 7


def test_timestamps_as_pandas_reads_dates_work_too():
    df = pd.DataFrame({"as_of_date": pd.to_datetime(["2026-10-30", "2026-10-31", "2026-10-31"])})
    current, before = _snapshot_counts(df, date(2026, 10, 31))
    assert current == pd.Timestamp("2026-10-31") and before == 1
