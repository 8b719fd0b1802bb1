"""run_guard and train(): the logdir lock, SIGINT/SIGTERM, a second signal during a save,
pruning files that vanished, the training log cut back on resume, a full disk (issue 12)."""
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minislim as slim
from minislim import checkpoint
from minislim.learning import run_guard
from minislim.learning.run_guard import Interrupted, LogdirBusy, LogdirError, lock_logdir, truncate_log
from minislim.learning.train import train

train_module = sys.modules["minislim.learning.train"]  # the module (slim.learning.train is the function)

ROOT = str(Path(__file__).resolve().parents[2])
ENV = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
posix_only = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def tiny_op(hook=None):
    """A one-variable model; ``hook(step)`` runs inside each step's loss."""
    calls = []

    def loss_fn(x):
        calls.append(1)
        if hook is not None:
            hook(len(calls))
        w = slim.variable("w", shape=[4], initializer=slim.zeros_initializer())
        return ((x * w - 1.0) ** 2).mean()
    return slim.learning.create_train_op(loss_fn, slim.optimizers.Momentum(0.1, 0.9))


DATA = [(np.ones(4, np.float32),)]


@pytest.mark.parametrize("signum, said, code", [(signal.SIGINT, "Interrupted", 130),
                                                 (signal.SIGTERM, "Terminated (SIGTERM)", 143)])
def test_sigint_and_sigterm_save_and_raise_interrupted(signum, said, code, tmp_path):
    def hook(step):
        if step == 5:
            os.kill(os.getpid(), signum)
    lines = []
    with pytest.raises(Interrupted) as caught:
        train(tiny_op(hook), DATA, tmp_path, number_of_steps=50, log_every_n_steps=0, log_fn=lines.append)
    assert caught.value.exit_code == code and isinstance(caught.value, KeyboardInterrupt)
    assert lines[-1] == f"{said} at step 5: saved {tmp_path / 'model.ckpt-5.npz'}"
    assert checkpoint.read(tmp_path / "model.ckpt-5.npz").global_step == 5
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are put back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_signal_during_the_save_does_not_tear_it(tmp_path, monkeypatch):
    def hook(step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)
    save = train_module.save

    def save_and_get_signalled(path, *args, **kwargs):  # the impatient user presses again
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        return save(path, *args, **kwargs)
    monkeypatch.setattr(train_module, "save", save_and_get_signalled)
    lines = []
    with pytest.raises(Interrupted) as caught:
        train(tiny_op(hook), DATA, tmp_path, number_of_steps=50, log_every_n_steps=0, log_fn=lines.append)
    assert caught.value.exit_code == 130
    assert "SIGTERM again: a checkpoint is being saved; it finishes first" in lines
    assert lines[-1] == f"Interrupted at step 3: saved {tmp_path / 'model.ckpt-3.npz'}"
    assert checkpoint.read(tmp_path / "model.ckpt-3.npz").global_step == 3
    assert sorted(os.listdir(tmp_path)) == [".minislim.lock", "model.ckpt-3.npz"]


def test_pruning_tolerates_checkpoints_that_vanished(tmp_path, monkeypatch):
    listed = train_module.all_checkpoints

    def with_a_ghost(logdir):  # another process removed step 0's file after it was listed
        found = listed(logdir)
        return [(0, os.path.join(logdir, "model.ckpt-0.npz.removed"))] + found if found else found
    monkeypatch.setattr(train_module, "all_checkpoints", with_a_ghost)
    os.mkdir(tmp_path / "model.ckpt-0.npz")  # an old "checkpoint" that is a directory
    train(tiny_op(), DATA, tmp_path, number_of_steps=6, save_interval_steps=1, keep_checkpoint_max=2,
          log_every_n_steps=0, log_fn=lambda line: None)
    assert [step for step, _ in listed(tmp_path)] == [5, 6] and (tmp_path / "model.ckpt-0.npz").is_dir()


def test_the_lock_is_reentrant_in_one_process_and_refuses_another(tmp_path):
    with lock_logdir(tmp_path):
        with lock_logdir(str(tmp_path) + "/"):   # the same directory, spelled differently
            train(tiny_op(), DATA, tmp_path, number_of_steps=2, log_every_n_steps=0, log_fn=lambda line: None)
        holder = json.loads((tmp_path / ".minislim.lock").read_text())
        assert holder["pid"] == os.getpid()
        other = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            from minislim.learning.run_guard import lock_logdir, LogdirBusy
            try:
                with lock_logdir({str(tmp_path)!r}):
                    print("got it")
            except LogdirBusy as error:
                print(error)
            """)], capture_output=True, text=True, env=ENV, timeout=120)
        assert f"is in use by another trainer (pid {os.getpid()} on" in other.stdout, other.stderr
    assert not run_guard._held
    other = subprocess.run([sys.executable, "-c", f"""
