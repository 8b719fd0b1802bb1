"""The command line against a hostile user and a flaky machine (issue 12): signals, a second
trainer, eval while training, full disks, unusable logdirs, directories named like
checkpoints, data errors, absurd numbers. Each is one line on stderr and an exit code,
never a traceback, and the last good checkpoint survives."""
import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minislim import checkpoint, cli

from test_cli import TINY, run, write_cifar_dir, write_idx

ROOT = str(Path(__file__).resolve().parents[2])
ENV = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
posix_only = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def read_log(logdir):
    with open(os.path.join(logdir, "train_log.jsonl")) as f:
        return [json.loads(line)["step"] for line in f]


def one_line(err):
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --- 1, 2: Ctrl-C and SIGTERM ---------------------------------------------------------------

@posix_only
@pytest.mark.parametrize("signum, code, said", [(signal.SIGINT, 130, "Interrupted"),
                                                 (signal.SIGTERM, 143, "Terminated (SIGTERM)")])
def test_a_signal_saves_prints_one_line_and_exits_128_plus_its_number(signum, code, said, tmp_path):
    data_dir = write_cifar_dir(str(tmp_path / "data"))
    logdir = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "minislim", "train", "--net", "lenet", "--data-dir", data_dir,
                              "--steps", "100000", "--log-every", "1000", "--train-size", "48", "--batch-size",
                              "16", "--logdir", str(logdir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=ENV, cwd=ROOT)
    deadline = time.monotonic() + 120
    while not (logdir / "train_log.jsonl").exists() or len(read_log(logdir)) < 4:
        assert time.monotonic() < deadline and child.poll() is None, child.communicate()
        time.sleep(0.05)
    child.send_signal(signum)
    out, err = child.communicate(timeout=120)
    assert child.returncode == code, (out, err)
    assert "Traceback" not in err and err == ""
    last = out.strip().splitlines()[-1]
    step = int(last.split("at step ")[1].split(":")[0])
    assert last == f"{said} at step {step}: saved {logdir / f'model.ckpt-{step}.npz'}"
    assert checkpoint.read(logdir / f"model.ckpt-{step}.npz").global_step == step
    assert read_log(logdir) == list(range(1, step + 1))


# --- 3: a resumed run's log ------------------------------------------------------------------

def test_a_resumed_run_logs_each_step_once(tmp_path, capsys):
    data_dir = write_cifar_dir(str(tmp_path / "data"))
    logdir = tmp_path / "run"
    args = ["train", "--net", "lenet", "--data-dir", data_dir, *TINY, "--logdir", str(logdir)]
    assert run(args + ["--steps", "6"], capsys)[0] == 0
    # killed after step 6 before its checkpoint was written, and mid-way through a record
    os.remove(logdir / "model.ckpt-6.npz")
    with open(logdir / "train_log.jsonl", "a") as f:
        f.write('{"step": 7, "lo')
    code, out, _ = run(args + ["--steps", "8"], capsys)
    assert code == 0 and "Resumed from" in out and "global step 3" in out
    assert read_log(logdir) == [1, 2, 3, 4, 5, 6, 7, 8]


# --- 4: two trainers on one logdir -------------------------------------------------------------

