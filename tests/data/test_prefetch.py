"""The background Prefetcher: order, bounded queue, errors, shutdown."""
import threading
import time

import pytest

from minislim.data.prefetch import THREAD_NAME, Prefetcher


def live_threads():
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def test_items_come_in_key_order():
    with Prefetcher(lambda k: (k, k * 2), range(50), depth=3) as items:
        assert list(items) == [(k, k * 2) for k in range(50)]
    assert live_threads() == []


def test_producer_runs_at_most_depth_items_ahead():
    produced = []

    def produce(k):
        produced.append(k)
        return k

    prefetcher = Prefetcher(produce, range(100), depth=2)
    deadline = time.monotonic() + 10
    while len(produced) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)                   # time to run further ahead, if it could
    # depth items wait in the queue, one more is held by the blocked put.
    assert len(produced) == 3
    prefetcher.close()
    assert live_threads() == []


def test_error_is_raised_in_the_consumer_after_the_good_items():
    def produce(k):
        if k == 2:
            raise KeyError("bad key")
        return k

    prefetcher = Prefetcher(produce, range(5), depth=4)
    got = []
    with pytest.raises(KeyError, match="bad key"):
        for item in prefetcher:
            got.append(item)
    assert got == [0, 1]
    assert live_threads() == []


def test_close_while_the_producer_is_blocked_ends_the_thread():
    prefetcher = Prefetcher(lambda k: k, range(10 ** 6), depth=1)
    items = iter(prefetcher)
    assert next(items) == 0
    prefetcher.close()
    assert live_threads() == []
    assert list(items) == []        # a closed prefetcher serves nothing more


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth must be >= 1"):
        Prefetcher(lambda k: k, range(3), depth=0)
