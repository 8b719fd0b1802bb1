"""Losses, schedules, optimizers, gradient helpers and optimize_loss against TF / tf_slim."""
import numpy as np
import pytest

import minislim as slim

pytest.importorskip("tf_slim")


def test_huber_loss(tf1):
    """losses.huber_loss: TF 1's (labels, predictions, weights, delta), per-example weights"""
    tf, _, sess = tf1
    rng = np.random.default_rng(0)
    y, p, w = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 3, rng.uniform(0, 2, (5, 1))
    w[1] = 0
    expected = sess.run(tf.compat.v1.losses.huber_loss(y, p, weights=w, delta=1.3))
    assert slim.losses.huber_loss(y, slim.tensor(p), weights=w, delta=1.3).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("weights", [1.0, 2.5, [1.0, 0.0, 3.0]])
def test_mean_pairwise_squared_error(tf1, weights):
    """losses.mean_pairwise_squared_error: summed over the batch, scalar or per-example weights"""
    tf, tfs, sess = tf1
    rng = np.random.default_rng(1)
    p, y = rng.normal(size=(3, 2, 2)).astype(np.float32), rng.normal(size=(3, 2, 2)).astype(np.float32)
    expected = sess.run(tfs.losses.mean_pairwise_squared_error(tf.constant(p), tf.constant(y),
                                                                weights=np.asarray(weights, np.float32)))
    ours = slim.losses.mean_pairwise_squared_error(p, y, weights=weights)
    assert ours.item() == pytest.approx(expected, rel=1e-5)
    assert len(slim.losses.get_losses()) == len(tfs.losses.get_losses()) == 1


@pytest.mark.parametrize("reduction", ["SUM", "MEAN", "SUM_OVER_BATCH_SIZE", "SUM_BY_NONZERO_WEIGHTS", "NONE"])
def test_compute_weighted_loss_reductions(tf1, reduction):
    """losses.compute_weighted_loss: each of TF 1's reductions"""
    tf, _, sess = tf1
    rng = np.random.default_rng(2)
    losses, w = rng.uniform(0, 2, (4, 3)), np.array([[1.0], [0.0], [2.0], [0.5]])
    expected = sess.run(tf.compat.v1.losses.compute_weighted_loss(
        losses, w, reduction=getattr(tf.compat.v1.losses.Reduction, reduction)))
    ours = slim.losses.compute_weighted_loss(slim.tensor(losses), w, reduction=getattr(slim.losses.Reduction, reduction))
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6)


def test_existing_losses(tf1):
    """losses: softmax/sigmoid cross-entropy (label smoothing), log_loss, cosine_distance, absolute_difference"""
    tf, tfs, sess = tf1
    rng = np.random.default_rng(3)
    z, onehot = rng.normal(size=(4, 3)).astype(np.float32), np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    p = rng.uniform(0.05, 0.95, (4, 3)).astype(np.float32)
    u = rng.normal(size=(4, 3)).astype(np.float32)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    cases = [(slim.losses.softmax_cross_entropy(z, onehot, label_smoothing=0.1),
              tfs.losses.softmax_cross_entropy(tf.constant(z), tf.constant(onehot), label_smoothing=0.1)),
             (slim.losses.sigmoid_cross_entropy(z, onehot, weights=2.0),
              tfs.losses.sigmoid_cross_entropy(tf.constant(z), tf.constant(onehot), weights=2.0)),
             (slim.losses.log_loss(p, onehot), tfs.losses.log_loss(tf.constant(p), tf.constant(onehot))),
             (slim.losses.cosine_distance(u, u[::-1].copy(), axis=1),
              tfs.losses.cosine_distance(tf.constant(u), tf.constant(u[::-1].copy()), dim=1)),
             (slim.losses.absolute_difference(p, z), tfs.losses.absolute_difference(tf.constant(p), tf.constant(z)))]
    for ours, theirs in cases:
        assert ours.item() == pytest.approx(sess.run(theirs), rel=1e-5)


