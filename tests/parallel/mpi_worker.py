"""The programs the MPI tests run under ``mpiexec`` (and, for the one-process reference,
import and run in the test process itself).

    mpiexec -n 2 python tests/parallel/mpi_worker.py equivalence OUT.npz
    mpiexec -n 2 python tests/parallel/mpi_worker.py train LOGDIR STEPS
    mpiexec -n 2 python tests/parallel/mpi_worker.py fail
"""
import sys

import numpy as np

import minislim as slim

GLOBAL_BATCH = 64
STEPS = 20
VARIANTS = ("plain", "sync_bn", "seeds_differ", "uneven_sync_bn", "local_bn")
BATCH = {"uneven_sync_bn": 63}  # 2 processes: shards of 32 and 31


def examples():
    """256 examples of 8 features in 3 classes (the same on every process)."""
    rng = np.random.default_rng(42)
    x = rng.standard_normal((256, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, y


def make_loss_fn(batch_norm_sync):
    """A two-layer net with L2 regularization (and a batch norm when ``batch_norm_sync`` is not None)."""
    def loss_fn(x, y):
        with slim.arg_scope([slim.fully_connected], weights_regularizer=slim.l2_regularizer(0.01)):
            hidden = slim.fully_connected(slim.tensor(x), 16, scope="fc1")
            if batch_norm_sync is not None:
                hidden = slim.batch_norm(hidden, decay=0.9, scale=True, sync=batch_norm_sync, scope="bn")
            logits = slim.fully_connected(hidden, 3, activation_fn=None, scope="logits")
        slim.losses.sparse_softmax_cross_entropy(logits, y)
        return slim.losses.get_total_loss()
    return loss_fn


def run_steps(comm, variant: str, steps: int = STEPS) -> dict:
    """``steps`` steps of the net on the global batch; returns {variable name: value} and the losses."""
    with slim.Graph().as_default():
        # 'seeds_differ': every rank but 0 starts from other weights; rank 0's broadcast must fix that
        slim.set_random_seed(0 if variant != "seeds_differ" or comm is None else comm.rank)
        x, y = examples()
        data = slim.data.batches(x, y, batch_size=BATCH.get(variant, GLOBAL_BATCH), seed=1, communicator=comm)
        # None: no batch norm; 'local_bn': batch norm with each process's own statistics (the default)
        sync = None if variant == "plain" else (comm if comm is not None and variant != "local_bn" else False)
        op = slim.learning.create_train_op(make_loss_fn(sync), slim.optimizers.Momentum(0.1, 0.9),
                                           communicator=comm)
        losses = []
        while len(losses) < steps:
            for batch in data:
                losses.append(op(*batch))
                if len(losses) == steps:
                    break
        values = {v.name: v.data.copy() for v in slim.get_variables()}
    values["losses"] = np.array(losses)
    return values


def equivalence(out: str) -> None:
    comm = slim.parallel.world()
    results = {f"{variant}:{name}": value for variant in VARIANTS
               for name, value in run_steps(comm, variant).items()}
    # local batch norm: each process's moving averages follow its own shard; rank 1's, for rank 0 to save
    results["local_bn:rank1/bn/moving_mean"] = comm.broadcast([results["local_bn:bn/moving_mean"]], root=1)[0]
    if comm.rank == 0:
        np.savez(out, size=comm.size, **results)


def pipeline(comm):
    x, y = examples()
    return slim.data.batches(x, y, batch_size=GLOBAL_BATCH, seed=1, communicator=comm)


def train(logdir: str, steps: int, comm) -> None:
    """``slim.learning.train`` of the sync-batch-norm net into ``logdir`` up to ``steps``."""
    with slim.Graph().as_default():
        slim.set_random_seed(0)
        op = slim.learning.create_train_op(make_loss_fn(comm if comm is not None else False),
                                           slim.optimizers.Momentum(0.1, 0.9), communicator=comm)
        slim.learning.train(op, pipeline(comm), logdir, number_of_steps=steps, log_every_n_steps=5,
                            save_interval_secs=None, log_fn=lambda line: print(line, flush=True))


def fail() -> None:
    """Rank 1 raises at its third step while rank 0 waits for it in the all-reduce."""
    comm = slim.parallel.world()
    calls = []

    def loss_fn(x, y):
        calls.append(1)
        if comm.rank == 1 and len(calls) == 3:
            raise ValueError("rank 1 fails on purpose at step 3")
        return make_loss_fn(None)(x, y)

    op = slim.learning.create_train_op(loss_fn, slim.optimizers.SGD(0.1), communicator=comm)
    for batch in pipeline(comm):
        op(*batch)
    print("every step ran: the error did not stop the job", flush=True)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "equivalence":
        equivalence(sys.argv[2])
    elif command == "train":
        train(sys.argv[2], int(sys.argv[3]), slim.parallel.world())
    elif command == "fail":
        fail()
    else:
        raise SystemExit(f"unknown command {command!r}")
