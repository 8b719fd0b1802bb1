"""The MPI communicator (on ``mpi4py``), the process *world*, and aborting on an error.

``world()`` is the communicator of the job this process belongs to: an
:class:`MPICommunicator` when the process was started by ``mpiexec``/``mpirun``/``srun``
with more than one process, else a :class:`SingleProcessCommunicator`. So one script,
run as ``python train.py`` or as ``mpiexec -n 4 python train.py``, does the right thing.
``mpi4py`` is imported only then (it is an optional extra: ``pip install -e ".[mpi]"``,
which also brings an MPI library, MPICH, as a PyPI wheel).

An error in one process must not leave the others waiting forever in a collective that
the failed process will never join. :class:`MPICommunicator` therefore installs a
``sys.excepthook`` that prints the traceback (with the rank) and calls ``MPI_Abort``,
which ends every process of the job; :func:`abort_on_error` does the same for a block of
code whose errors would otherwise be caught and turned into an exit status.

>>> world().size >= 1
True
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback

import numpy as np

from minislim.parallel.communicator import Communicator, SingleProcessCommunicator

# What launchers put in the environment of each process: MPICH's Hydra and Intel MPI (PMI),
# Open MPI, and Slurm's srun (the step's task count, set only inside an srun step, not in
# the batch script itself).
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS")


def launched_size() -> int:
    """The number of processes a launcher says this job has (1 when none says anything)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


class MPICommunicator(Communicator):
    """A communicator over an ``mpi4py`` communicator (default: ``MPI.COMM_WORLD``).

    Args:
        comm: an ``mpi4py.MPI.Comm`` (None: the world).
        abort_on_exception: install a ``sys.excepthook`` that prints an uncaught error
            and aborts the whole job (default True; see the module docstring).

    Raises:
        ImportError: ``mpi4py`` is not installed (with the command that installs it).
    """

    def __init__(self, comm=None, abort_on_exception: bool = True):
        super().__init__()
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError(f"MPICommunicator needs mpi4py ({error}); install the extra: "
                              "pip install -e \".[mpi]\" (mpi4py and MPICH from PyPI)") from None
        self._mpi = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        if abort_on_exception:
            _install_excepthook(self)

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(code)
        os._exit(code)  # MPI_Abort may return in the calling process once the others are told

    def _allreduce_sum(self, buffer: np.ndarray) -> None:
        self.comm.Allreduce(self._mpi.IN_PLACE, buffer, op=self._mpi.SUM)

    def _broadcast(self, buffer: np.ndarray, root: int) -> None:
        self.comm.Bcast(buffer, root=root)


_WORLD = []


def world() -> Communicator:
    """The communicator of this job (made once per process, then the same object).

    Raises:
        RuntimeError: a launcher started several processes but ``mpi4py`` is missing
            (they would otherwise train N unrelated copies into one logdir).
    """
    if not _WORLD:
        size = launched_size()
        if size > 1:
            try:
                import mpi4py  # noqa: F401
            except ImportError:
                raise RuntimeError(f"this process is one of {size} started by an MPI launcher, but mpi4py is not "
                                   "installed, so they cannot talk to each other: pip install -e \".[mpi]\"") from None
            _WORLD.append(MPICommunicator())
        else:
            _WORLD.append(SingleProcessCommunicator())
    return _WORLD[0]


def describe_error(error: BaseException, comm: Communicator) -> str:
    """One line: where (rank r of n) and what (the exception's type and message)."""
    return f"rank {comm.rank} of {comm.size}: {type(error).__name__}: {error}"


def _install_excepthook(comm: Communicator) -> None:
    previous = sys.excepthook

    def hook(kind, value, tb):
        if comm.size > 1 and not issubclass(kind, KeyboardInterrupt):
            sys.stderr.write(f"[{describe_error(value, comm)}] aborting every process of the job\n")
            traceback.print_exception(kind, value, tb)
            sys.stderr.flush()
            time.sleep(OUTPUT_GRACE_S)  # let the launcher forward the traceback before the job ends
            comm.abort(1)
        previous(kind, value, tb)

    sys.excepthook = hook


# MPICH's launcher drops what a process printed but had not yet forwarded when the job is
# aborted, so a process that prints its error waits this long before it aborts the job.
OUTPUT_GRACE_S = 0.5
# An error every process raises at the same point (a bad option) is printed by rank 0
# alone; the others wait this long for rank 0 to print it and end the job.
ROOT_GRACE_S = 10.0


@contextlib.contextmanager
def abort_on_error(comm: Communicator, prefix: str = "minislim", code=1, quiet=(), same_everywhere=()):
    """Run a block; an exception in it, in a job of several processes, ends the whole job.

    The error is printed first, as one line ``<prefix> (rank r of n): error: message``,
    followed by its traceback unless it is an instance of ``quiet`` (a user's mistake,
    such as a bad option, needs no traceback); then ``comm.abort(code)`` stops every
    process, including those blocked in a collective. With one process the exception
    propagates unchanged.

    Args:
        comm: the job's communicator.
        prefix: what the error line starts with (the command).
        code: the exit status of the job: an int, or a function of the exception (so a
            usage error can end the job with 2, as it ends one process).
        quiet: exception types printed without their traceback.
        same_everywhere: exception types that every process raises at the same point,
            such as a bad option checked before any communication: rank 0 alone prints
            them, so the job says it once, not once per process.
    """
    try:
        yield
    except BaseException as error:
        if comm.size == 1 or isinstance(error, SystemExit):
            raise
        status = code(error) if callable(code) else code
        if isinstance(error, tuple(same_everywhere)) and not comm.is_root:
            time.sleep(ROOT_GRACE_S)  # rank 0 raises it too: it prints it and ends the job
        # still here: rank 0, or rank 0 did not end the job (it did not raise this after all)
        sys.stdout.flush()
        sys.stderr.write(f"{prefix} (rank {comm.rank} of {comm.size}): error: {error}\n")
        if not isinstance(error, tuple(quiet)):
            traceback.print_exc()
        sys.stderr.flush()
        time.sleep(OUTPUT_GRACE_S)  # let the launcher forward the line before the job ends
        comm.abort(status)
        raise  # only where abort returns (a stand-in communicator in the tests)