SCHEDULES = [
    ("exponential_decay", dict(decay_steps=2.5, decay_rate=0.5), dict(decay_steps=2.5, decay_rate=0.5)),
    ("exponential_decay", dict(decay_steps=3, decay_rate=0.7, staircase=True),
     dict(decay_steps=3, decay_rate=0.7, staircase=True)),
    ("polynomial_decay", dict(decay_steps=6, end_learning_rate=0.01, power=2.0),
     dict(decay_steps=6, end_learning_rate=0.01, power=2.0)),
    ("polynomial_decay", dict(decay_steps=4, cycle=True), dict(decay_steps=4, cycle=True)),
    ("natural_exp_decay", dict(decay_steps=3, decay_rate=0.4), dict(decay_steps=3, decay_rate=0.4)),
    ("natural_exp_decay", dict(decay_steps=3, decay_rate=0.4, staircase=True),
     dict(decay_steps=3, decay_rate=0.4, staircase=True)),
    ("inverse_time_decay", dict(decay_steps=2, decay_rate=0.5), dict(decay_steps=2, decay_rate=0.5)),
    ("inverse_time_decay", dict(decay_steps=2, decay_rate=0.5, staircase=True),
     dict(decay_steps=2, decay_rate=0.5, staircase=True)),
]


@pytest.mark.parametrize("name, ours_kwargs, tf_kwargs", SCHEDULES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)])
def test_schedules(tf1, name, ours_kwargs, tf_kwargs):
    """learning-rate schedules: TF 1's tf.train.*_decay at steps 0..13"""
    tf, _, sess = tf1
    step = tf.compat.v1.placeholder(tf.int64, [])
    rate = getattr(tf.compat.v1.train, name)(0.1, step, **tf_kwargs)
    schedule = getattr(slim.optimizers, name)(0.1, **ours_kwargs)
    for s in range(14):
        assert schedule(s) == pytest.approx(sess.run(rate, {step: s}), rel=1e-6), s


def test_piecewise_constant_boundaries(tf1):
    """piecewise_constant: values[i] up to and including boundaries[i]"""
    tf, _, sess = tf1
    step = tf.compat.v1.placeholder(tf.int64, [])
    rate = tf.compat.v1.train.piecewise_constant(step, [3, 7], [1.0, 0.5, 0.1])
    schedule = slim.optimizers.piecewise_constant([3, 7], [1.0, 0.5, 0.1])
    assert [schedule(s) for s in range(10)] == pytest.approx([sess.run(rate, {step: s}) for s in range(10)])


@pytest.mark.parametrize("name, ours, theirs", [
    ("Adagrad", lambda: slim.optimizers.Adagrad(0.3, initial_accumulator_value=0.2),
     lambda tf: tf.compat.v1.train.AdagradOptimizer(0.3, initial_accumulator_value=0.2)),
    ("Adam", lambda: slim.optimizers.Adam(0.1), lambda tf: tf.compat.v1.train.AdamOptimizer(0.1)),
    ("RMSProp", lambda: slim.optimizers.RMSProp(0.1, momentum=0.5),
     lambda tf: tf.compat.v1.train.RMSPropOptimizer(0.1, momentum=0.5)),
])
def test_optimizers_over_several_steps(tf1, name, ours, theirs):
    """optimizers: the variable and the slots after 4 steps of the same gradients"""
    tf, _, sess = tf1
    rng = np.random.default_rng(4)
    start, grads = rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=(4, 3, 2)).astype(np.float32)
    var = tf.compat.v1.Variable(start, name="w")
    g = tf.compat.v1.placeholder(tf.float32, [3, 2])
    opt = theirs(tf)
    apply = opt.apply_gradients([(g, var)])
    sess.run(tf.compat.v1.global_variables_initializer())
    w = slim.variable("w", shape=[3, 2], initializer=slim.constant_initializer(start))
    mine = ours()
    for grad in grads:
        sess.run(apply, {g: grad})
        mine.apply_gradients([(grad, w)])
    np.testing.assert_allclose(w.numpy(), sess.run(var), rtol=2e-5, atol=1e-6)
    for slot in opt.get_slot_names():
        if slot in mine.get_slot_names():
            np.testing.assert_allclose(mine.get_slot(w, slot).numpy(), sess.run(opt.get_slot(var, slot)), rtol=2e-5)


