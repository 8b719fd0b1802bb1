"""slim.data.batches: epochs, shuffling, seeding, and an exact resume from a saved state."""
import json
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minislim import data


def images_and_labels(n=50, size=8):
    images = np.random.default_rng(7).integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    return images, np.arange(n, dtype=np.int64)


def cifar_augment(size=8):
    mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.25, 0.2, 0.3])
    return data.Compose([data.RandomCrop(size, padding=2), data.RandomFlip(),
                         data.Normalize(mean, std)])


def take(pipeline, count):
    """The next ``count`` batches, running into further epochs as a training loop does."""
    out = []
    while len(out) < count:
        before = len(out)
        for batch in pipeline:
            out.append(batch)
            if len(out) == count:
                break
        assert len(out) > before, "an epoch served no batch"
    return out


# --------------------------------------------------------------------------- epochs

@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2 ** 40))
def test_each_epoch_serves_every_example_at_most_once(n, batch_size, drop, shuffle, seed):
    if drop and n < batch_size:
        return
    x = np.arange(n)
    pipe = data.batches(x, x * 10, batch_size=batch_size, shuffle=shuffle, seed=seed,
                        drop_remainder=drop)
    expected_len = n // batch_size if drop else -(-n // batch_size)
    assert len(pipe) == expected_len
    for _ in range(2):
        served = list(pipe)
        assert len(served) == expected_len
        assert all(len(a) == batch_size for a, _ in served[:n // batch_size])
        seen = np.concatenate([a for a, _ in served])
        assert len(np.unique(seen)) == len(seen) == (expected_len * batch_size if drop else n)
        for a, b in served:
            np.testing.assert_array_equal(b, a * 10)          # arrays stay aligned
        if not shuffle:
            np.testing.assert_array_equal(seen, np.arange(len(seen)))


def test_epochs_are_reshuffled_and_the_seed_fixes_the_orders():
    x = np.arange(100)
    one, two = data.batches(x, batch_size=100, seed=3), data.batches(x, batch_size=100, seed=3)
    epochs = [next(iter(one))[0] for _ in range(3)]
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    for epoch in epochs:
        np.testing.assert_array_equal(next(iter(two))[0], epoch)
    other = data.batches(x, batch_size=100, seed=4)
    assert not np.array_equal(next(iter(other))[0], epochs[0])
    assert one.epoch == 3 and one.batch == 0


def test_a_new_loop_continues_an_unfinished_epoch():
    x = np.arange(10)
    full = [b[0].tolist() for b in data.batches(x, batch_size=3, seed=1)]
    pipe = data.batches(x, batch_size=3, seed=1)
    for batch in pipe:
        break
    assert (pipe.epoch, pipe.batch) == (0, 1)
    rest = [b[0].tolist() for b in pipe]
    assert [batch[0].tolist()] + rest == full
    assert (pipe.epoch, pipe.batch) == (1, 0)


def test_get_batch_is_pure_and_does_not_move_the_position():
    images, labels = images_and_labels()
    pipe = data.batches(images, labels, batch_size=16, augment=cifar_augment(), seed=5)
    first = pipe.get_batch(2, 1)
    second = pipe.get_batch(2, 1)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert (pipe.epoch, pipe.batch) == (0, 0)
    assert first[0].dtype == np.float32 and first[0].shape == (16, 8, 8, 3)
    with pytest.raises(IndexError):
        pipe.get_batch(0, len(pipe))


def test_augmentation_applies_to_the_first_array_only():
    images, labels = images_and_labels()
    calls = []

    def record(batch, rng):
        calls.append(batch.shape)
        return batch + 1

    pipe = data.batches(images.astype(np.int64), labels, batch_size=20, augment=record,
                        shuffle=False)
    x, y = next(iter(pipe))
    np.testing.assert_array_equal(x, images[:20].astype(np.int64) + 1)
    np.testing.assert_array_equal(y, labels[:20])
    assert calls == [(20, 8, 8, 3)]


# --------------------------------------------------------------------------- state

def npz_round_trip(state, tmp_path):
    path = tmp_path / "state.npz"
    np.savez(path, **state)
    with np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


@pytest.mark.parametrize("prefetch", [0, 3])
@pytest.mark.parametrize("k", [1, 3, 4, 6, 9])        # 4 batches per epoch: 4 and 9 straddle
def test_resumed_pipeline_sees_exactly_the_uninterrupted_batches(tmp_path, k, prefetch):
    images, labels = images_and_labels(n=50)
    make = lambda seed=11: data.batches(images, labels, batch_size=16, seed=seed,
                                        augment=cifar_augment(), prefetch=prefetch)
    reference = take(make(), 12)                      # three whole epochs

    first = make()
    take(first, k)
    state = npz_round_trip(first.state_dict(), tmp_path)
    assert int(state["epoch"]) * 4 + int(state["batch"]) == k

    resumed = make(seed=999)                          # the seed comes from the state
    resumed.load_state_dict(state)
    rest = take(resumed, 12 - k)
    assert len(rest) == len(reference[k:])
    for got, want in zip(rest, reference[k:]):
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_state_dict_is_flat_plain_ints_that_json_and_npz_accept(tmp_path):
    pipe = data.batches(np.arange(10), batch_size=4, seed=2 ** 40)
    take(pipe, 4)
    state = pipe.state_dict()
    assert set(state) == set(data.pipeline.STATE_KEYS)
    assert all(type(v) is int for v in state.values())
    assert json.loads(json.dumps(state)) == state
    assert {k: int(v) for k, v in npz_round_trip(state, tmp_path).items()} == state
    assert (state["epoch"], state["batch"], state["seed"]) == (1, 1, 2 ** 40)


@pytest.mark.parametrize("change, message", [
    ({"batch_size": 5}, "batch_size=5, this pipeline has 4"),
    ({"num_examples": 11}, "num_examples=11"),
    ({"shuffle": 0}, "shuffle=0"),
    ({"batch": 3}, "bad position"),
    ({"epoch": -1}, "bad position"),
])
def test_load_state_dict_refuses_a_state_of_another_pipeline(change, message):
    pipe = data.batches(np.arange(10), batch_size=4)
    state = dict(pipe.state_dict(), **change)
    with pytest.raises(ValueError, match=message):
        pipe.load_state_dict(state)
    with pytest.raises(ValueError, match=r"missing keys \['seed'\]"):
        pipe.load_state_dict({k: v for k, v in pipe.state_dict().items() if k != "seed"})


def test_a_superseded_iterator_raises_instead_of_serving_stale_batches():
    pipe = data.batches(np.arange(10), batch_size=2)
    old = iter(pipe)
    next(old)
    new = iter(pipe)
    next(new)
    with pytest.raises(RuntimeError, match="superseded"):
        next(old)
    pipe.load_state_dict(pipe.state_dict())
    with pytest.raises(RuntimeError, match="superseded"):
        next(new)


# --------------------------------------------------------------------------- prefetch

def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == data.prefetch.THREAD_NAME]


def test_prefetch_gives_the_same_batches_as_no_prefetch():
    images, labels = images_and_labels(n=70)
    runs = [take(data.batches(images, labels, batch_size=8, seed=3, augment=cifar_augment(),
                              prefetch=p), 20) for p in (0, 1, 4)]
    for batches in runs[1:]:
        for got, want in zip(batches, runs[0]):
            for a, b in zip(got, want):
                assert a.tobytes() == b.tobytes()


def test_prefetch_state_counts_batches_handed_out_not_prepared():
    pipe = data.batches(np.arange(100), batch_size=5, prefetch=6)
    it = iter(pipe)
    for expected in range(1, 4):
        next(it)
        assert pipe.state_dict()["batch"] == expected
    del it


def test_breaking_out_of_a_prefetching_loop_stops_its_thread():
    pipe = data.batches(np.arange(1000), batch_size=1, prefetch=2)
    for count, _ in enumerate(pipe):
        if count == 3:
            assert len(prefetch_threads()) == 1
            break
    assert prefetch_threads() == []
    assert pipe.batch == 4


def test_an_error_in_the_prefetch_thread_reaches_the_consumer_in_order():
    calls = []

    def fail_on_third(batch, rng):
        calls.append(1)
        if len(calls) == 3:
            raise ArithmeticError("augmentation failed")
        return batch

    pipe = data.batches(np.arange(20), batch_size=2, shuffle=False, augment=fail_on_third,
                        prefetch=4)
    served = []
    with pytest.raises(ArithmeticError, match="augmentation failed"):
        for (batch,) in pipe:
            served.append(batch.tolist())
    assert served == [[0, 1], [2, 3]]
    assert pipe.batch == 2
    assert prefetch_threads() == []


# --------------------------------------------------------------------------- arguments

@pytest.mark.parametrize("arrays, kwargs, message", [
    ((), {"batch_size": 2}, "at least one array"),
    ((np.zeros(3), np.zeros(4)), {"batch_size": 2}, "same first dimension"),
    ((np.float64(1.0),), {"batch_size": 2}, "same first dimension"),
    ((np.zeros(3),), {"batch_size": 0}, "batch_size must be a positive int"),
    ((np.zeros(3),), {"batch_size": 2, "seed": -1}, "seed must be a non-negative int"),
    ((np.zeros(3),), {"batch_size": 2, "seed": None}, "seed must be a non-negative int"),
    ((np.zeros(3),), {"batch_size": 2, "prefetch": -1}, "prefetch must be an int >= 0"),
    ((np.zeros(3),), {"batch_size": 4, "drop_remainder": True}, "give no batch of 4"),
    ((np.zeros((0, 3)),), {"batch_size": 4}, r"0 examples: nothing to batch$"),
    ((np.zeros((0, 3)), np.zeros(0)), {"batch_size": 4, "drop_remainder": True}, r"0 examples: nothing to batch$"),
])
def test_bad_arguments_say_what_was_expected(arrays, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.batches(*arrays, **kwargs)


def test_batch_larger_than_the_data_gives_one_short_batch():
    pipe = data.batches(np.arange(3), batch_size=8)
    assert len(pipe) == 1 and sorted(next(iter(pipe))[0].tolist()) == [0, 1, 2]
