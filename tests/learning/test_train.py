"""train(): convergence, bit-exact resume, checkpoints, warm start, NaN, Ctrl-C, diagnostics."""
import os
import signal

import numpy as np
import pytest

import minislim as slim
from minislim import checkpoint
from minislim.learning import NonFiniteError, create_train_op, train


def blobs(n=192, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    return (centers[labels] + rng.standard_normal((n, 2)) * 0.5).astype(np.float32), labels


def classifier_loss(x, y):
    with slim.variable_scope("hidden"):
        w = slim.variable("weights", shape=[2, 16], regularizer=slim.l2_regularizer(1e-4))
        b = slim.variable("biases", shape=[16], initializer=slim.zeros_initializer())
        h = slim.nn.relu(x @ w + b)
    h = slim.nn.dropout(h, keep_prob=0.9, rng=slim.get_rng("dropout"))
    with slim.variable_scope("logits"):
        w2 = slim.variable("weights", shape=[16, 3])
        logits = h @ w2
    slim.losses.sparse_softmax_cross_entropy(logits, y)
    return slim.losses.get_total_loss()


class Batches:
    """A plain re-iterable (no state_dict): train must count the batches it consumed."""

    def __init__(self, x, y, size=32):
        self.x, self.y, self.size = x, y, size

    def __iter__(self):
        for i in range(0, len(self.x), self.size):
            yield self.x[i:i + self.size], self.y[i:i + self.size]


def make_op(learning_rate=0.1):
    schedule = slim.optimizers.exponential_decay(learning_rate, decay_steps=20, decay_rate=0.7)
    return create_train_op(classifier_loss, slim.optimizers.Momentum(schedule, 0.9), clip_global_norm=5.0)


def state():
    """Every variable and slot value, by name."""
    return {v.name: v.data.copy() for v in slim.get_variables()}


def run(logdir, steps, data_factory, lines=None, **kwargs):
    """Train in a fresh graph (as a new process would) and return the final state."""
    slim.reset_default_graph()
    op = make_op()
    loss = train(op, data_factory(), logdir, number_of_steps=steps, log_fn=(lines.append if lines is not None
                                                                          else lambda line: None), **kwargs)
    values = state()
    values.update({f"{v.name}/momentum": op.optimizer.get_slot(v, "momentum").data.copy()
                   for v in slim.get_trainable_variables()})
    return loss, values


def pipeline():
    x, y = blobs()
    return slim.data.batches(x, y, batch_size=32, seed=3)


def plain():
    return Batches(*blobs())


def test_tiny_classifier_converges_within_60_steps(tmp_path):
    lines = []
    loss, _ = run(tmp_path, 60, pipeline, lines=lines, log_every_n_steps=20)
    assert loss < 0.35
    assert lines[0].startswith("No checkpoint in") and "from scratch" in lines[0]
    progress = [line for line in lines if line.startswith("step ")]
    assert len(progress) == 3 and "examples/s" in progress[0] and "time left" in progress[0]
    assert progress[-1].startswith("step 60/60  loss")
    assert lines[-1] == f"Finished at step 60; saved {tmp_path / 'model.ckpt-60.npz'}"


@pytest.mark.parametrize("data", [pipeline, plain], ids=["pipeline", "plain-iterable"])
def test_thirty_steps_stop_thirty_more_equals_sixty_bit_for_bit(tmp_path, data):
    # 30 does not divide the 6 batches of an epoch evenly with 45: stop mid-epoch too
    loss_a, once = run(tmp_path / "once", 60, data)
    run(tmp_path / "twice", 45, data)
    lines = []
    loss_b, resumed = run(tmp_path / "twice", 60, data, lines=lines)
    assert lines[0] == f"Resumed from {tmp_path / 'twice' / 'model.ckpt-45.npz'} at global step 45"
    assert loss_a == loss_b
    assert once.keys() == resumed.keys()
    for name in once:
        np.testing.assert_array_equal(once[name], resumed[name], err_msg=name)


def test_resume_in_the_same_process_continues_identically(tmp_path):
    _, once = run(tmp_path / "once", 40, pipeline)
    slim.reset_default_graph()
    op, data = make_op(), pipeline()
    train(op, data, tmp_path / "twice", number_of_steps=20, log_fn=lambda line: None)
    train(op, data, tmp_path / "twice", number_of_steps=40, log_fn=lambda line: None)
    for name, value in state().items():
        np.testing.assert_array_equal(value, once[name], err_msg=name)


def test_checkpoints_by_steps_keep_the_newest(tmp_path):
    run(tmp_path, 25, pipeline, save_interval_steps=5, keep_checkpoint_max=3)
    assert [step for step, _ in checkpoint.all_checkpoints(tmp_path)] == [15, 20, 25]
    saved = checkpoint.read(checkpoint.latest_checkpoint(tmp_path))
    assert saved.global_step == 25 and saved.optimizer["class"] == "Momentum"
    assert {"rng", "data", "loss"} <= set(saved.extra)


def test_nothing_to_do_when_the_checkpoint_is_already_there(tmp_path):
    run(tmp_path, 10, pipeline)
    lines = []
    loss, _ = run(tmp_path, 10, pipeline, lines=lines)
    assert "already reaches number_of_steps=10" in lines[0] and loss is not None


def test_init_fn_warm_starts_and_a_checkpoint_wins_over_it(tmp_path):
    _, pretrained = run(tmp_path / "pretrained", 10, pipeline)
    slim.reset_default_graph()
    op = make_op()
    called = []

    def init_fn():
        called.append(True)
        return slim.assign_from_checkpoint_fn(tmp_path / "pretrained",
                                              slim.get_variables_to_restore(exclude=["logits", "global_step"]))()
    lines = []
    train(op, pipeline(), tmp_path / "finetune", number_of_steps=1, init_fn=init_fn, log_fn=lines.append,
          log_every_n_steps=0)
    assert called and lines[0].startswith("No checkpoint in") and "warm start with init_fn" in lines[0]
    lines.clear()
    train(op, pipeline(), tmp_path / "finetune", number_of_steps=2, init_fn=init_fn, log_fn=lines.append)
    assert len(called) == 1
    assert lines[0].endswith("at global step 1; init_fn not called (a checkpoint in the logdir wins)")


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    x, y = blobs()
    poisoned = x.copy()
    poisoned[4 * 32 + 3, 0] = np.nan  # in the 5th batch
    slim.reset_default_graph()
    op = make_op()
    with pytest.raises(NonFiniteError, match="step 5: the loss is nan.*newest checkpoint is .*model.ckpt-4.npz"):
        train(op, Batches(poisoned, y), tmp_path, number_of_steps=60, save_interval_steps=2,
              log_fn=lambda line: None)
    assert [step for step, _ in checkpoint.all_checkpoints(tmp_path)] == [2, 4]
    slim.reset_default_graph()
    restored = make_op()
    restored.build(x[:32], y[:32])
    assert checkpoint.restore(tmp_path / "model.ckpt-4.npz", slim.get_variables(), restored.optimizer).global_step == 4


def test_ctrl_c_finishes_the_step_saves_and_reraises(tmp_path):
    steps = []

    def interrupting_loss(x, y):
        steps.append(1)
        if len(steps) == 12:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does
        return classifier_loss(x, y)
    slim.reset_default_graph()
    op = create_train_op(interrupting_loss, slim.optimizers.Momentum(
        slim.optimizers.exponential_decay(0.1, decay_steps=20, decay_rate=0.7), 0.9), clip_global_norm=5.0)
    lines = []
    with pytest.raises(KeyboardInterrupt):
        train(op, pipeline(), tmp_path / "run", number_of_steps=20, log_fn=lines.append, log_every_n_steps=0)
    assert lines[-1] == f"Interrupted at step 12: saved {tmp_path / 'run' / 'model.ckpt-12.npz'}"
    assert int(op.global_step.data) == 12
    # the interrupted run, resumed, equals an uninterrupted one
    _, resumed = run(tmp_path / "run", 20, pipeline)
    _, once = run(tmp_path / "once", 20, pipeline)
    for name in once:
        np.testing.assert_array_equal(once[name], resumed[name], err_msg=name)


def test_keyboard_interrupt_from_the_input_saves_the_last_completed_step(tmp_path):
    class Interrupting(Batches):
        def __iter__(self):
            for i, batch in enumerate(super().__iter__()):
                if i == 4:
                    raise KeyboardInterrupt
                yield batch
    slim.reset_default_graph()
    op = make_op()
    with pytest.raises(KeyboardInterrupt):
        train(op, Interrupting(*blobs()), tmp_path, number_of_steps=20, log_fn=lambda line: None)
    saved = checkpoint.read(checkpoint.latest_checkpoint(tmp_path))
    assert saved.global_step == 4 and saved.extra["data"] == {"kind": "count", "epoch": 0, "batch": 4}


def test_diagnostics_table_every_n_steps(tmp_path):
    lines = []
    run(tmp_path, 10, pipeline, lines=lines, diagnostics_every_n_steps=5, log_every_n_steps=0)
    tables = [line for line in lines if line.startswith("diagnostics at step")]
    assert [t.split(" (")[0] for t in tables] == ["diagnostics at step 5", "diagnostics at step 10"]
    header, *rows = tables[-1].splitlines()[1:]
    assert header.split() == ["layer", "grad", "norm", "update/weight", "dead", "ReLU", "note"]
    assert [row.split()[0] for row in rows] == ["hidden", "logits"]
    hidden = rows[0].split()
    assert float(hidden[1]) > 0 and 0 < float(hidden[2]) < 1 and hidden[3].endswith("%")


def test_diagnostics_flag_a_layer_that_does_not_learn(tmp_path):
    slim.reset_default_graph()
    op = create_train_op(classifier_loss, slim.optimizers.SGD(0.1), gradient_multipliers={"hidden/weights": 1e-9,
                                                                                          "hidden/biases": 1e-9})
    lines = []
    train(op, pipeline(), tmp_path, number_of_steps=4, diagnostics_every_n_steps=4, log_fn=lines.append)
    table = next(line for line in lines if line.startswith("diagnostics"))
    hidden_row = next(row for row in table.splitlines() if row.startswith("hidden"))
    assert "vanishing update?" in hidden_row


def layers_loss(x, y):
    with slim.arg_scope([slim.fully_connected], normalizer_fn=slim.batch_norm,
                        weights_regularizer=slim.l2_regularizer(1e-3)):
        h = slim.fully_connected(x, 16, scope="fc1")
        h = slim.dropout(h, 0.8, scope="dropout")
        logits = slim.fully_connected(h, 3, activation_fn=None, normalizer_fn=None, scope="logits")
    slim.losses.sparse_softmax_cross_entropy(logits, y)
    return slim.losses.get_total_loss()


def test_resume_is_bit_exact_with_slim_layers_batch_norm_and_dropout(tmp_path):
    def run_layers(logdir, steps):
        slim.reset_default_graph()
        op = create_train_op(layers_loss, slim.optimizers.Adam(0.01))
        loss = train(op, pipeline(), logdir, number_of_steps=steps, log_fn=lambda line: None)
        return loss, {v.name: v.data.copy() for v in slim.get_variables()}
    loss_a, once = run_layers(tmp_path / "once", 40)
    run_layers(tmp_path / "twice", 17)
    loss_b, resumed = run_layers(tmp_path / "twice", 40)
    assert "fc1/BatchNorm/moving_mean" in once and loss_a == loss_b
    for name in once:
        np.testing.assert_array_equal(once[name], resumed[name], err_msg=name)


def test_save_interval_secs_saves_by_time(tmp_path):
    run(tmp_path, 4, pipeline, save_interval_secs=0, keep_checkpoint_max=None)
    assert [step for step, _ in checkpoint.all_checkpoints(tmp_path)] == [1, 2, 3, 4]


def test_a_one_shot_iterator_ends_training_when_it_runs_out(tmp_path):
    x, y = blobs()
    slim.reset_default_graph()
    lines = []
    loss = train(make_op(), iter(Batches(x, y)), tmp_path, number_of_steps=100, log_fn=lines.append)
    assert lines[-2:] == ["The data is exhausted at step 6",
                          f"Finished at step 6; saved {tmp_path / 'model.ckpt-6.npz'}"]
    assert np.isfinite(loss)
    slim.reset_default_graph()
    with pytest.raises(ValueError, match="data yielded no batch"):
        train(make_op(), [], tmp_path / "empty", number_of_steps=1, log_fn=lines.append)


def test_nothing_to_do_still_gives_the_model_the_checkpoints_values(tmp_path):
    """A notebook re-running its train cell after a restart must get the trained model back."""
    _, trained = run(tmp_path, 10, pipeline)
    lines = []
    _, again = run(tmp_path, 10, pipeline, lines=lines)
    assert "nothing to do; the model holds its values" in lines[0]
    assert again.keys() == trained.keys()
    for name, value in trained.items():
        np.testing.assert_array_equal(again[name], value, err_msg=name)


def test_an_update_that_overflows_is_never_saved(tmp_path):
    """Finite loss and gradients (1000), but a learning rate of 1e38 at step 3 sends a weight to -inf."""
    def steep_loss(x, y):
        w = slim.variable("w", shape=[3], initializer=slim.zeros_initializer())
        return (w * 1000.0).sum()

    slim.reset_default_graph()
    schedule = slim.optimizers.piecewise_constant([1], [0.1, 1e38])  # steps 0, 1: 0.1; then 1e38
    op = create_train_op(steep_loss, slim.optimizers.SGD(schedule))
    with pytest.raises(NonFiniteError, match=r"step 3: the update left non-finite values in .*newest checkpoint "
                                             r"is .*model.ckpt-2.npz"), np.errstate(over="ignore"):
        train(op, Batches(*blobs()), tmp_path, number_of_steps=10, save_interval_steps=1, log_fn=lambda line: None)
    assert [step for step, _ in checkpoint.all_checkpoints(tmp_path)] == [1, 2]


def test_after_step_sees_every_step_with_its_loss_and_the_rate_the_optimizer_used(tmp_path):
    slim.reset_default_graph()
    op, seen = make_op(), []
    loss = train(op, pipeline(), tmp_path, number_of_steps=5, log_fn=lambda line: None,
                 after_step=lambda step, loss: seen.append((step, loss, op.optimizer.last_learning_rate)))
    assert [step for step, _, _ in seen] == [1, 2, 3, 4, 5] and seen[-1][1] == loss
    schedule = op.optimizer.learning_rate
    assert [rate for _, _, rate in seen] == [float(schedule(step - 1)) for step in range(1, 6)]
    assert len({rate for _, _, rate in seen}) == 5  # the schedule decays: each step its own rate


def test_an_exception_in_after_step_stops_training_as_one_from_the_step_would(tmp_path):
    def fail(step, loss):
        if step == 3:
            raise OSError("the hook's disk is full")
    slim.reset_default_graph()
    with pytest.raises(OSError, match="disk is full"):
        train(make_op(), pipeline(), tmp_path, number_of_steps=10, save_interval_steps=2, log_fn=lambda line: None,
              after_step=fail)
    assert [step for step, _ in checkpoint.all_checkpoints(tmp_path)] == [2]
