# %% [markdown]
# # 15 · Data parallelism from scratch
#
# A training run that takes an evening on one CPU takes an hour on eight machines, if the
# work can be split. The simplest split that changes nothing about the result is
# **synchronous data parallelism**: every worker holds the whole model, each takes a slice
# (a *shard*) of every batch, and before each update the workers average their gradients.
# This notebook builds it up from NumPy:
#
# 1. why the average of the shards' gradients **is** the big batch's gradient (checked);
# 2. N simulated workers training together, against one worker with the whole batch;
# 3. the **ring all-reduce**, the algorithm MPI uses to average, simulated round by round,
#    and its cost model;
# 4. the **batch norm** subtlety: local or synchronized statistics;
# 5. running it for real with `mpiexec` and on a cluster with Slurm.

# %%
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The average of the shards' gradients is the big batch's gradient
#
# The loss of a batch of $n$ examples is the **mean** of their losses. Cut the batch into
# shards of $n_1, \dots, n_N$ examples with mean losses $L_1, \dots, L_N$:
#
# $$L = \frac{1}{n}\sum_k \ell_k = \sum_i \frac{n_i}{n} L_i
# \quad\Longrightarrow\quad \nabla L = \sum_i \frac{n_i}{n} \nabla L_i .$$
#
# With equal shards that is the plain average of the N gradients. Let us check it with
# minislim's autograd on a small two-layer net, in float64 so that only the mathematics,
# not the rounding, is compared.

# %%
x = rng.standard_normal((64, 10))
labels = rng.integers(0, 4, 64)
w1, w2 = rng.standard_normal((10, 16)) * 0.3, rng.standard_normal((16, 4)) * 0.3


def gradients(x, labels, regularization=0.01):
    """The gradients of mean cross-entropy + regularization wrt w1 and w2."""
    a, b = slim.tensor(w1, requires_grad=True), slim.tensor(w2, requires_grad=True)
    logits = slim.nn.relu(slim.tensor(x) @ a) @ b
    data_loss = slim.losses.sparse_softmax_cross_entropy(logits, labels, loss_collection=None)
    loss = data_loss + regularization * ((a * a).sum() + (b * b).sum())
    loss.backward()
    return a.grad, b.grad


big = gradients(x, labels)
for workers in (2, 4, 8):
    shards = np.array_split(np.arange(64), workers)
    per_worker = [gradients(x[s], labels[s]) for s in shards]
    averaged = [sum(len(s) / 64 * g[i] for s, g in zip(shards, per_worker)) for i in range(2)]
    error = max(np.max(np.abs(a - b)) for a, b in zip(averaged, big))
    print(f"{workers} workers: largest difference from the big batch's gradient {error:.1e}")
    assert error < 1e-12  # float64: equal but for the order of the sums

# %% [markdown]
# The regularization term is the same on every worker; averaged with weights that sum to
# one it counts **once**. Had the workers *summed* their gradients (a common slip when
# each worker's loss is a sum over its examples), it would count N times. The
# regularization's part of each worker's gradient is the gradient with it minus the
# gradient without it:

# %%
without = [gradients(x[s], labels[s], regularization=0.0) for s in shards]
reg_parts = [g[0] - h[0] for g, h in zip(per_worker, without)]   # for w1, on each of the 8 workers
one_copy = 2 * 0.01 * w1                                         # d/dw1 of 0.01 * |w1|^2
print("in the average:", np.mean(reg_parts, axis=0).ravel()[:3], "=", one_copy.ravel()[:3])
print("in the sum:    ", np.sum(reg_parts, axis=0).ravel()[:3], "= 8 x", one_copy.ravel()[:3])
assert np.allclose(np.mean(reg_parts, axis=0), one_copy) and np.allclose(np.sum(reg_parts, axis=0), 8 * one_copy)

# %% [markdown]
# ## 2. N workers training together
#
# A synchronous data-parallel step: every worker computes the gradient of its shard, the
# gradients are averaged (the **all-reduce**), and every worker applies the same average
# to its own copy of the weights. The copies start equal (worker 0 *broadcasts* its
# initial weights) and stay equal, without ever being sent again.
#
# Here four workers, each a plain NumPy copy of a linear softmax classifier, train on
# shards of 16 from batches of 64, against one worker on the whole batches.

