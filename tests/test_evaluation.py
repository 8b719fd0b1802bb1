"""slim.evaluation: evaluate_once against a direct computation; evaluation_loop's waiting."""
import os
import shutil
import threading

import numpy as np
import pytest

import minislim as slim
from minislim.checkpoint import CheckpointError
from minislim.evaluation import evaluate_once, evaluation_loop


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    return (centers[labels] + rng.standard_normal((n, 2)) * 0.5).astype(np.float32), labels


def logits_fn(x, is_training):
    with slim.variable_scope("hidden"):
        w = slim.variable("weights", shape=[2, 8])
        h = slim.nn.relu(x @ w)
    h = slim.nn.dropout(h, keep_prob=0.8, training=is_training, rng=slim.get_rng("dropout"))
    with slim.variable_scope("logits"):
        return h @ slim.variable("weights", shape=[8, 3])


def loss_fn(x, y):
    slim.losses.sparse_softmax_cross_entropy(logits_fn(x, True), y)
    return slim.losses.get_total_loss()


def eval_fn(x, y):
    logits = logits_fn(x, False)
    loss = slim.losses.sparse_softmax_cross_entropy(logits, y, loss_collection=None)
    return {"accuracy": (logits, y), "loss": loss.data, "confusion": (logits, y)}


@pytest.fixture
def logdir(tmp_path):
    with slim.Graph().as_default():
        op = slim.learning.create_train_op(loss_fn, slim.optimizers.Adam(0.05))
        x, y = data()
        slim.learning.train(op, slim.data.batches(x, y, batch_size=32), tmp_path, number_of_steps=30,
                            log_fn=lambda line: None)
    return tmp_path


def metrics():
    return {"accuracy": slim.metrics.Accuracy(), "loss": slim.metrics.Mean(),
            "confusion": slim.metrics.ConfusionMatrix(3)}


def test_evaluate_once_matches_a_direct_computation_with_the_checkpoint_weights(logdir):
    x, y = data(seed=1)
    batches = [(x[i:i + 20], y[i:i + 20]) for i in range(0, len(x), 20)]
    lines = []
    results = evaluate_once(logdir, eval_fn, batches, metrics(), log_fn=lines.append)
    saved = slim.checkpoint.read(logdir)
    hidden = np.maximum(x @ saved.variables["hidden/weights"], 0)
    predictions = (hidden @ saved.variables["logits/weights"]).argmax(1)
    assert results["global_step"] == 30
    assert results["accuracy"] == pytest.approx(np.mean(predictions == y))
    assert results["accuracy"] > 0.9
    assert results["confusion"].sum() == len(y) and np.trace(results["confusion"]) == np.sum(predictions == y)
    assert lines[0].startswith("Evaluated") and "on 5 batches: accuracy" in lines[0]


def test_every_metric_needs_an_output(logdir):
    with pytest.raises(ValueError, match=r"returned nothing for metrics \['confusion'\]"):
        evaluate_once(logdir, lambda x, y: {"accuracy": (logits_fn(x, False), y), "loss": 0.0},
                      [data()], metrics(), log_fn=None)


def test_a_model_variable_missing_from_the_checkpoint_is_an_error(logdir):
    def bigger(x, y):
        with slim.variable_scope("extra"):
            slim.variable("weights", shape=[1])
        return eval_fn(x, y)
    with pytest.raises(CheckpointError, match="(?s)missing from the checkpoint.*extra/weights"):
        evaluate_once(logdir, bigger, [data()], metrics(), log_fn=None)


def test_evaluation_loop_evaluates_each_new_checkpoint_then_times_out(logdir):
    newest = slim.checkpoint.latest_checkpoint(logdir)

    def write_a_new_checkpoint():
        temporary = os.path.join(logdir, "copy.tmp")
        shutil.copy(newest, temporary)
        os.replace(temporary, os.path.join(logdir, "model.ckpt-31.npz"))
    timer = threading.Timer(0.2, write_a_new_checkpoint)
    timer.start()
    lines = []
    try:
        results = evaluation_loop(logdir, eval_fn, [data()], metrics(), eval_interval_secs=0.02, timeout=1.0,
                                  log_fn=lines.append)
    finally:
        timer.cancel()
    evaluated = [line.split()[1] for line in lines if line.startswith("Evaluated")]
    assert [os.path.basename(path) for path in evaluated] == ["model.ckpt-30.npz", "model.ckpt-31.npz"]
    assert len(results) == 2 and results[1]["accuracy"] == results[0]["accuracy"]  # the same weights
    assert lines[-1].startswith("No new checkpoint") and "stops" in lines[-1]


def test_evaluation_loop_stops_after_max_number_of_evaluations(logdir):
    results = evaluation_loop(logdir, eval_fn, [data()], metrics(), eval_interval_secs=10,
                              max_number_of_evaluations=1, log_fn=None)
    assert len(results) == 1


def test_evaluating_an_older_checkpoint_mid_training_leaves_the_training_model_alone(tmp_path):
    """TF-Slim evaluates in a graph of its own; so does evaluate_once (a plain eval_fn)."""
    x, y = data()
    op = slim.learning.create_train_op(loss_fn, slim.optimizers.Adam(0.05))
    slim.learning.train(op, slim.data.batches(x, y, batch_size=32), tmp_path, number_of_steps=10,
                        save_interval_steps=5, log_fn=lambda line: None)
    training = {v.name: v.data.copy() for v in slim.get_variables()}
    results = evaluate_once(tmp_path / "model.ckpt-5.npz", eval_fn, [(x, y)], metrics(), log_fn=None)
    assert results["global_step"] == 5
    after = {v.name: v.data for v in slim.get_variables()}
    assert after.keys() == training.keys() and int(after["global_step"]) == 10
    for name, value in training.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)
    # and the evaluation really used step 5's weights
    saved = slim.checkpoint.read(tmp_path / "model.ckpt-5.npz")
    hidden = np.maximum(x @ saved.variables["hidden/weights"], 0)
    assert results["accuracy"] == pytest.approx(np.mean((hidden @ saved.variables["logits/weights"]).argmax(1) == y))
