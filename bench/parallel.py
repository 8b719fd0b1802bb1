"""Data parallelism on one machine: 1 process x 2 threads against 2 processes x 1 thread.

Both train the ``vgg_cifar`` step of ``minislim train`` (batch norm, Nesterov momentum,
weight decay) on the same global batch of random CIFAR-sized images. Reported: images per
second (the global batch over the median step time), and for the MPI run the all-reduce's
share of the step (time inside the gradient all-reduce, which includes waiting for the
slower process, over the step time), the bytes each process sends per step, and the cost
model of docs/benchmarks.md evaluated on these numbers for 1 and 10 Gbit/s networks. The
cost model's computation per image is the CPU time of the one-thread step, which other jobs
on the machine do not inflate as they do its wall time (the load average is printed too).

    python bench/parallel.py                      # global batch 64, 5 timed steps each
    python bench/parallel.py --batch 128 --steps 10

Each configuration runs in fresh processes, with the BLAS thread count fixed through the
environment (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``) before
NumPy starts. The MPI run needs the ``[mpi]`` extra; without it only the first row is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), REPO]  # run from a checkout, installed or not
from _common import header  # noqa: E402
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# --- one configuration (runs inside each process) ---------------------------------------------

def measure(global_batch: int, steps: int, warmup: int = 1) -> dict | None:
    """Time ``steps`` training steps of vgg_cifar on this job's processes; rank 0 returns the figures."""
    import minislim as slim
    from train_cifar import minislim_train_op

    comm = slim.parallel.world()
    rng = np.random.default_rng(0)
    images = rng.standard_normal((global_batch, 32, 32, 3)).astype(np.float32)
    labels = rng.integers(0, 10, global_batch)
    batch = next(iter(slim.data.batches(images, labels, batch_size=global_batch, shuffle=False,
                                        communicator=comm)))
    with slim.Graph().as_default():
        slim.set_random_seed(0)
        op = minislim_train_op(batch_norm=True)
        op.communicator = comm  # the same step, with its gradients all-reduced
        for _ in range(warmup):
            op(*batch)
        times, cpu_times, reduce_times = [], [], []
        for _ in range(steps):
            comm.barrier()  # every step starts together: the times are the job's, not one process's
            comm.reset_stats()
            started, cpu_started = time.perf_counter(), time.process_time()
            op(*batch)
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
            reduce_times.append(comm.stats["allreduce"]["seconds"])
        parameters = sum(v.data.size for v in slim.get_trainable_variables())
        sent = comm.stats["allreduce"]["bytes"]
        # the all-reduce alone, every process ready: its cost without the wait for a slower process
        grads = [np.ones(v.data.shape, np.float32) for v in slim.get_trainable_variables()]
        alone = []
        for _ in range(5):
            comm.barrier()
            started = time.perf_counter()
            comm.allreduce(grads)
            alone.append(time.perf_counter() - started)
    if not comm.is_root:
        return None
    step = statistics.median(times)
    return {"processes": comm.size, "global_batch": global_batch, "step_s": step,
            "cpu_step_s": statistics.median(cpu_times),
            "images_per_s": global_batch / step, "allreduce_s": statistics.median(reduce_times),
            "allreduce_bytes": sent, "allreduce_alone_s": statistics.median(alone) if comm.size > 1 else 0.0,
            "parameters": int(parameters)}


# --- the driver ------------------------------------------------------------------------------

def find_mpiexec():
    return shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")


def run_configuration(processes: int, threads: int, batch: int, steps: int) -> dict | None:
    """Run :func:`measure` in fresh processes; None when MPI is not available."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    command = [sys.executable, os.path.abspath(__file__), "--measure", "--batch", str(batch), "--steps", str(steps)]
    if processes > 1:
        mpiexec = find_mpiexec()
        if mpiexec is None:
            return None
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            return None
        command = [mpiexec, "-n", str(processes)] + command
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def ring_allreduce_seconds(nbytes: float, processes: int, bits_per_second: float, latency: float = 50e-6) -> float:
    """The ring all-reduce's cost model: ``2 (N-1)`` messages of ``bytes / N`` each, in and out at once."""
    if processes == 1:
        return 0.0
    return 2 * (processes - 1) * (latency + nbytes / processes * 8 / bits_per_second)


