"""``upsell.pipeline.beside``: work on a thread for the length of a block, its failure kept."""

from __future__ import annotations

import threading

import pytest

from upsell.pipeline import beside


def test_the_work_runs_while_the_block_runs_and_is_finished_after_it():
    started, release, done = threading.Event(), threading.Event(), []

    def work() -> None:
        started.set()
        assert release.wait(10)
        done.append(True)

    with beside(work, name="test-work"):
        assert started.wait(10)  # running while the block still runs
        assert not done
        release.set()
    assert done == [True]  # the block's end waited for it


def test_a_failure_of_the_work_is_raised_after_the_block():
    def work() -> None:
        raise OSError("disk full while rendering")

    ran = []
    with pytest.raises(OSError, match="disk full"), beside(work, name="test-work"):
        ran.append(True)
    assert ran == [True]


def test_the_work_s_result_is_its_future_s():
    with beside(lambda a, b: a + b, 2, 3, name="test-work") as future:
        pass
    assert future.result() == 5


def test_the_block_s_own_failure_wins():
    with pytest.raises(KeyError), beside(lambda: (_ for _ in ()).throw(OSError("later")), name="test-work"):
        raise KeyError("first")
