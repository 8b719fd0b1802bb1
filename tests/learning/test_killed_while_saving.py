"""A training process killed with SIGKILL while it saves a checkpoint every step, several
times over, never leaves a checkpoint under its final name that fails to load, and each
restart resumes from the newest one."""
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import minislim as slim
from minislim import checkpoint

CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import minislim as slim

    def loss_fn(x):
        with slim.variable_scope("big"):
            w = slim.variable("weights", shape=[512, 512], initializer=slim.zeros_initializer())  # 1 MB
        return ((x @ w - 1.0) ** 2).mean()

    x = np.random.default_rng(0).standard_normal((4, 512)).astype(np.float32)
    op = slim.learning.create_train_op(loss_fn, slim.optimizers.Momentum(0.01, 0.9))
    print("started", flush=True)
    slim.learning.train(op, [(x,)], sys.argv[1], save_interval_steps=1, keep_checkpoint_max=3,
                        log_every_n_steps=0, log_fn=lambda line: print(line, flush=True))
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_during_saves_never_leaves_a_broken_checkpoint(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    logdir = tmp_path / "logdir"
    rng = np.random.default_rng(0)
    steps = []
    for run in range(4):
        child = subprocess.Popen([sys.executable, str(script), str(logdir)], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        assert child.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        while checkpoint.latest_checkpoint(logdir) is None or len(steps) and \
                checkpoint.all_checkpoints(logdir)[-1][0] <= steps[-1]:
            assert time.monotonic() < deadline and child.poll() is None, child.stdout.read()
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the middle of a save, often
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        found = checkpoint.all_checkpoints(logdir)
        assert found, "no checkpoint at all"
        for step, path in found:  # every file under a final name loads and fits the model
            contents = checkpoint.read(path)
            assert contents.global_step == step
            assert contents.variables["big/weights"].shape == (512, 512)
            assert set(contents.slots) == {"big/weights/momentum"}
        steps.append(found[-1][0])
    assert steps == sorted(steps) and steps[-1] > steps[0], steps  # each run resumed and went on
    # the newest checkpoint restores into a fresh model
    with slim.Graph().as_default():
        with slim.variable_scope("big"):
            w = slim.variable("weights", shape=[512, 512])
        checkpoint.restore(checkpoint.latest_checkpoint(logdir), [w, slim.get_or_create_global_step()])