def report(rows: list) -> str:
    """The table of the three configurations (1x2, 2x1, 1x1 reference) and the cost model."""
    lines = ["| configuration | images/s | step (ms) | all-reduce in the step (ms) | its share | all-reduce alone (ms) "
             "| bytes all-reduced per step |",
             "|---|---|---|---|---|---|---|"]
    for label, row in rows:
        if row is None:
            lines.append(f"| {label} | (MPI not available: pip install -e \".[mpi]\") | | | | | |")
            continue
        share = row["allreduce_s"] / row["step_s"]
        lines.append(f"| {label} | {row['images_per_s']:.1f} | {1e3 * row['step_s']:.0f} | "
                     f"{1e3 * row['allreduce_s']:.1f} | {100 * share:.1f}% | {1e3 * row['allreduce_alone_s']:.1f} | "
                     f"{row['allreduce_bytes'] / 1e6:.2f} MB |")
    one, two, single = (row for _, row in rows)
    if two is not None:
        lines.append(f"\nspeed-up of 2 processes x 1 thread over 1 process x 2 threads: "
                     f"{two['images_per_s'] / one['images_per_s']:.2f}x, over 1 process x 1 thread: "
                     f"{two['images_per_s'] / single['images_per_s']:.2f}x")
    # the cost model, per process: compute time per example of one process with one thread, from
    # its CPU time (the time it computed), which a loaded machine does not inflate as it does the
    # wall time (the time it waited for a core); without MPI, the same two for 1 thread
    per_example = single["cpu_step_s"] / single["global_batch"]
    nbytes = 4 * one["parameters"]
    lines.append(f"\ncost model: {one['parameters']:,} float32 parameters = {nbytes / 1e6:.2f} MB of gradients; "
                 f"compute {1e3 * per_example:.1f} ms per example (1 process x 1 thread above: CPU time of the "
                 f"step; its wall time gives {1e3 * single['step_s'] / single['global_batch']:.1f} ms)")
    lines.append("| machines N | compute per step, 64 images per machine | ring all-reduce at 1 Gbit/s | share "
                 "| at 10 Gbit/s | share |")
    lines.append("|---|---|---|---|---|---|")
    compute = 64 * per_example
    for n in (2, 4, 8, 16, 64):
        cells = [f"{n}", f"{1e3 * compute:.0f} ms"]
        for bandwidth in (1e9, 10e9):
            comm_s = ring_allreduce_seconds(nbytes, n, bandwidth)
            cells += [f"{1e3 * comm_s:.1f} ms", f"{100 * comm_s / (compute + comm_s):.1f}%"]
        lines.append("| " + " | ".join(cells) + " |")
    for bandwidth, name in ((1e9, "1 Gbit/s"), (10e9, "10 Gbit/s")):
        limit = 2 * nbytes * 8 / bandwidth  # the ring's cost as N grows: each process sends and receives 2x the bytes
        lines.append(f"at {name} the all-reduce (about {1e3 * limit:.0f} ms for many machines) outweighs the "
                     f"computation below {limit / per_example:.1f} images per machine and step")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64, help="the global batch")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (the median is reported)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # inside a configuration
    args = parser.parse_args(argv)
    if args.measure:
        result = measure(args.batch, args.steps)
        if result is not None:
            print(json.dumps(result), flush=True)
        return 0
    print(header(f"Data parallelism: vgg_cifar step, global batch {args.batch}"))
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = [("1 process x 2 threads", run_configuration(1, 2, args.batch, args.steps)),
            ("2 processes x 1 thread", run_configuration(2, 1, args.batch, args.steps)),
            ("1 process x 1 thread (reference)", run_configuration(1, 1, args.batch, args.steps))]
    if load is not None:  # other jobs inflate the wall times (not the CPU time of the cost model)
        print(f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f} "
              f"(on {os.cpu_count()} CPUs)")
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
