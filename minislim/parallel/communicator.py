"""Communicators: how N processes that train one model talk to each other.

A communicator is a group of ``size`` processes, each knowing its ``rank`` (0 .. size-1).
Data-parallel training needs four collective operations, which every process of the group
calls at the same point of its program:

* ``barrier()``: wait until every process got here;
* ``broadcast(arrays, root=0)``: every process receives the root's arrays;
* ``allreduce(arrays, op="sum"|"mean")``: every process receives the element-wise sum
  (or mean) over the processes of its arrays;
* ``abort(code)``: end every process of the job (after an error in one of them).

``allreduce`` and ``broadcast`` take a *list* of arrays and **pack** them into one flat
buffer, so a training step sends one message however many variables the model has: a
collective has a fixed start-up cost (latency) that one call per variable would pay a
hundred times. :func:`pack` and :func:`unpack` are that packing.

:class:`SingleProcessCommunicator` is the world of one process (``rank 0``, ``size 1``):
every collective returns copies of its inputs, so the same training code runs with or
without MPI. :class:`minislim.parallel.mpi.MPICommunicator` is the real one.

Every communicator counts what it sends in ``stats`` (calls, bytes, seconds per
operation), which the benchmark reads to report the all-reduce's share of a step.

>>> import numpy as np
>>> comm = SingleProcessCommunicator()
>>> comm.rank, comm.size
(0, 1)
>>> [a.tolist() for a in comm.allreduce([np.ones(2), np.arange(3.0)], op="mean")]
[[1.0, 1.0], [0.0, 1.0, 2.0]]
>>> buffer, layout = pack([np.ones((2, 2), np.float32), np.zeros(3, np.float32)])
>>> buffer.shape, [a.shape for a in unpack(buffer, layout)]
((7,), [(2, 2), (3,)])
"""
from __future__ import annotations

import time

import numpy as np

OPS = ("sum", "mean")


def pack(arrays) -> tuple:
    """Copy ``arrays`` into one flat buffer of their common dtype.

    Args:
        arrays: a list of ndarrays of any shapes (numbers are accepted as 0-d arrays).

    Returns:
        ``(buffer [total size], layout)``; ``layout`` is the list of (shape, dtype) that
        :func:`unpack` needs.

    Raises:
        ValueError: an empty list.
    """
    arrays = [np.asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("pack: give at least one array")
    dtype = np.result_type(*arrays)
    buffer = np.empty(sum(a.size for a in arrays), dtype=dtype)
    start = 0
    for a in arrays:
        buffer[start:start + a.size] = a.ravel()
        start += a.size
    return buffer, [(a.shape, a.dtype) for a in arrays]


def unpack(buffer: np.ndarray, layout) -> list:
    """Split a buffer made by :func:`pack` back into arrays (new arrays, original dtypes)."""
    out, start = [], 0
    for shape, dtype in layout:
        size = int(np.prod(shape, dtype=np.int64))
        out.append(buffer[start:start + size].reshape(shape).astype(dtype, copy=True))
        start += size
    if start != buffer.size:
        raise ValueError(f"unpack: the layout holds {start} values, the buffer {buffer.size}")
    return out


def _check_op(op: str) -> None:
    if op not in OPS:
        raise ValueError(f"allreduce: op must be one of {OPS}, got {op!r}")


class Communicator:
    """The interface (see the module docstring); subclasses implement the ``_`` methods.

    Attributes:
        rank: this process's number, 0 .. size-1 (rank 0 is the *root*).
        size: the number of processes.
        stats: ``{"allreduce": {"calls", "bytes", "seconds"}, "broadcast": {...}}``.
    """

    rank = 0
    size = 1

    def __init__(self):
        self.stats = {name: {"calls": 0, "bytes": 0, "seconds": 0.0} for name in ("allreduce", "broadcast")}

    @property
    def is_root(self) -> bool:
        """True on rank 0, the process that writes checkpoints and logs."""
        return self.rank == 0

    def _count(self, name: str, nbytes: int, started: float) -> None:
        entry = self.stats[name]
        entry["calls"] += 1
        entry["bytes"] += int(nbytes)
        entry["seconds"] += time.perf_counter() - started

    def reset_stats(self) -> None:
        for entry in self.stats.values():
            entry.update(calls=0, bytes=0, seconds=0.0)

    def allreduce(self, arrays, op: str = "sum") -> list:
        """Element-wise ``op`` over the processes of each array, in one packed message.

        Args:
            arrays: a list of ndarrays; every process passes the same shapes in the same order.
            op: ``"sum"`` or ``"mean"`` (the sum divided by ``size``).

        Returns:
            a list of new arrays, shaped (and typed) as the inputs, equal on every process.
        """
        _check_op(op)
        started = time.perf_counter()
        buffer, layout = pack(arrays)
        self._allreduce_sum(buffer)  # in place
        if op == "mean":
            buffer /= buffer.dtype.type(self.size) if buffer.dtype.kind == "f" else self.size
        self._count("allreduce", buffer.nbytes, started)
        return unpack(buffer, layout)

    def broadcast(self, arrays, root: int = 0) -> list:
        """The root's arrays, on every process (one message per dtype among the arrays).

        Args:
            arrays: a list of ndarrays; every process passes the same shapes and dtypes
                (the values of the processes other than the root are ignored).
            root: the rank whose values everyone receives.
        """
        if not 0 <= root < self.size:
            raise ValueError(f"broadcast: root must be a rank in 0..{self.size - 1}, got {root}")
        started = time.perf_counter()
        arrays = [np.asarray(a) for a in arrays]
        out = [None] * len(arrays)
        nbytes = 0
        for dtype in dict.fromkeys(a.dtype for a in arrays):  # ints and floats travel apart, exactly
            members = [i for i, a in enumerate(arrays) if a.dtype == dtype]
            buffer, layout = pack([arrays[i] for i in members])
            self._broadcast(buffer, root)
            nbytes += buffer.nbytes
            for i, value in zip(members, unpack(buffer, layout)):
                out[i] = value
        self._count("broadcast", nbytes, started)
        return out

    # --- what an implementation provides ---------------------------------------------
    def barrier(self) -> None:
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """End every process of the job with exit status ``code``."""
        raise NotImplementedError

    def _allreduce_sum(self, buffer: np.ndarray) -> None:
        raise NotImplementedError

    def _broadcast(self, buffer: np.ndarray, root: int) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} rank {self.rank} of {self.size}>"


class SingleProcessCommunicator(Communicator):
    """The world of one process: rank 0, size 1; the collectives copy their inputs."""

    def barrier(self) -> None:
        pass

    def abort(self, code: int = 1) -> None:
        raise SystemExit(code)

    def _allreduce_sum(self, buffer: np.ndarray) -> None:
        pass  # the sum over one process is its own value

    def _broadcast(self, buffer: np.ndarray, root: int) -> None:
        pass
