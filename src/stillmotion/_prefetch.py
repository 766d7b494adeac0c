"""Run a frame generator one or two frames ahead on a worker thread.

The living engine's per-frame work is OpenCV and NumPy calls that release the
GIL, and the encoder (PyAV → libx264) releases it too, so rendering frame
``n + 1`` on a worker while the caller encodes frame ``n`` keeps both cores
busy instead of alternating between them (issue 19, BENCHMARKS.md).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

__all__ = ["prefetch"]

T = TypeVar("T")

_END = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Yield what ``items`` yields, produced on a worker thread at most ``depth`` items ahead.

    Args:
        items: any iterator (typically a generator of frames); it is advanced and, at
            the end, closed on the worker thread only.
        depth: how many items may wait, ready, ahead of the consumer (≥ 1).

    Yields:
        The items, in order. An exception raised by ``items`` is raised here, at the
        point the item would have come.

    Closing this generator early (``break``, an exception in the consumer, Ctrl-C)
    stops the worker after the item it is producing and waits for it, so nothing
    runs on after the caller has moved on.
    """
    if depth < 1:
        raise ValueError(f"depth must be ≥ 1, got {depth}")
    ready: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as err:  # handed to the consumer, raised there
            put((_END, err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="stillmotion-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, err = ready.get()
            if err is not None:
                raise err
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        worker.join()
