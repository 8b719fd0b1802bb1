"""Background prefetch: a thread computes the next items while the consumer works.

This is the role TF-Slim's input queues played: while the main thread runs a training
step, a producer thread already gathers and augments the next batches (NumPy releases
the GIL in its copies, so the two overlap). The queue holds at most ``depth`` items; an
exception in the producer is raised in the consumer, at the position where it happened;
:meth:`Prefetcher.close` (also run when the consumer stops early) stops and joins the
thread.

>>> with Prefetcher(lambda i: i * i, range(5), depth=2) as items:
...     list(items)
[0, 1, 4, 9, 16]
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterable, Iterator

THREAD_NAME = "minislim-prefetch"
_POLL_SECONDS = 0.05
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class Prefetcher:
    """Compute ``produce(key)`` for each key in a background thread, in order.

    Args:
        produce: the function computing an item from its key.
        keys: the keys, in the order the items are wanted.
        depth: how many items may wait in the queue (>= 1).
    """

    def __init__(self, produce: Callable[[Any], Any], keys: Iterable[Any], depth: int):
        if depth < 1:
            raise ValueError(f"Prefetcher: depth must be >= 1, got {depth}")
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(produce, list(keys)),
                                        name=THREAD_NAME, daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        """Queue ``item`` unless asked to stop; return whether it was queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, produce, keys) -> None:
        try:
            for key in keys:
                if self._stop.is_set() or not self._put(produce(key)):
                    return
        except BaseException as error:  # handed to the consumer, never lost
            self._put(_Failure(error))
            return
        self._put(_DONE)

    def __iter__(self) -> Iterator[Any]:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return  # closed
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                self.close()
                raise item.error
            yield item

    def close(self) -> None:
        """Stop the producer, drop what it queued, and wait for the thread to end."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=_POLL_SECONDS)

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