HOLD = """
import sys
from minislim.learning.run_guard import lock_logdir
with lock_logdir(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


@posix_only
def test_a_second_trainer_on_a_logdir_is_one_line_naming_the_first(tmp_path, capsys):
    logdir = tmp_path / "run"
    logdir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(logdir)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", str(logdir)], capsys)
        assert code == 1 and one_line(err), err
        assert f"logdir {logdir} is in use by another trainer (pid {holder.pid} on" in err
        assert checkpoint.all_checkpoints(logdir) == []
    finally:
        holder.kill()  # SIGKILL: the OS releases the lock, there is no stale lock to clean
        holder.wait()
    code, _, err = run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", str(logdir)], capsys)
    assert code == 0, err


# --- 5: eval while training ----------------------------------------------------------------------

def test_eval_reads_the_newest_checkpoint_that_still_exists(tmp_path, capsys, monkeypatch):
    data_dir = write_cifar_dir(str(tmp_path / "data"))
    logdir = tmp_path / "run"
    assert run(["train", "--net", "lenet", "--data-dir", data_dir, *TINY, "--steps", "9",
                "--logdir", str(logdir)], capsys)[0] == 0
    assert [s for s, _ in checkpoint.all_checkpoints(logdir)] == [3, 6, 9]
    load_split = cli.load_split

    def slow_load(*args, **kwargs):  # the trainer prunes the newest while eval loads the data
        os.remove(logdir / "model.ckpt-9.npz")
        return load_split(*args, **kwargs)
    monkeypatch.setattr(cli, "load_split", slow_load)
    code, out, err = run(["eval", "--logdir", str(logdir), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["global_step"] == 6
    monkeypatch.setattr(cli, "load_split", load_split)

    evaluate_once = cli.evaluation.evaluate_once

    def pruned_while_reading(path, *args, **kwargs):  # ... or between choosing and reading it
        if path.endswith("model.ckpt-6.npz"):
            os.remove(path)
        return evaluate_once(path, *args, **kwargs)
    monkeypatch.setattr(cli.evaluation, "evaluate_once", pruned_while_reading)
    code, out, err = run(["eval", "--logdir", str(logdir), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["global_step"] == 3


# --- 6: a full disk --------------------------------------------------------------------------------

def test_a_full_disk_is_one_line_and_the_last_checkpoint_survives(tmp_path, capsys, monkeypatch):
    data_dir = write_cifar_dir(str(tmp_path / "data"))
    logdir = tmp_path / "run"
    args = ["train", "--net", "lenet", "--data-dir", data_dir, *TINY, "--logdir", str(logdir)]
    assert run(args + ["--steps", "3"], capsys)[0] == 0
    fsync = os.fsync

    def full(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".model.ckpt-6"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return fsync(fd)
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run(args + ["--steps", "6"], capsys)
    assert code == 1 and one_line(err), err
    assert f"cannot save checkpoint {logdir / 'model.ckpt-6.npz'}" in err and "No space left on device" in err
    assert f"the newest checkpoint is {logdir / 'model.ckpt-3.npz'}" in err
    assert sorted(os.listdir(logdir)) == [".minislim.lock", "minislim.json", "model.ckpt-3.npz", "train_log.jsonl"]
    assert checkpoint.read(logdir / "model.ckpt-3.npz").global_step == 3


def test_a_log_that_cannot_be_written_is_one_line(tmp_path, capsys, monkeypatch):
    logdir = tmp_path / "run"

    class FullLog(cli.TrainLog):
        def __init__(self, log_file, optimizer):
            super().__init__(log_file, optimizer)
            self.log_file = open("/dev/full", "w") if os.path.exists("/dev/full") else pytest.skip("needs /dev/full")
    monkeypatch.setattr(cli, "TrainLog", FullLog)
    code, _, err = run(["train", "--net", "lenet", "--steps", "2", *TINY, "--logdir", str(logdir)], capsys)
    assert code == 1 and one_line(err), err
    assert "cannot write the training log: /dev/full: No space left on device" in err


# --- 7: unusable logdirs ---------------------------------------------------------------------------------

def test_unusable_logdirs_are_one_line_naming_the_path(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for logdir, reason in ((a_file / "x", f"cannot create logdir {a_file / 'x'}: "),
                           (dangling, f"logdir {dangling} is a symbolic link to '{tmp_path / 'nowhere'}', "
                                      "which does not exist")):
        code, _, err = run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", str(logdir)], capsys)
        assert code == 1 and one_line(err) and reason in err, err


def test_a_logdir_that_refuses_the_lock_file_is_one_line(tmp_path, capsys, monkeypatch):
    logdir = tmp_path / "run"
    open_ = os.open

    def refuse(path, *args, **kwargs):  # what a read-only directory answers (root is never refused)
        if str(path).endswith(".minislim.lock"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return open_(path, *args, **kwargs)
    monkeypatch.setattr(os, "open", refuse)
    code, _, err = run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", str(logdir)], capsys)
    assert code == 1 and one_line(err), err
    assert f"cannot lock logdir {logdir}: {logdir / '.minislim.lock'}: Permission denied" in err


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root may write anywhere")
def test_a_read_only_logdir_is_one_line(tmp_path, capsys):
    logdir = tmp_path / "run"
    logdir.mkdir()
    logdir.chmod(0o555)
    try:
        code, _, err = run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", str(logdir)], capsys)
    finally:
        logdir.chmod(0o755)
    assert code == 1 and one_line(err) and "Permission denied" in err, err


# --- 8: a directory named like a checkpoint ----------------------------------------------------------------

def test_directories_named_like_checkpoints_are_not_checkpoints(tmp_path, capsys):
    data_dir = write_cifar_dir(str(tmp_path / "data"))
    logdir = tmp_path / "run"
    args = ["train", "--net", "lenet", "--data-dir", data_dir, *TINY, "--logdir", str(logdir)]
    assert run(args + ["--steps", "3"], capsys)[0] == 0
    (logdir / "model.ckpt-99.npz").mkdir()   # as the newest (as an old one, when pruning: test_run_guard.py)
    code, out, err = run(["eval", "--logdir", str(logdir), "--json"], capsys)
    assert code == 0 and json.loads(out)["global_step"] == 3, err
    code, out, err = run(args + ["--steps", "6"], capsys)
    assert code == 0 and "global step 3" in out, err
    assert [s for s, _ in checkpoint.all_checkpoints(logdir)] == [3, 6] and (logdir / "model.ckpt-99.npz").is_dir()


# --- 9: memory bombs in checkpoints ----------------------------------------------------------------------

def lying_npz(path, shape="(1000000000000,)"):
    """A 250-byte npz whose one .npy member's header claims ``shape`` float32s."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros(3, np.float32))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", buffer.getvalue().replace(b"(3,)", shape.encode()))
    return path


