"""slim.parallel without MPI: packing, the one-process world, sharding, synchronized batch
norm's arithmetic, and the data-parallel step against a stand-in for a second process."""
import io
import sys

import numpy as np
import pytest

import minislim as slim
from minislim.ops.normalization import BatchNormTraining
from minislim.parallel import (SingleProcessCommunicator, SyncBatchNormTraining, abort_on_error, pack, shard_bounds,
                               unpack)
from minislim.parallel import mpi as parallel_mpi


class Mirror(SingleProcessCommunicator):
    """Rank ``rank`` of a job of ``size`` processes that all hold exactly this process's values:
    a sum over the processes is ``size`` times the value, a broadcast changes nothing."""

    def __init__(self, rank=1, size=2):
        super().__init__()
        self.rank, self.size = rank, size
        self.aborted = []

    def _allreduce_sum(self, buffer):
        buffer *= self.size

    def abort(self, code=1):
        self.aborted.append(code)


# --- communicators ---------------------------------------------------------------------------

def test_pack_and_unpack_give_back_every_array_with_its_shape_and_dtype(rng):
    arrays = [rng.standard_normal((2, 3)).astype(np.float32), np.arange(4, dtype=np.float32), np.float32(7.0)]
    buffer, layout = pack(arrays)
    assert buffer.shape == (11,) and buffer.dtype == np.float32
    for before, after in zip(arrays, unpack(buffer, layout)):
        assert after.shape == np.shape(before) and after.dtype == np.asarray(before).dtype
        np.testing.assert_array_equal(after, before)
    with pytest.raises(ValueError, match="layout holds 11 values, the buffer 12"):
        unpack(np.zeros(12, np.float32), layout)
    with pytest.raises(ValueError, match="at least one array"):
        pack([])


def test_the_one_process_world_returns_copies_and_counts_its_messages():
    comm = SingleProcessCommunicator()
    values = [np.ones(3, np.float32), np.arange(2, dtype=np.int64)]
    summed = comm.allreduce(values, op="mean")
    assert [a.dtype for a in summed] == [np.float32, np.int64]  # packed as float64, unpacked to each dtype
    np.testing.assert_array_equal(summed[0], values[0])
    assert summed[0] is not values[0]
    sent = comm.broadcast(values)
    assert [a.dtype for a in sent] == [np.float32, np.int64]
    assert comm.stats["allreduce"]["calls"] == 1 and comm.stats["allreduce"]["bytes"] == 5 * 8
    assert comm.stats["broadcast"]["bytes"] == 3 * 4 + 2 * 8
    with pytest.raises(ValueError, match=r"op must be one of \('sum', 'mean'\), got 'max'"):
        comm.allreduce(values, op="max")
    with pytest.raises(ValueError, match=r"root must be a rank in 0..0, got 1"):
        comm.broadcast(values, root=1)


def test_world_is_one_process_without_a_launcher(monkeypatch):
    for name in parallel_mpi._SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(parallel_mpi, "_WORLD", [])
    comm = slim.parallel.world()
    assert isinstance(comm, SingleProcessCommunicator) and slim.parallel.world() is comm


def test_world_refuses_several_processes_without_mpi4py(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "4")
    monkeypatch.setattr(parallel_mpi, "_WORLD", [])
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import fails
    with pytest.raises(RuntimeError, match=r"one of 4 started by an MPI launcher, but mpi4py is not installed"):
        slim.parallel.world()
    with pytest.raises(ImportError, match=r"pip install -e \"\.\[mpi\]\""):
        slim.parallel.MPICommunicator()


def test_abort_on_error_prints_the_rank_and_error_then_aborts(monkeypatch):
    comm = Mirror(rank=1, size=3)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(KeyError):
        with abort_on_error(comm, "minislim train", code=3):
            raise KeyError("no such thing")
    assert comm.aborted == [3]
    assert "minislim train (rank 1 of 3): error: 'no such thing'" in err.getvalue()
    assert "Traceback" in err.getvalue()
    with pytest.raises(ValueError):  # one process: the error goes on unchanged, nothing aborts
        with abort_on_error(SingleProcessCommunicator()):
            raise ValueError("plain")


class BadOption(Exception):
    pass