def test_clip_and_multiply_gradients(tf1):
    """learning.clip_gradient_norms (per tensor) and learning.multiply_gradients (by variable or name)"""
    tf, tfs, sess = tf1
    rng = np.random.default_rng(5)
    ga, gb = rng.normal(size=(3,)).astype(np.float32) * 4, rng.normal(size=(2, 2)).astype(np.float32)
    va, vb = tf.compat.v1.Variable(np.zeros(3, np.float32), name="a"), tf.compat.v1.Variable(
        np.zeros((2, 2), np.float32), name="b")
    pairs_tf = [(tf.constant(ga), va), (tf.constant(gb), vb)]
    clipped_tf = sess.run([g for g, _ in tfs.learning.clip_gradient_norms(pairs_tf, 1.5)])
    multiplied_tf = sess.run([g for g, _ in tfs.learning.multiply_gradients(pairs_tf, {"a": 3.0, vb: 0.5})])
    a, b = slim.variable("a", shape=[3]), slim.variable("b", shape=[2, 2])
    pairs = [(ga, a), (gb, b)]
    for ours, theirs in zip(slim.learning.clip_gradient_norms(pairs, 1.5), clipped_tf):
        np.testing.assert_allclose(ours[0], theirs, rtol=1e-6)
    for ours, theirs in zip(slim.learning.multiply_gradients(pairs, {"a": 3.0, b: 0.5}), multiplied_tf):
        np.testing.assert_allclose(ours[0], theirs, rtol=1e-6)


@pytest.mark.parametrize("optimizer", ["SGD", "Momentum", "Adam", "Adagrad"])
def test_optimize_loss(tf1, optimizer):
    """optimize_loss: 3 steps with a named optimizer, global-norm clipping, a decay function; the learning_rate variable"""
    tf, tfs, sess = tf1
    x = np.array([[1.0, 2.0], [0.5, -1.0]], np.float32)
    y = np.array([3.0, 0.0], np.float32)
    w_tf = tf.compat.v1.get_variable("w", initializer=np.array([0.1, -0.2], np.float32))
    step_tf = tf.compat.v1.train.get_or_create_global_step()
    loss_tf = tf.reduce_mean((tf.linalg.matvec(tf.constant(x), w_tf) - y) ** 2)
    decay = lambda lr, gs: lr * 0.5 ** tf.cast(gs, tf.float32)  # noqa: E731
    train_tf = tfs.optimize_loss(loss_tf, step_tf, 0.2, optimizer, clip_gradients=1.0, learning_rate_decay_fn=decay)
    sess.run(tf.compat.v1.global_variables_initializer())
    w = slim.variable("w", shape=[2], initializer=slim.constant_initializer([0.1, -0.2]))
    step = slim.get_or_create_global_step()
    for _ in range(3):
        sess.run(train_tf)
        loss = (((slim.tensor(x) * w).sum(axis=1) - slim.tensor(y)) ** 2).mean()
        slim.optimize_loss(loss, step, 0.2, optimizer, clip_gradients=1.0,
                           learning_rate_decay_fn=lambda lr, gs: lr * 0.5 ** gs)
    np.testing.assert_allclose(w.numpy(), sess.run(w_tf), rtol=1e-5, atol=1e-6)
    assert int(step.numpy()) == sess.run(step_tf) == 3
    tf_names = sorted(v.op.name for v in tf.compat.v1.global_variables() if "OptimizeLoss/learning_rate" in v.op.name)
    assert [v.name for v in slim.get_variables("OptimizeLoss")] == tf_names == ["OptimizeLoss/learning_rate"]