def test_eval_of_a_checkpoint_whose_header_lies_is_one_line(tmp_path, capsys):
    data_dir = write_cifar_dir(str(tmp_path / "data"))
    logdir = tmp_path / "run"
    assert run(["train", "--net", "lenet", "--data-dir", data_dir, "--steps", "1", *TINY, "--logdir", str(logdir)],
               capsys)[0] == 0
    bomb = lying_npz(tmp_path / "bomb.npz")
    code, _, err = run(["eval", "--logdir", str(logdir), "--checkpoint", str(bomb)], capsys)
    assert code == 1 and one_line(err) and "header says shape (1000000000000,)" in err, err


# --- 12, 13, 14: data errors at load time, --seed, summary sizes ---------------------------------------

@pytest.mark.parametrize("labels, images, message", [
    (np.r_[np.arange(31) % 10, 200], (32, 28, 28), "example 31 has label 200, expected 0-9"),
    (np.zeros(0), (0, 28, 28), "holds no images"),
])
def test_mnist_data_errors_are_found_when_the_data_is_loaded(labels, images, message, tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for prefix in ("train", "t10k"):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", np.zeros(images))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    code, _, err = run(["train", "--net", "lenet", "--dataset", "mnist", "--data-dir", str(folder), "--steps", "1",
                        "--batch-size", "16", "--logdir", str(tmp_path / "run")], capsys)
    assert code == 1 and one_line(err) and message in err and str(folder) in err, err


def test_check_split_catches_what_a_loader_let_through():
    with pytest.raises(cli.datasets.DatasetError, match="d: train example 1 has label 10, expected 0-9"):
        cli.check_split(np.zeros((2, 4, 4, 1), np.uint8), np.array([0, 10]), list("0123456789"), "mnist", "d", "train")
    with pytest.raises(cli.datasets.DatasetError, match="the embedded cifar10 subset: the test split holds no"):
        cli.check_split(np.zeros((0, 4, 4, 3), np.uint8), np.zeros(0), list("0123456789"), "cifar10", None, "test")


@pytest.mark.parametrize("args, message", [
    (["train", "--net", "lenet", "--seed", "-1"], "--seed must be an integer in 0 .. 2**32-1, got -1"),
    (["summary", "--net", "lenet", "--num-classes", "1000000000000"], "--num-classes must be at most 100000"),
    (["summary", "--net", "lenet", "--image-size", "1000000"], "--image-size must be at most 512"),
    (["summary", "--net", "lenet", "--channels", "1000000000"], "--channels must be at most 256"),
])
def test_absurd_numbers_are_usage_errors(args, message, tmp_path, capsys):
    code, _, err = run(args + (["--logdir", str(tmp_path / "run")] if args[0] == "train" else []), capsys)
    assert code == 2 and one_line(err) and message in err, err


def test_eval_of_a_logdir_that_is_a_file_or_missing_says_so(tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    for logdir, what in ((tmp_path / "a_file", "is a file, not a directory"), (tmp_path / "nowhere", "does not exist")):
        code, _, err = run(["eval", "--logdir", str(logdir)], capsys)
        assert code == 2 and one_line(err) and f"logdir {logdir} {what}" in err, err
