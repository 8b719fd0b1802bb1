"""Data-parallel training under a real ``mpiexec``: 2 processes x batch 32 against 1 x 64.

These tests start MPI jobs, so they are few and short (a tiny net, 20 steps). They skip,
saying why, where ``mpi4py`` or ``mpiexec`` is missing (``pip install -e ".[mpi]"``
installs both from PyPI). The one-process reference runs in the test process itself.
"""
import functools
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import minislim as slim
import mpi_worker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(ROOT, "tests", "parallel", "mpi_worker.py")


def find_mpiexec():
    """mpiexec beside this Python (a venv with the [mpi] extra) or on the PATH."""
    here = os.path.dirname(sys.executable)
    return shutil.which("mpiexec", path=here) or shutil.which("mpiexec")


@functools.lru_cache(maxsize=None)
def launcher_version() -> str:
    return subprocess.run([find_mpiexec(), "--version"], capture_output=True, text=True, timeout=30).stdout


def mpiexec(n, *args, timeout=120):
    """Run ``args`` on ``n`` processes; returns (exit status, stdout + stderr, seconds)."""
    command = [find_mpiexec(), "-n", str(n)]
    version = launcher_version()
    if "Open MPI" in version or "OpenRTE" in version:
        command.append("--oversubscribe")  # more processes than cores is fine for a test
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    started = time.perf_counter()
    done = subprocess.run(command + [sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


PROBE = "from mpi4py import MPI; assert MPI.COMM_WORLD.Get_size() == 2, MPI.COMM_WORLD.Get_size()"


@functools.lru_cache(maxsize=None)
def why_no_mpi():
    """None when a 2-process MPI job runs here, else the reason the tests skip."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install -e \".[mpi]\")"
    if find_mpiexec() is None:
        return "no mpiexec beside Python or on the PATH (pip install -e \".[mpi]\" brings MPICH's)"
    try:  # installed is not enough: the launcher and the library must also work together
        status, output, _ = mpiexec(2, "-c", PROBE, timeout=60)
    except subprocess.TimeoutExpired:
        return "mpiexec -n 2 did not finish a one-line mpi4py program within 60 s"
    if status != 0:
        return f"mpiexec -n 2 cannot run an mpi4py program here: {output.strip()[-300:]}"
    return None


@pytest.fixture(autouse=True)
def _needs_mpi():
    """Probed once, when the first of these tests runs (not when the suite is collected).

    CI sets ``MINISLIM_REQUIRE_MPI=1`` once it installed the ``[mpi]`` extra: there a
    missing or broken MPI fails these tests instead of skipping them.
    """
    if why_no_mpi() is not None:
        if os.environ.get("MINISLIM_REQUIRE_MPI"):
            pytest.fail(f"MINISLIM_REQUIRE_MPI is set, but {why_no_mpi()}")
        pytest.skip(why_no_mpi())


# float32 rounding: the sums over 32 + 32 and over 64 examples round differently; 20 steps of
# momentum carry those differences along without amplifying them beyond a few ulps
RTOL, ATOL = 1e-5, 2e-6


def test_two_processes_of_32_train_the_weights_of_one_process_of_64(tmp_path):
    out = tmp_path / "two.npz"
    status, output, _ = mpiexec(2, WORKER, "equivalence", str(out))
    assert status == 0, output
    two = np.load(out)
    assert int(two["size"]) == 2
    for variant in mpi_worker.VARIANTS:
        if variant == "local_bn":
            continue  # below
        slim.reset_default_graph()
        one = mpi_worker.run_steps(None, variant)
        names = [n for n in one if n != "losses"]
        assert {"fc1/weights", "logits/biases"} <= set(names)
        if variant != "plain":
            assert {"bn/gamma", "bn/moving_mean"} <= set(names)
        for name in names:
            if variant == "seeds_differ" and "moving" in name:
                continue  # the first step ran twice there (see TrainOp._start_in_sync)
            np.testing.assert_allclose(two[f"{variant}:{name}"], one[name], rtol=RTOL, atol=ATOL,
                                       err_msg=f"{variant}: {name}")
        # the loss printed by rank 0 is the global batch's (regularization counted once)
        np.testing.assert_allclose(two[f"{variant}:losses"], one["losses"], rtol=RTOL, atol=ATOL)
        assert one["losses"][-1] < one["losses"][0] - 0.1  # it learned something
    # batch norm without sync normalises each shard with its own statistics (as PyTorch's DDP):
    # the two processes' moving averages differ, and the weights are no longer 1 x 64's
    slim.reset_default_graph()
    one = mpi_worker.run_steps(None, "local_bn")  # one process: the batch norm of the 64
    local, own = two["local_bn:bn/moving_mean"], two["local_bn:rank1/bn/moving_mean"]
    assert np.abs(local - own).max() > 100 * ATOL
    gap = np.abs(two["local_bn:fc1/weights"] - one["fc1/weights"]).max()
    assert gap > 100 * ATOL, gap


def final_values(logdir):
    path = slim.checkpoint.latest_checkpoint(str(logdir))
    return path, dict(np.load(path))


def train_here(logdir, steps):
    slim.reset_default_graph()
    mpi_worker.train(str(logdir), steps, None)


def test_checkpoints_resume_from_two_processes_to_one_and_back(tmp_path):
    train_here(tmp_path / "straight", 20)
    _, straight = final_values(tmp_path / "straight")

    status, output, _ = mpiexec(2, WORKER, "train", str(tmp_path / "two_then_one"), "10")
    assert status == 0, output
    assert output.count("Finished at step 10") == 1  # rank 0 alone logs
    assert sorted(os.listdir(tmp_path / "two_then_one")) == [".minislim.lock", "model.ckpt-10.npz"]  # one lock: rank 0's
    train_here(tmp_path / "two_then_one", 20)

    train_here(tmp_path / "one_then_two", 10)
    status, output, _ = mpiexec(2, WORKER, "train", str(tmp_path / "one_then_two"), "20")
    assert status == 0, output
    assert "Resumed from" in output and output.count("Finished at step 20") == 1

    for run in ("two_then_one", "one_then_two"):
        path, values = final_values(tmp_path / run)
        assert path.endswith("model.ckpt-20.npz")
        compared = [k for k in straight if k.startswith(("fc1/", "bn/", "logits/"))]
        assert len(compared) >= 8
        for key in compared:
            np.testing.assert_allclose(values[key], straight[key], rtol=RTOL, atol=ATOL, err_msg=f"{run}: {key}")


def test_a_rank_that_raises_ends_the_job_within_seconds_with_its_error():
    status, output, seconds = mpiexec(2, WORKER, "fail", timeout=60)
    if status != 0 and not output.strip():  # on a loaded machine Hydra sometimes drops the output of
        status, output, seconds = mpiexec(2, WORKER, "fail", timeout=60)  # a job it aborts: once more
    assert status != 0
    assert "rank 1 fails on purpose at step 3" in output
    assert "rank 1 of 2" in output
    assert "every step ran" not in output
    assert seconds < 30


def test_the_command_line_splits_the_global_batch(tmp_path):
    logdir = tmp_path / "run"
    status, output, _ = mpiexec(2, "-m", "minislim", "train", "--net", "lenet", "--train-size", "128",
                                "--batch-size", "64", "--steps", "3", "--log-every", "1", "--no-augment",
                                "--logdir", str(logdir))
    assert status == 0, output
    assert "2 processes x 32" in output
    assert output.count("step 3/3") == 1  # one progress line per step: rank 0's
    assert sorted(os.listdir(logdir)) == [".minislim.lock", "minislim.json", "model.ckpt-2.npz", "model.ckpt-3.npz",
                                          "train_log.jsonl"]
    with open(logdir / "train_log.jsonl") as log:
        assert len(log.readlines()) == 3

    status, output, _ = mpiexec(2, "-m", "minislim", "train", "--net", "lenet", "--train-size", "128",
                                "--batch-size", "63", "--steps", "1", "--logdir", str(tmp_path / "odd"))
    assert status == 2, output  # a usage error, as with one process
    assert output.count("--batch-size 63") == 1 and "2 processes" in output  # said once, by rank 0


def test_a_logdir_busy_on_rank_0_ends_the_job_instead_of_leaving_rank_1_waiting(tmp_path):
    from minislim.learning.run_guard import lock_logdir
    logdir = tmp_path / "busy"
    logdir.mkdir()
    with lock_logdir(str(logdir)):  # another trainer (this test process) holds the logdir
        status, output, seconds = mpiexec(2, "-m", "minislim", "train", "--net", "lenet", "--train-size", "128",
                                          "--batch-size", "64", "--steps", "1", "--logdir", str(logdir), timeout=90)
    assert status == 1, output
    assert "minislim train (rank 0 of 2): error: logdir" in output and "is in use by another trainer" in output
    assert "Traceback" not in output  # a user's situation, not a bug
    assert seconds < 60