def test_an_error_every_rank_raises_is_printed_by_rank_0_alone_with_its_exit_code(monkeypatch):
    monkeypatch.setattr(parallel_mpi, "OUTPUT_GRACE_S", 0.0)
    monkeypatch.setattr(parallel_mpi, "ROOT_GRACE_S", 0.0)  # rank 0 never ends this job: rank 1 speaks up
    code = lambda error: 2 if isinstance(error, BadOption) else 1  # noqa: E731
    printed = {}
    for rank in (0, 1):
        comm, err = Mirror(rank=rank, size=2), io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        with pytest.raises(BadOption):
            with abort_on_error(comm, "minislim train", code=code, quiet=(BadOption,), same_everywhere=(BadOption,)):
                raise BadOption("--batch-size 63 must divide among 2 processes")
        assert comm.aborted == [2]
        printed[rank] = err.getvalue()
    assert printed[0] == "minislim train (rank 0 of 2): error: --batch-size 63 must divide among 2 processes\n"
    # rank 1 waited ROOT_GRACE_S for rank 0 to end the job; it did not, so rank 1 says it
    assert printed[1].startswith("minislim train (rank 1 of 2): error: --batch-size 63")


def test_rank_1_stays_silent_while_rank_0_ends_the_job(monkeypatch):
    class RootEndsTheJob(Exception):
        pass

    def rank_0_aborts(seconds):  # what happens in a real job while rank 1 waits
        raise RootEndsTheJob

    monkeypatch.setattr(parallel_mpi, "OUTPUT_GRACE_S", 0.0)
    monkeypatch.setattr(parallel_mpi.time, "sleep", rank_0_aborts)
    comm, err = Mirror(rank=1, size=2), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(RootEndsTheJob):
        with abort_on_error(comm, "minislim train", same_everywhere=(BadOption,)):
            raise BadOption("bad option")
    assert err.getvalue() == "" and comm.aborted == []