from minislim.learning.run_guard import lock_logdir
with lock_logdir({str(tmp_path)!r}):
    print("got it")
"""], capture_output=True, text=True, env=ENV, timeout=120)
    assert other.stdout.strip() == "got it", other.stderr
    assert issubclass(LogdirBusy, LogdirError) and issubclass(LogdirError, OSError)


def test_truncate_log_keeps_one_record_per_step_and_is_atomic(tmp_path, monkeypatch):
    log = tmp_path / "train_log.jsonl"
    records = [{"step": s, "loss": 1.0 / s} for s in (1, 2, 3, 4, 5, 6)]
    log.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"step": 7, "lo')
    original = log.read_bytes()

    def fail(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        truncate_log(log, 4)
    assert log.read_bytes() == original and sorted(os.listdir(tmp_path)) == ["train_log.jsonl"]
    monkeypatch.undo()
    assert truncate_log(log, 4) == 3
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4]
    assert truncate_log(log, 4) == 0 and truncate_log(tmp_path / "absent.jsonl", 0) == 0


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import minislim as slim

    def loss_fn(x):
        w = slim.variable("w", shape=[256, 256], initializer=slim.zeros_initializer())  # 256 KB
        return ((x @ w - 1.0) ** 2).mean()

    x = np.ones((2, 256), np.float32)
    op = slim.learning.create_train_op(loss_fn, slim.optimizers.Momentum(0.01, 0.9))
    try:
        slim.learning.train(op, [(x,)], sys.argv[1], number_of_steps=int(sys.argv[2]), save_interval_steps=2,
                            log_every_n_steps=0, log_fn=lambda line: None)
    except slim.learning.run_guard.LogdirError as error:
        print(error)
        sys.exit(1)
""")


@posix_only
def test_a_file_size_limit_is_one_error_and_the_last_checkpoint_survives(tmp_path):
    """``ulimit -f``: writes past the limit fail with EFBIG (Python ignores SIGXFSZ)."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    logdir = tmp_path / "run"
    first = subprocess.run([sys.executable, str(script), str(logdir), "2"], capture_output=True, text=True,
                           env=ENV, timeout=120)
    assert first.returncode == 0, first.stderr
    size = os.path.getsize(logdir / "model.ckpt-2.npz")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, size // 2))
    second = subprocess.run([sys.executable, str(script), str(logdir), "4"], capture_output=True, text=True,
                            env=ENV, timeout=120, preexec_fn=limit)
    assert second.returncode == 1 and second.stderr == "", second.stderr
    assert second.stdout.strip() == (f"cannot save checkpoint {logdir / 'model.ckpt-4.npz'}: {logdir / 'model.ckpt-4.npz'}"
                                     f": File too large; the newest checkpoint is {logdir / 'model.ckpt-2.npz'}")
    assert sorted(os.listdir(logdir)) == [".minislim.lock", "model.ckpt-2.npz"]
    assert checkpoint.read(logdir / "model.ckpt-2.npz").global_step == 2


def test_unusable_logdirs_raise_logdir_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(LogdirError, match="is a file, not a directory"):
        train(tiny_op(), DATA, tmp_path / "file", number_of_steps=1)
    with pytest.raises(LogdirError, match="cannot create logdir .*file/sub: .*Not a directory"):
        train(tiny_op(), DATA, tmp_path / "file" / "sub", number_of_steps=1)


def test_a_second_signal_during_a_step_cuts_it_and_saves_the_last_whole_step(tmp_path):
    def hook(step):  # inside step 3's loss: Ctrl-C, then Ctrl-C again before the step ends
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
    lines = []
    with pytest.raises(Interrupted) as caught:
        train(tiny_op(hook), DATA, tmp_path, number_of_steps=50, log_every_n_steps=0, log_fn=lines.append)
    assert caught.value.exit_code == 130
    assert lines[-1] == f"Interrupted at step 2: saved {tmp_path / 'model.ckpt-2.npz'}"
    assert checkpoint.read(tmp_path / "model.ckpt-2.npz").global_step == 2
