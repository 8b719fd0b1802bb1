"""``slim.parallel``: synchronous data-parallel training over MPI (see docs/parallel.md).

* :mod:`~minislim.parallel.communicator`: the communicator interface (rank, size,
  barrier, broadcast, all-reduce of a packed list of arrays) and the one-process world;
* :mod:`~minislim.parallel.mpi`: :class:`MPICommunicator` on ``mpi4py``, :func:`world`
  (the job's communicator) and :func:`abort_on_error`;
* :mod:`~minislim.parallel.data_parallel`: the gradient all-reduce, the broadcast of the
  initial variables, and which rows of a batch a rank takes;
* :mod:`~minislim.parallel.sync_batch_norm`: batch norm with the global batch's statistics.

Training on N processes takes three arguments, the same communicator each time::

    comm = slim.parallel.world()            # MPI under mpiexec, else one process
    data = slim.data.batches(images, labels, batch_size=256, communicator=comm)  # global batch
    op = slim.learning.create_train_op(loss_fn, optimizer, communicator=comm)
    slim.learning.train(op, data, logdir)   # rank 0 alone logs and writes checkpoints

>>> import minislim as slim
>>> comm = slim.parallel.SingleProcessCommunicator()
>>> comm.rank, comm.size, comm.is_root
(0, 1, True)
"""
from minislim.parallel.communicator import Communicator, SingleProcessCommunicator, pack, unpack
from minislim.parallel.data_parallel import (allreduce_gradients, any_rank, broadcast_variables, shard_bounds,
                                             split_random_streams)
from minislim.parallel.mpi import MPICommunicator, abort_on_error, launched_size, world
from minislim.parallel.sync_batch_norm import SyncBatchNormTraining

__all__ = ["Communicator", "SingleProcessCommunicator", "MPICommunicator", "world", "launched_size",
           "abort_on_error", "pack", "unpack", "allreduce_gradients", "broadcast_variables", "any_rank",
           "shard_bounds", "split_random_streams", "SyncBatchNormTraining", "resolve_sync"]


def resolve_sync(sync, where: str = "batch_norm"):
    """The communicator a ``sync`` option names: False/None -> None, True -> :func:`world`,
    a :class:`Communicator` -> itself.

    Raises:
        TypeError: anything else (the message names ``where``).
    """
    if sync is None or sync is False:
        return None
    if sync is True:
        return world()
    if isinstance(sync, Communicator):
        return sync
    raise TypeError(f"{where}: sync must be a bool or a slim.parallel communicator, got {sync!r}")
