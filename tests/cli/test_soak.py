"""Soak (slow): a tiny net trains for many steps with a checkpoint every 10 steps while a
second process evaluates the newest checkpoint every 100 steps. Every eval succeeds, the
trainer's file descriptors and memory do not grow, and the logdir ends holding exactly
the kept checkpoints (issue 12)."""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from minislim import checkpoint

ROOT = str(Path(__file__).resolve().parents[2])
ENV = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
STEPS = int(os.environ.get("MINISLIM_SOAK_STEPS", "2000"))
KEEP = 5

SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    import minislim as slim
    from minislim import cli

    mode, logdir, handshake = sys.argv[1], sys.argv[2], sys.argv[3]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 16)).astype(np.float32)
    y = (x @ rng.standard_normal((16, 4))).argmax(1)

    def model(images):
        hidden = slim.fully_connected(images, 32, scope="fc1")
        return slim.fully_connected(hidden, 4, activation_fn=None, scope="logits")

    def wait_for(path, content, timeout=120):
        deadline = time.monotonic() + timeout
        while not (os.path.exists(path) and open(path).read() == content):
            if time.monotonic() > deadline:
                raise SystemExit(f"{mode}: no {content!r} in {path} after {timeout} s")
            time.sleep(0.002)

    def write(path, content):
        with open(path + ".tmp", "w") as f:
            f.write(content)
        os.replace(path + ".tmp", path)

    if mode == "train":
        def loss_fn(images, labels):
            slim.losses.sparse_softmax_cross_entropy(model(images), labels)
            return slim.losses.get_total_loss()
        op = slim.learning.create_train_op(loss_fn, slim.optimizers.Momentum(0.05, 0.9))

        def log(line):  # every 100 steps: ask the evaluator for an eval, go on once it has started
            step = int(line.split()[1].split("/")[0]) if line.startswith("step ") else None
            if step:
                write(handshake + ".request", str(step))
                wait_for(handshake + ".ack", str(step))
        slim.learning.train(op, slim.data.batches(x, y, batch_size=32, seed=0), logdir,
                            number_of_steps=int(sys.argv[4]), save_interval_steps=10, save_interval_secs=None,
                            keep_checkpoint_max=int(sys.argv[5]), log_every_n_steps=100, log_fn=log)
        write(handshake + ".request", "done")
    else:
        def eval_fn(images, labels):
            return {"accuracy": (model(images).data, labels)}

        def evaluate(path):
            with slim.Graph().as_default():
                return slim.evaluation.evaluate_once(path, eval_fn, [(x, y)],
                                                     {"accuracy": slim.metrics.Accuracy()}, log_fn=None)
        seen = None
        while True:
            while not os.path.exists(handshake + ".request") or open(handshake + ".request").read() == seen:
                time.sleep(0.002)
            seen = open(handshake + ".request").read()
            if seen == "done":
                break
            write(handshake + ".ack", seen)
            path, result = cli.evaluate_newest(logdir, evaluate)
            print(json.dumps({"asked_at": int(seen), "step": result["global_step"],
                              "accuracy": result["accuracy"]}), flush=True)
""")


def fds_and_rss(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return fds, rss


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")
def test_soak_training_with_concurrent_evals(tmp_path):
    script = tmp_path / "soak.py"
    script.write_text(SCRIPT)
    logdir, handshake = tmp_path / "run", str(tmp_path / "handshake")
    evaluator = subprocess.Popen([sys.executable, str(script), "eval", str(logdir), handshake],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    trainer = subprocess.Popen([sys.executable, str(script), "train", str(logdir), handshake, str(STEPS), str(KEEP)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    samples = []  # (step, open fds, resident KB) of the trainer
    deadline = time.monotonic() + 600
    try:
        while trainer.poll() is None:
            assert time.monotonic() < deadline, "the soak did not finish in 10 minutes"
            found = checkpoint.all_checkpoints(logdir)
            try:
                samples.append((found[-1][0] if found else 0, *fds_and_rss(trainer.pid)))
            except (FileNotFoundError, ProcessLookupError, StopIteration):  # it just ended
                pass
            time.sleep(0.05)
        _, train_err = trainer.communicate()
        out, eval_err = evaluator.communicate(timeout=120)
    finally:
        for process in (trainer, evaluator):
            if process.poll() is None:
                process.kill()
    assert trainer.returncode == 0, train_err
    assert evaluator.returncode == 0, eval_err

    evals = [json.loads(line) for line in out.splitlines()]
    assert [e["asked_at"] for e in evals] == list(range(100, STEPS + 1, 100))  # every one succeeded
    assert all(e["step"] >= e["asked_at"] - 10 * KEEP for e in evals)  # a recent checkpoint each time

    warm = [s for s in samples if s[0] >= STEPS // 5]
    assert len(warm) >= 10, f"too few samples after warm-up: {len(samples)}"
    print(f"soak: {STEPS} steps, {len(evals)} evals, {len(warm)} samples after warm-up: open fds "
          f"{min(s[1] for s in warm)}-{max(s[1] for s in warm)} (first {warm[0][1]}), resident memory "
          f"{warm[0][2]} KB first, {max(s[2] for s in warm)} KB at most")  # the figures, with pytest -s
    assert max(fds for _, fds, _ in warm) <= warm[0][1] + 2, warm  # no descriptor leaks (a save may be open)
    assert max(rss for _, _, rss in warm) <= 1.10 * warm[0][2], (warm[0], max(warm, key=lambda s: s[2]))

    expected = [f"model.ckpt-{step}.npz" for step in range(STEPS - 10 * (KEEP - 1), STEPS + 1, 10)]
    assert sorted(os.listdir(logdir)) == sorted([".minislim.lock"] + expected)