# --- sharding ------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("rows", [8, 13, 64])
def test_the_shards_laid_end_to_end_are_the_batch(rows, size):
    bounds = [shard_bounds(rows, rank, size) for rank in range(size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == rows
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert max(b - a for a, b in bounds) - min(b - a for a, b in bounds) <= 1


@pytest.mark.parametrize("size", [2, 3, 4])
def test_n_processes_see_the_batches_of_one_process_augmentation_included(size):
    images = np.random.default_rng(0).integers(0, 255, (52, 6, 6, 3)).astype(np.uint8)
    labels = np.arange(52)
    augment = slim.data.Compose([slim.data.RandomCrop(6, padding=2), slim.data.RandomFlip()])
    whole = slim.data.batches(images, labels, batch_size=12, seed=3, augment=augment)
    shards = [slim.data.batches(images, labels, batch_size=12, seed=3, augment=augment,
                                communicator=Mirror(rank, size)) for rank in range(size)]
    assert all(len(s) == len(whole) == 5 for s in shards)
    for epoch in range(2):
        parts = [list(s) for s in shards]
        for index, (x, y) in enumerate(whole):
            np.testing.assert_array_equal(np.concatenate([p[index][0] for p in parts]), x)
            np.testing.assert_array_equal(np.concatenate([p[index][1] for p in parts]), y)
        assert all(s.state_dict() == whole.state_dict() for s in shards)  # counted in global batches


def test_a_position_saved_with_two_processes_resumes_with_four():
    x = np.arange(40)
    two = slim.data.batches(x, batch_size=8, seed=1, communicator=Mirror(0, 2))
    iterator = iter(two)
    next(iterator), next(iterator)
    four = [slim.data.batches(x, batch_size=8, seed=1, communicator=Mirror(r, 4)) for r in range(4)]
    for pipe in four:
        pipe.load_state_dict(two.state_dict())
    one = slim.data.batches(x, batch_size=8, seed=1)
    one.load_state_dict(two.state_dict())
    expected = [b.tolist() for (b,) in one]
    got = [sum((p.tolist() for p in parts), []) for parts in zip(*[[b for (b,) in pipe] for pipe in four])]
    assert got == expected and len(expected) == 3


def test_a_batch_too_small_to_split_is_refused():
    with pytest.raises(ValueError, match=r"a batch of 2 examples cannot be split among 4 processes .*"
                                         r"drop_remainder=True"):
        slim.data.batches(np.arange(10), batch_size=8, communicator=Mirror(0, 4))
    assert len(slim.data.batches(np.arange(10), batch_size=8, drop_remainder=True, communicator=Mirror(0, 4))) == 1
    with pytest.raises(TypeError, match="communicator must be a slim.parallel communicator, got 2"):
        slim.data.batches(np.arange(10), batch_size=8, communicator=2)


# --- synchronized batch norm -----------------------------------------------------------------

def test_sync_batch_norm_of_one_process_is_the_plain_batch_norm(rng):
    x = rng.standard_normal((4, 3, 3, 5)).astype(np.float32)
    scale, offset = rng.uniform(0.5, 2, 5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    for op in (BatchNormTraining(1e-3), SyncBatchNormTraining(SingleProcessCommunicator(), 1e-3)):
        inputs = [slim.tensor(a, requires_grad=True) for a in (x, scale, offset)]
        y = op(*inputs)
        y.backward(g)
        results.append([y.data, op.batch_mean, op.batch_variance] + [t.grad for t in inputs])
    for plain, synced in zip(*results):  # the two ops order their float32 operations differently
        np.testing.assert_allclose(synced, plain, rtol=1e-5, atol=1e-6)


def test_sync_batch_norm_gradients_match_central_differences(rng):
    comm = SingleProcessCommunicator()
    inputs = [rng.standard_normal((6, 3)), rng.uniform(0.5, 2.0, 3), rng.standard_normal(3)]
    slim.testing.gradcheck(lambda x, s, o: SyncBatchNormTraining(comm, 1e-3)(x, s, o), inputs)


def test_sync_batch_norm_over_identical_shards_is_the_batch_norm_of_their_union(rng):
    x = rng.standard_normal((8, 4))
    scale, offset = np.ones(4), np.zeros(4)
    op = SyncBatchNormTraining(Mirror(1, 3), 1e-3)  # three processes with this same shard
    g = rng.standard_normal(x.shape)
    inputs = [slim.tensor(x, requires_grad=True), slim.tensor(scale), slim.tensor(offset)]
    y = op(*inputs)
    y.backward(g)
    assert op.count == 24  # the global batch
    union = [slim.tensor(np.concatenate([x] * 3), requires_grad=True), slim.tensor(scale), slim.tensor(offset)]
    y_union = BatchNormTraining(1e-3)(*union)
    y_union.backward(np.concatenate([g] * 3) / 3)  # the global loss weighs each shard by 1/3
    np.testing.assert_allclose(y.data, y_union.data[:8], rtol=1e-12)
    np.testing.assert_allclose(inputs[0].grad / 3, union[0].grad[:8], rtol=1e-10, atol=1e-12)


def test_batch_norm_layer_sync_option():
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    plain = slim.batch_norm(x, scale=True, scope="plain")
    synced = slim.batch_norm(x, scale=True, sync=SingleProcessCommunicator(), scope="synced")
    np.testing.assert_allclose(synced.data, plain.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(slim.get_unique_variable("synced/moving_variance").data,
                               slim.get_unique_variable("plain/moving_variance").data, rtol=1e-6)
    with pytest.raises(TypeError, match=r"batch_norm 'bn': sync must be a bool or a slim.parallel communicator, "
                                        r"got 'yes'"):
        slim.batch_norm(x, sync="yes", scope="bn")


# --- the data-parallel step and loop --------------------------------------------------------

def loss_fn(x, y):
    logits = slim.fully_connected(slim.tensor(x), 3, activation_fn=None,
                                  weights_regularizer=slim.l2_regularizer(0.1), scope="fc")
    slim.losses.sparse_softmax_cross_entropy(logits, y)
    return slim.losses.get_total_loss()


def data():
    rng = np.random.default_rng(5)
    return rng.standard_normal((32, 4)).astype(np.float32), rng.integers(0, 3, 32)


def weights_after(comm, steps=5):
    with slim.Graph().as_default():
        slim.set_random_seed(0)
        op = slim.learning.create_train_op(loss_fn, slim.optimizers.SGD(0.5), communicator=comm)
        x, y = data()
        losses = [op(x, y) for _ in range(steps)]
        return slim.get_unique_variable("fc/weights").data.copy(), losses, op.batch_size


def test_gradients_averaged_over_equal_processes_count_the_regularization_once():
    alone, alone_losses, alone_batch = weights_after(None)
    mirrored, mirrored_losses, mirrored_batch = weights_after(Mirror(1, 4))
    # four processes with the same 32 examples: the mean gradient is theirs, the regularizer's once
    np.testing.assert_allclose(mirrored, alone, rtol=1e-6)
    np.testing.assert_allclose(mirrored_losses, alone_losses, rtol=1e-6)
    assert (alone_batch, mirrored_batch) == (32, 128)  # examples per step: the global batch
    single, _, _ = weights_after(SingleProcessCommunicator())
    np.testing.assert_array_equal(single, alone)  # world size 1: bit for bit the plain step


def test_a_process_other_than_rank_0_neither_logs_nor_saves(tmp_path):
    lines = []
    with slim.Graph().as_default():
        op = slim.learning.create_train_op(loss_fn, slim.optimizers.SGD(0.5), communicator=Mirror(1, 2))
        loss = slim.learning.train(op, [data()], str(tmp_path), number_of_steps=4, log_every_n_steps=1,
                                   save_interval_steps=2, log_fn=lines.append)
    assert loss is not None and int(op.global_step.data) == 4
    assert lines == [] and list(tmp_path.iterdir()) == []


class InterruptedElsewhere(Mirror):
    """As Mirror, but another process reports Ctrl-C in the ``at``-th one-value all-reduce."""

    def __init__(self, rank, at):
        super().__init__(rank, 2)
        self.flags, self.at = 0, at

    def _allreduce_sum(self, buffer):
        super()._allreduce_sum(buffer)
        if buffer.size == 1:  # train's "was anyone interrupted?" flag
            self.flags += 1
            buffer += self.flags == self.at


@pytest.mark.parametrize("rank", [0, 1])
def test_ctrl_c_in_one_process_stops_every_process_after_the_same_step(tmp_path, rank):
    lines = []
    with slim.Graph().as_default():
        op = slim.learning.create_train_op(loss_fn, slim.optimizers.SGD(0.5),
                                           communicator=InterruptedElsewhere(rank, at=4))  # (the first
        # one-value all-reduce is the first step's "did the broadcast change a trainable variable?")
        with pytest.raises(KeyboardInterrupt):
            slim.learning.train(op, [data()], str(tmp_path), number_of_steps=10, save_interval_secs=None,
                                log_every_n_steps=0, log_fn=lines.append)
    assert int(op.global_step.data) == 3
    if rank == 0:  # rank 0 saves the step all processes stopped after
        assert sorted(p.name for p in tmp_path.iterdir()) == [".minislim.lock", "model.ckpt-3.npz"]
        assert lines[-1].startswith("Interrupted at step 3: saved")
    else:
        assert lines == [] and list(tmp_path.iterdir()) == []


# --- random streams: each process its own dropout masks -------------------------------------

def dropout_masks(comm, steps=2):
    """The dropout masks of ``steps`` training steps on one shard of 16 examples (seed 0)."""
    masks = []

    def dropout_loss_fn(x, y):
        hidden = slim.dropout(slim.fully_connected(slim.tensor(x), 32, activation_fn=None, scope="fc1"), 0.5,
                              is_training=True)
        masks.append(hidden.data != 0)
        logits = slim.fully_connected(hidden, 3, activation_fn=None, scope="fc")
        slim.losses.sparse_softmax_cross_entropy(logits, y)
        return slim.losses.get_total_loss()

    with slim.Graph().as_default():
        slim.set_random_seed(0)
        op = slim.learning.create_train_op(dropout_loss_fn, slim.optimizers.SGD(0.1), communicator=comm)
        x, y = data()
        for _ in range(steps):
            op(x[:16], y[:16])
    return np.array(masks)


def test_every_process_draws_its_own_dropout_masks_and_rank_0_those_of_one_process():
    alone = dropout_masks(None)
    ranks = [dropout_masks(Mirror(rank, 3)) for rank in range(3)]
    np.testing.assert_array_equal(ranks[0], alone)  # rank 0 (and one process) unchanged
    assert 0.35 < alone.mean() < 0.65  # half the units dropped
    for a, b in [(0, 1), (0, 2), (1, 2)]:  # the same seed everywhere, yet other masks on each rank
        assert (ranks[a] != ranks[b]).mean() > 0.2, (a, b)
    np.testing.assert_array_equal(dropout_masks(Mirror(2, 3)), ranks[2])  # and reproducible


def test_a_step_all_reduces_every_gradient_in_one_call_of_one_buffer():
    comm = Mirror(0, 2)
    with slim.Graph().as_default():
        op = slim.learning.create_train_op(loss_fn, slim.optimizers.SGD(0.5), communicator=comm)
        x, y = data()
        op(x, y)  # the first step also broadcasts the variables and asks whether any changed
        comm.reset_stats()
        op(x, y)
        parameters = sum(v.data.size for v in slim.get_trainable_variables())
    assert parameters == 4 * 3 + 3
    # one message: the float32 gradients of fc/weights and fc/biases, then the loss and the count
    assert comm.stats["allreduce"] == {"calls": 1, "bytes": 4 * (parameters + 2),
                                       "seconds": comm.stats["allreduce"]["seconds"]}
    assert comm.stats["broadcast"]["calls"] == 0  # the weights travel once, at the first step
