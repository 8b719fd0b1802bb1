"""Synchronous data parallelism: the three things a training step adds to one process's.

N processes hold the same model. Each step, every process takes its *shard* of the global
batch, computes its loss and gradients on it, and then:

1. :func:`allreduce_gradients`: the gradients are averaged over the processes, weighted
   by shard size (``sum_i n_i * g_i / sum_i n_i``), in one all-reduce of one packed
   buffer that also carries the loss and the example count. Since every shard's loss is a
   mean over its examples, the weighted average *is* the gradient of the mean loss over
   the global batch: N processes x B examples compute what one process x N*B computes.
   A term that is the same on every process (the regularization loss) averages to
   itself, so it counts once, not N times;
2. every process applies the same averaged gradient to the same variables, so they stay
   equal without ever being sent again.

Before the first step, :func:`broadcast_variables` gives every process rank 0's values
(the initial weights, or those rank 0 restored), the only time the weights travel.

:func:`shard_bounds` says which rows of a global batch belong to a rank.

>>> import numpy as np
>>> from minislim.parallel.communicator import SingleProcessCommunicator
>>> grads, loss, count = allreduce_gradients(SingleProcessCommunicator(), [np.ones(2, np.float32), None],
...                                          loss=0.5, count=8)
>>> grads[0].tolist(), grads[1], loss, count
([1.0, 1.0], None, 0.5, 8)
>>> [shard_bounds(10, rank, 4) for rank in range(4)]
[(0, 3), (3, 6), (6, 8), (8, 10)]
"""
from __future__ import annotations

import numpy as np


def shard_bounds(batch_size: int, rank: int, size: int) -> tuple:
    """``(start, stop)``: the rows of a batch of ``batch_size`` that rank ``rank`` of ``size`` takes.

    Consecutive, as equal as possible (the first ``batch_size % size`` ranks take one row
    more), so the shards of ranks 0, 1, ... laid end to end are the batch.
    """
    base, extra = divmod(int(batch_size), int(size))
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def allreduce_gradients(comm, grads, loss: float, count: int) -> tuple:
    """Average gradients over the processes, weighted by each one's number of examples.

    Args:
        comm: a communicator.
        grads: this process's gradients (ndarrays, or None for a variable without one;
            every process must have None at the same places).
        loss: this process's loss (the mean over its ``count`` examples).
        count: the number of examples of this process's shard (> 0).

    Returns:
        ``(grads, loss, count)``: the weighted means ``sum_i count_i * x_i / sum_i count_i``
        of the gradients and losses (new arrays; None stays None), and the global count.
    """
    if comm.size == 1:  # nothing to average: the values as they are, bit for bit
        return list(grads), float(loss), int(count)
    present = [g for g in grads if g is not None]
    dtype = np.result_type(*present) if present else np.float64
    weight = dtype.type(count)
    # one buffer: every gradient times the weight, then [loss * weight, weight]
    summed = comm.allreduce([g * weight for g in present] + [np.array([loss * count, count], dtype=dtype)])
    total_loss, total = summed[-1]
    scale = dtype.type(1.0 / total)
    reduced = iter(g * scale for g in summed[:-1])
    out = [None if g is None else next(reduced) for g in grads]
    return out, float(total_loss) / float(total), int(round(float(total)))


def broadcast_variables(comm, variables, root: int = 0) -> list:
    """Give every process the root's values of ``variables`` (assigned in place).

    Args:
        comm: a communicator.
        variables: objects with ``.name``, ``.data`` and ``.assign(value)`` (minislim
            variables), in the same order on every process.
        root: the rank whose values win.

    Returns:
        the names of the variables whose value changed on *this* process (empty on the root).
    """
    variables = list(variables)
    if not variables:
        return []
    values = comm.broadcast([v.data for v in variables], root=root)
    changed = []
    for var, value in zip(variables, values):
        if not np.array_equal(var.data, value, equal_nan=var.data.dtype.kind == "f"):
            changed.append(var.name)
            var.assign(value)
    return changed


# The random streams a forward pass draws per example from (the dropout layer's, slim.nn's):
# every process must draw its own, or the shards of a global batch get the same masks.
PER_EXAMPLE_STREAMS = ("dropout", "nn")


def split_random_streams(comm, graph) -> None:
    """Give every process other than rank 0 its own dropout (and ``slim.nn``) random stream.

    Every process seeds the graph alike (``slim.set_random_seed``), so without this rank r
    would draw, for its shard, the very dropout masks rank 0 draws for its own: 4 x 64
    examples with the masks of 64, four times over. Rank r > 0 reseeds each stream of
    :data:`PER_EXAMPLE_STREAMS` from two numbers drawn from it and its rank: deterministic
    (from the seed, or from the checkpoint a run resumes from), different on every rank;
    rank 0 keeps its stream, so one process is unchanged. A stream with an explicit seed
    (``slim.dropout(..., seed=s)``) is left alone: the same masks everywhere were asked for.

    Args:
        comm: a communicator.
        graph: the graph whose streams to split (``graph.rng(name)``), e.g.
            ``slim.get_default_graph()``.
    """
    if comm.size == 1 or comm.rank == 0:
        return
    for name in PER_EXAMPLE_STREAMS:
        stream = graph.rng(name)
        entropy = [int(word) for word in stream.integers(0, 2 ** 63, size=2)]
        stream.bit_generator.state = np.random.PCG64(np.random.SeedSequence(entropy + [comm.rank])).state


def any_rank(comm, flag: bool) -> bool:
    """True on every process when ``flag`` is true on at least one (one small all-reduce)."""
    return bool(comm.allreduce([np.array([1.0 if flag else 0.0])])[0][0] > 0)