# %%
def softmax_gradient(w, x, labels):
    logits = x @ w
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return x.T @ p / len(labels)


data_x = rng.standard_normal((512, 10))
data_y = (data_x[:, :4].argmax(axis=1)).astype(np.int64)
start = rng.standard_normal((10, 4)) * 0.1

one = start.copy()
workers = [start.copy() for _ in range(4)]           # after the broadcast: four equal copies
for step in range(50):
    rows = np.arange(step * 64, (step + 1) * 64) % 512
    one -= 0.5 * softmax_gradient(one, data_x[rows], data_y[rows])
    local = [softmax_gradient(w, data_x[s], data_y[s]) for w, s in zip(workers, np.split(rows, 4))]
    average = sum(local) / 4                          # the all-reduce (mean)
    for w in workers:
        w -= 0.5 * average

print("the four copies are equal:", all(np.array_equal(w, workers[0]) for w in workers))
print("largest difference from one worker with the whole batch:", np.max(np.abs(workers[0] - one)))
assert np.max(np.abs(workers[0] - one)) < 1e-10

# %% [markdown]
# The difference is float64 rounding (sums taken in another order): the same training.
# minislim's `slim.parallel` does exactly this with real processes; its tests check that
# 2 processes x 32 give the weights of 1 process x 64 after 20 steps.

# %% [markdown]
# ## 3. The ring all-reduce
#
# How do N machines average a buffer? The naive way sends everything to one machine, which
# adds and sends the result back: that machine's network link carries $2(N-1)$ buffers
# per step, a bottleneck that grows with N. The **ring all-reduce** keeps every link busy
# with a share:
#
# * the N workers sit on a ring; each cuts its buffer into N chunks;
# * **reduce-scatter**, N - 1 rounds: every worker sends one chunk to its right neighbour
#   and adds the chunk it receives from the left. After N - 1 rounds worker i holds the
#   complete sum of chunk (i + 1) mod N;
# * **all-gather**, N - 1 rounds: the finished chunks travel around the ring once more,
#   each worker passing on what it just received.
#
# A simulation, with every message counted:

# %% [markdown]
# ### Exercise: one round of the reduce-scatter
#
# Before the simulation below, write one round: `chunks[i][c]` is worker `i`'s chunk `c`;
# in round `r` every worker `i` sends its chunk `(i - r) mod N` to its right neighbour,
# which adds it to its own chunk of that index. The checker runs all $N - 1$ rounds with
# your function and compares every worker's chunks with the reference; it names a
# receiver that overwrites instead of adding, a message sent left, and the wrong chunk.
# A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/reduce_scatter_round.py


reduce_scatter_round_result = exercises.check(reduce_scatter_round, "reduce_scatter_round")

# %%
def ring_allreduce(buffers):
    """Sum equal-length 1-D arrays the way a ring of workers does; returns (results, bytes sent per worker)."""
    n = len(buffers)
    chunks = [np.array_split(b.astype(np.float64), n) for b in buffers]  # chunks[worker][c]
    sent = np.zeros(n, dtype=np.int64)
    for round_ in range(n - 1):                       # reduce-scatter
        messages = [(i, (i - round_) % n, chunks[i][(i - round_) % n].copy()) for i in range(n)]
        for i, c, payload in messages:                # all workers send at once, then receive
            chunks[(i + 1) % n][c] += payload
            sent[i] += payload.nbytes
    for round_ in range(n - 1):                       # all-gather
        messages = [(i, (i + 1 - round_) % n, chunks[i][(i + 1 - round_) % n].copy()) for i in range(n)]
        for i, c, payload in messages:
            chunks[(i + 1) % n][c] = payload
            sent[i] += payload.nbytes
    return [np.concatenate(c) for c in chunks], sent


buffers = [rng.standard_normal(1000) for _ in range(5)]
results, sent = ring_allreduce(buffers)
print("every worker holds the sum:", all(np.allclose(r, sum(buffers)) for r in results))
print("bytes each worker sent:", sent.tolist(), f"= 2 (N-1)/N x {buffers[0].nbytes} bytes")
assert all(np.allclose(r, sum(buffers)) for r in results)
assert all(s == 2 * 4 / 5 * buffers[0].nbytes for s in sent)  # 1000 values cut into 5 equal chunks

