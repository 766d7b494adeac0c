"""The frame prefetcher: order, errors and early stops, on real threads."""

from __future__ import annotations

import threading
import time

import pytest

from stillmotion._prefetch import prefetch


def test_items_come_in_order_produced_on_another_thread():
    threads = set()

    def produce():
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    assert list(prefetch(produce(), depth=3)) == list(range(50))
    assert threads == {"stillmotion-prefetch"}


def test_runs_at_most_depth_ahead():
    made = []

    def produce():
        for i in range(100):
            made.append(i)
            yield i

    it = prefetch(produce(), depth=2)
    assert next(it) == 0
    time.sleep(0.3)
    # one handed out, two waiting, one made and blocked on the full queue
    assert len(made) <= 4
    it.close()


def test_an_error_is_raised_where_its_item_would_have_come():
    def produce():
        yield 1
        yield 2
        raise RuntimeError("frame 3 failed")

    got = []
    with pytest.raises(RuntimeError, match="frame 3 failed"):
        for x in prefetch(produce()):
            got.append(x)
    assert got == [1, 2]


def test_closing_early_stops_and_closes_the_source():
    closed = threading.Event()

    def produce():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    for x in prefetch(produce()):
        if x == 5:
            break
    # the for loop's generator is closed when it is dropped: the worker has stopped and closed the source
    assert closed.wait(2.0)
    assert not any(t.name == "stillmotion-prefetch" and t.is_alive() for t in threading.enumerate())


def test_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        next(prefetch(iter([1]), depth=0))
