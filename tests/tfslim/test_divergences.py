"""The divergences issue #19 found, now TF-Slim's behaviour, checked against tf_slim itself."""
import numpy as np
import pytest

import minislim as slim

pytest.importorskip("tf_slim")


def _tf_bn(tf1, x, **kwargs):
    tf, tfs, sess = tf1
    out = tfs.batch_norm(tf.constant(x), decay=0.5, scale=True, scope="bn", is_training=True, **kwargs)
    names = [v.op.name for v in tf.compat.v1.global_variables()]
    sess.run(tf.compat.v1.global_variables_initializer())
    updates = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    y = sess.run([out] + updates)[0]
    moving = sess.run(tf.compat.v1.global_variables(scope="bn/moving_variance")[0])
    return y, names, moving


CASES = [((6, 3), {}), ((2, 3, 3, 3), {}), ((2, 4, 3), {}), ((6, 3), {"fused": False}),
         ((2, 3, 3, 3), {"fused": False}), ((2, 3, 3, 3), {"updates_collections": None}),
         ((2, 4, 3), {"updates_collections": None}), ((6, 3), {"fused": True}),
         ((2, 2, 3, 3, 3), {}), ((2, 2, 3, 3, 3), {"fused": False})]


@pytest.mark.parametrize("shape, kwargs", CASES, ids=[f"{len(s)}d-{k}" for s, k in CASES])
def test_batch_norm_variable_order_and_moving_variance(tf1, shape, kwargs):
    """batch_norm: variable order and the moving variance after one step, on each of TF-Slim's paths"""
    x = np.random.default_rng(0).normal(2.0, 3.0, size=shape).astype(np.float32)
    y_tf, names_tf, moving_tf = _tf_bn(tf1, x, **kwargs)
    y = slim.batch_norm(x, decay=0.5, scale=True, scope="bn", **kwargs)
    assert [v.name for v in slim.get_variables()] == names_tf
    np.testing.assert_allclose(y.numpy(), y_tf, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(slim.get_unique_variable("bn/moving_variance").numpy(), moving_tf, rtol=1e-5)


def test_hinge_loss_returns_per_element_losses_and_adds_no_loss(tf1):
    """losses.hinge_loss: the per-element [N, C] losses, nothing added to LOSSES"""
    tf, tfs, sess = tf1
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(4, 3)).astype(np.float32), rng.integers(0, 2, (4, 3)).astype(np.float32)
    expected = sess.run(tfs.losses.hinge_loss(tf.constant(z), tf.constant(y)))
    assert len(tfs.losses.get_losses()) == 0
    ours = slim.losses.hinge_loss(z, y)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6)
    assert slim.losses.get_losses() == []


@pytest.mark.parametrize("which", ["repeat", "stack"])
def test_repeat_and_stack_scopes_are_named_after_the_layer(tf1, which):
    """repeat/stack without a scope: inner scopes named after layer.__name__ (Repeat/convolution2d_1)"""
    tf, tfs, _ = tf1
    x = np.zeros((1, 4, 4, 2), np.float32)
    for lib, inputs in ((tfs, tf.constant(x)), (slim, x)):
        if which == "repeat":
            lib.repeat(inputs, 2, lib.conv2d, 3, [3, 3])
            lib.repeat(inputs, 2, lib.fully_connected, 3)
        else:
            lib.stack(inputs, lib.conv2d, [(3, [3, 3]), (4, [1, 1])])
            lib.stack(inputs, lib.separable_conv2d, [(3, [3, 3])])
    names_tf = [v.op.name for v in tf.compat.v1.global_variables()]
    assert [v.name for v in slim.get_variables()] == names_tf


def test_get_variables_to_restore_lists_a_variable_once_where_tf_slim_lists_it_twice(tf1):
    """get_variables_to_restore with overlapping include patterns: tf_slim twice, minislim once (documented)"""
    tf, tfs, _ = tf1
    tfs.conv2d(tf.zeros((1, 4, 4, 2)), 3, [3, 3], scope="conv1")
    slim.conv2d(np.zeros((1, 4, 4, 2), np.float32), 3, [3, 3], scope="conv1")
    names_tf = [v.op.name for v in tfs.get_variables_to_restore(include=["conv1", "conv1/weights"])]
    names = [v.name for v in slim.get_variables_to_restore(include=["conv1", "conv1/weights"])]
    assert names_tf == ["conv1/weights", "conv1/biases", "conv1/weights"]
    assert names == ["conv1/weights", "conv1/biases"]