# %% [markdown]
# Each worker sends $2\frac{N-1}{N}$ times the buffer: almost twice the buffer, **whatever
# N is**. So the time of an all-reduce, with a latency $\alpha$ per message and a
# bandwidth $\beta$, is
#
# $$T(N) = 2(N-1)\,\alpha + 2\frac{N-1}{N}\,\frac{\text{bytes}}{\beta},$$
#
# flat in N except for the latency term. Here it is for the gradients of minislim's
# `vgg_cifar` (814,570 float32 parameters, 3.26 MB), beside the naive root-based scheme:

# %%
def ring_seconds(nbytes, n, bits_per_second, latency=50e-6):
    return 2 * (n - 1) * (latency + nbytes / n * 8 / bits_per_second)


def via_root_seconds(nbytes, n, bits_per_second, latency=50e-6):
    return 2 * (n - 1) * (latency + nbytes * 8 / bits_per_second)   # the root's link carries everything


nbytes = 4 * 814_570
machines = np.array([2, 4, 8, 16, 32, 64])
fig, ax = plt.subplots(figsize=(6, 3.5))
for bandwidth, style in ((1e9, "-"), (10e9, "--")):
    ax.plot(machines, [1e3 * ring_seconds(nbytes, n, bandwidth) for n in machines], "o" + style,
            label=f"ring, {bandwidth / 1e9:.0f} Gbit/s")
    ax.plot(machines, [1e3 * via_root_seconds(nbytes, n, bandwidth) for n in machines], "s" + style,
            label=f"via one root, {bandwidth / 1e9:.0f} Gbit/s")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("machines")
ax.set_ylabel("all-reduce of 3.26 MB (ms)")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# One process computes the `vgg_cifar` step in roughly 7-8 ms per image on one core of the
# development machine (its CPU time; `bench/parallel.py`, docs/benchmarks.md). With 64 images
# per machine that is about 0.42 s of computation against 26-58 ms of all-reduce at 1 Gbit/s
# (6-14%): communication would only dominate below about 7 images per machine and step. The
# network is not what limits data parallelism for a convolutional net of this size; the
# global batch is (more machines on a fixed global batch means fewer images each).

# %% [markdown]
# ## 4. The batch norm subtlety
#
# Batch norm normalises each channel with the **batch's** mean and variance, so an
# example's output depends on the other examples of its batch. With data parallelism a
# worker only sees its shard:
#
# * **local statistics** (the default, as PyTorch's `DistributedDataParallel`): each
#   worker normalises with its shard's mean and variance. Free, and fine for shards of a
#   few dozen examples, but N x B is no longer exactly 1 x N*B;
# * **synchronized statistics** (`slim.batch_norm(..., sync=True)`): the workers
#   all-reduce the per-channel sums (of $x$, then of $(x - \mu)^2$) and all normalise with
#   the global batch's statistics; the backward pass all-reduces two more sums.
#
# The statistics of four shards of 8 examples, against those of the batch of 32:

# %%
activations = rng.normal(loc=1.0, scale=2.0, size=(32, 3))
shards = np.split(activations, 4)
print("global mean :", activations.mean(axis=0))
for i, shard in enumerate(shards):
    print(f"shard {i} mean:", shard.mean(axis=0))

# synchronized: all-reduce the sums and counts, then the squared deviations from the global mean
total, count = sum(s.sum(axis=0) for s in shards), sum(len(s) for s in shards)
mean = total / count
variance = sum(((s - mean) ** 2).sum(axis=0) for s in shards) / count
print("synchronized statistics equal the global ones:",
      np.allclose(mean, activations.mean(axis=0)), np.allclose(variance, activations.var(axis=0)))

# %% [markdown]
# The synchronized op of minislim, `slim.parallel.SyncBatchNormTraining`, does those
# all-reduces through a communicator. With the one-process communicator it computes the
# ordinary batch norm (to float32 rounding: the two ops order their operations differently):

# %%
comm = slim.parallel.SingleProcessCommunicator()
plain = slim.batch_norm(activations.astype(np.float32), scale=True, scope="plain")
synced = slim.batch_norm(activations.astype(np.float32), scale=True, sync=comm, scope="synced")
print("largest difference:", np.max(np.abs(plain.data - synced.data)))

