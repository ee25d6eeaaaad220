"""The raw gate's fetch-ahead: order kept, the next fetch beside the current validation."""

from __future__ import annotations

import threading

import pytest

from upsell.validate.run import fetched_ahead


def test_results_come_in_order_and_the_next_fetch_runs_while_one_is_consumed():
    started: dict[int, threading.Event] = {i: threading.Event() for i in range(3)}

    def fetch(i: int) -> str:
        started[i].set()
        return f"frame {i}"

    seen = []
    for item, frame in fetched_ahead(fetch, [0, 1, 2]):
        if item < 2:  # while item is being validated, the next one is already being fetched
            assert started[item + 1].wait(5)
        seen.append((item, frame))
    assert seen == [(0, "frame 0"), (1, "frame 1"), (2, "frame 2")]


def test_a_failed_fetch_raises_where_its_result_is_taken():
    def fetch(i: int) -> int:
        if i == 1:
            raise ValueError("cannot read file 1")
        return i

    frames = fetched_ahead(fetch, [0, 1, 2])
    assert next(frames) == (0, 0)
    with pytest.raises(ValueError, match="file 1"):
        next(frames)


def test_no_items_no_fetch():
    assert list(fetched_ahead(lambda i: pytest.fail("fetched"), [])) == []