# %% [markdown]
# ## 5. Running it for real
#
# In minislim a training script becomes data parallel with one communicator passed to the
# pipeline and the train op (and, if wanted, batch norm):
#
# ```python
# comm = slim.parallel.world()        # MPI under mpiexec, else one process
# data = slim.data.batches(images, labels, batch_size=256, communicator=comm)   # the global batch
# op = slim.learning.create_train_op(loss_fn, optimizer, communicator=comm)
# slim.learning.train(op, data, logdir)  # rank 0 alone logs and writes checkpoints
# ```
#
# and the command line does it for you: `mpiexec -n 4 minislim train --net vgg_cifar
# --batch-size 256 --logdir runs/four` says `256 = 4 processes x 64` when it starts.
#
# Below, a tiny script trains on two processes when MPI is installed here
# (`pip install -e ".[mpi]"`), and each process reports what it saw.

# %%
script = textwrap.dedent("""
    import numpy as np
    import minislim as slim

    comm = slim.parallel.world()
    x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    def loss_fn(x, y):
        logits = slim.fully_connected(slim.tensor(x), 2, activation_fn=None, scope="fc")
        slim.losses.sparse_softmax_cross_entropy(logits, y)
        return slim.losses.get_total_loss()

    data = slim.data.batches(x, y, batch_size=32, seed=0, communicator=comm)
    op = slim.learning.create_train_op(loss_fn, slim.optimizers.SGD(0.5), communicator=comm)
    for step, (bx, by) in zip(range(4), data):
        loss = op(bx, by)
    print(f"rank {comm.rank} of {comm.size}: {len(bx)} examples per step, global loss {loss:.4f}, "
          f"weights sum {slim.get_unique_variable('fc/weights').data.sum():.6f}", flush=True)
""")
mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
try:
    import mpi4py  # noqa: F401
    have_mpi = mpiexec is not None
except ImportError:
    have_mpi = False
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "tiny.py")
    with open(path, "w") as f:
        f.write(script)
    root = os.path.dirname(os.path.dirname(slim.__file__))
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if have_mpi:
        run = subprocess.run([mpiexec, "-n", "2", sys.executable, path], capture_output=True, text=True,
                             env=env, timeout=120)
        print(run.stdout + run.stderr)
        # mpiexec forwards both processes' output as it comes: their lines can arrive cut
        # into each other, so find the two reports in the text rather than line by line
        reports = dict(re.findall(r"rank (\d) of 2: (\d+ examples per step, global loss \S+, "
                                  r"weights sum -?\d+\.\d{6})", run.stdout))
        assert sorted(reports) == ["0", "1"], run.stdout + run.stderr
        assert reports["0"] == reports["1"]  # the same shard size, loss and weights on both
    else:
        print("MPI is not installed here (pip install -e \".[mpi]\"); running the same script as one process:")
        run = subprocess.run([sys.executable, path], capture_output=True, text=True, env=env, timeout=120)
        print(run.stdout + run.stderr)

# %% [markdown]
# Both processes print the same loss and the same weights: they trained one model.
#
# **On a cluster** the batch system starts the processes. A Slurm job script for two
# machines with 16 processes each (one BLAS thread per process, one process per core):
#
# ```bash
# #!/bin/bash
# #SBATCH --job-name=vgg-cifar
# #SBATCH --nodes=2
# #SBATCH --ntasks-per-node=16
# #SBATCH --cpus-per-task=1
# #SBATCH --time=02:00:00
#
# export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# source ~/venvs/minislim/bin/activate
# srun --mpi=pmi2 minislim train --net vgg_cifar --data-dir ~/data/cifar-10-batches-bin \
#     --logdir ~/runs/vgg-32 --batch-size 512 --epochs 30
# ```
#
# The logdir must be on a file system every machine sees (home or project directories
# are): rank 0 writes the checkpoints, every process reads the newest when the run
# resumes, and it may resume with any number of processes that divides the global batch.
#
# **Try it yourself**
#
# 1. In section 2, make the shards unequal (`np.array_split(rows, 3)` on batches of 64)
#    and average with plain `sum(local) / 3`: how far from the one-worker weights do you
#    end up? Then weight each gradient by its shard size.
# 2. In `ring_allreduce`, count the *rounds* instead of the bytes, and add the latency
#    term to the plot: from how many machines does latency dominate at 10 Gbit/s?
# 3. With local batch norm statistics, how small may a shard be before the shard means
#    above stray by more than half a standard deviation from the global mean?
