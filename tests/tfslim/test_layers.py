"""minislim's layers against tf_slim's on the same inputs and the same (copied) weights."""
import numpy as np
import pytest

import minislim as slim

pytest.importorskip("tf_slim")

RTOL, ATOL = 1e-4, 1e-5


def _run(tf, sess, tensor):
    sess.run(tf.compat.v1.global_variables_initializer())
    return sess.run(tensor)


def _names_and_shapes(tf):
    return [(v.op.name, tuple(v.shape.as_list())) for v in tf.compat.v1.global_variables()]


def _ours():
    return [(v.name, tuple(v.shape)) for v in slim.get_variables()]


def _init(tf, name):
    return tf.compat.v1.constant_initializer(slim.get_unique_variable(name).numpy())


CONV_CASES = [
    ("conv1d", (2, 9, 3), dict(num_outputs=4, kernel_size=3, stride=2)),
    ("conv1d", (2, 9, 3), dict(num_outputs=4, kernel_size=3, padding="VALID", rate=2)),
    ("conv3d", (2, 5, 4, 6, 2), dict(num_outputs=3, kernel_size=[3, 2, 3], stride=[2, 1, 2])),
    ("conv3d", (1, 6, 5, 5, 2), dict(num_outputs=3, kernel_size=[2, 3, 3], stride=[1, 2, 2], padding="VALID")),
    ("conv3d", (1, 7, 5, 5, 1), dict(num_outputs=2, kernel_size=[3, 2, 2], rate=[2, 1, 2])),
]


@pytest.mark.parametrize("layer, shape, kwargs", CONV_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_conv1d_conv3d(tf1, layer, shape, kwargs):
    """conv1d/conv3d: variable names, shapes and outputs (SAME/VALID, strides, rates)"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    ours = getattr(slim, layer)(x, scope="conv", **kwargs)
    theirs = getattr(tfs, layer)(tf.constant(x), scope="conv", weights_initializer=_init(tf, "conv/weights"),
                                 **kwargs)
    assert _ours() == _names_and_shapes(tf)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=RTOL, atol=ATOL)


def test_conv2d_in_plane(tf1):
    """conv2d_in_plane: one [KH, KW, 1, 1] filter on every channel, biases [C]"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(1).normal(size=(2, 6, 5, 3)).astype(np.float32)
    ours = slim.conv2d_in_plane(x, [3, 2], stride=2)
    theirs = tfs.conv2d_in_plane(tf.constant(x), [3, 2], stride=2,
                                 weights_initializer=_init(tf, "ConvInPlane/weights"))
    assert _ours() == _names_and_shapes(tf)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("layer", ["max_pool3d", "avg_pool3d"])
def test_pool3d(tf1, layer, padding):
    """max_pool3d/avg_pool3d: outputs, SAME windows at the borders included"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(2).normal(size=(2, 5, 4, 5, 2)).astype(np.float32)
    ours = getattr(slim, layer)(x, [2, 3, 2], stride=[2, 1, 2], padding=padding)
    theirs = getattr(tfs, layer)(tf.constant(x), [2, 3, 2], stride=[2, 1, 2], padding=padding)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kwargs", [dict(groups=2), dict(groups=3, reduction_axes=(-3,)), dict(groups=1, center=False)])
def test_group_norm(tf1, kwargs):
    """group_norm: variables (beta before gamma) and outputs"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(3).normal(2.0, 3.0, size=(2, 3, 4, 6)).astype(np.float32)
    ours = slim.group_norm(x, param_initializers={"gamma": slim.constant_initializer(1.5)}, **kwargs)
    theirs = tfs.group_norm(tf.constant(x), param_initializers={"gamma": tf.compat.v1.constant_initializer(1.5)},
                            **kwargs)
    assert _ours() == _names_and_shapes(tf)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=RTOL, atol=1e-4)


def test_instance_norm(tf1):
    """instance_norm: variables and outputs"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(4).normal(-1.0, 2.0, size=(2, 3, 4, 5)).astype(np.float32)
    ours = slim.instance_norm(x, activation_fn=slim.nn.relu)
    theirs = tfs.instance_norm(tf.constant(x), activation_fn=tf.nn.relu)
    assert _ours() == _names_and_shapes(tf)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=RTOL, atol=1e-4)


def test_unit_norm_maxout_and_sequences(tf1):
    """unit_norm, maxout (TF-Slim's reshape, also on axis 1), images_to_sequence, sequence_to_images"""
    tf, tfs, sess = tf1
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 6, 4)).astype(np.float32)
    images = rng.normal(size=(2, 3, 5, 4)).astype(np.float32)
    pairs = [(slim.unit_norm(x, 1), tfs.unit_norm(tf.constant(x), 1)),
             (slim.maxout(x, 2), tfs.maxout(tf.constant(x), 2)),
             (slim.maxout(x, 3, axis=1), tfs.maxout(tf.constant(x), 3, axis=1)),
             (slim.images_to_sequence(images), tfs.images_to_sequence(tf.constant(images))),
             (slim.sequence_to_images(x.transpose(2, 1, 0)[:, :6], 3),
              tfs.sequence_to_images(tf.constant(x.transpose(2, 1, 0)[:, :6]), 3))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=1e-5, atol=1e-6)


def test_spatial_softmax(tf1):
    """spatial_softmax: the temperature variable and the keypoints [N, 2C]"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(6).normal(size=(2, 3, 4, 2)).astype(np.float32)
    ours = slim.spatial_softmax(x, temperature=0.7)
    theirs = tfs.spatial_softmax(tf.constant(x), temperature=0.7)
    assert _ours() == _names_and_shapes(tf)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=1e-5, atol=1e-6)


def test_scale_gradient(tf1):
    """scale_gradient: identity forward, gradient times the multiplier"""
    tf, tfs, sess = tf1
    x = np.array([1.0, -2.0, 3.0], np.float32)
    tx = tf.constant(x)
    ty = tfs.scale_gradient(tx, -0.3)
    grad_tf = sess.run(tf.gradients(tf.reduce_sum(ty * ty), tx)[0])
    t = slim.tensor(x, requires_grad=True)
    y = slim.scale_gradient(t, -0.3)
    (y * y).sum().backward()
    np.testing.assert_allclose(t.grad, grad_tf, rtol=1e-6)


@pytest.mark.parametrize("name", ["elu", "relu", "relu6", "linear"])
def test_fully_connected_shortcuts(tf1, name):
    """elu/relu/relu6/linear shortcuts: fully_connected with that activation, scopes fully_connected_<i> in stack"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(7).normal(size=(3, 4)).astype(np.float32) * 5
    ours = slim.stack(x, getattr(slim, name), [5, 2], weights_initializer=slim.constant_initializer(0.3))
    theirs = tfs.stack(tf.constant(x), getattr(tfs, name), [5, 2],
                       weights_initializer=tf.compat.v1.constant_initializer(0.3))
    assert _ours() == _names_and_shapes(tf)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=RTOL, atol=ATOL)


def test_existing_layers_still_match(tf1):
    """conv2d + batch_norm + max_pool2d + fully_connected + layer_norm inside one arg_scope: names and outputs"""
    tf, tfs, sess = tf1
    x = np.random.default_rng(8).normal(size=(2, 8, 8, 3)).astype(np.float32)

    def net(lib, inputs, init=None):
        with lib.arg_scope([lib.conv2d], normalizer_fn=lib.batch_norm, normalizer_params={"scale": True}):
            h = lib.conv2d(inputs, 4, [3, 3], scope="conv1", **({} if init is None else {"weights_initializer": init[0]}))
            h = lib.max_pool2d(h, [2, 2], scope="pool1")
            h = lib.flatten(h)
            h = lib.fully_connected(h, 5, scope="fc", **({} if init is None else {"weights_initializer": init[1]}))
            return lib.layer_norm(h, scope="ln")
    ours = net(slim, x)
    theirs = net(tfs, tf.constant(x), (_init(tf, "conv1/weights"), _init(tf, "fc/weights")))
    assert _ours() == _names_and_shapes(tf)
    np.testing.assert_allclose(ours.numpy(), _run(tf, sess, theirs), rtol=1e-3, atol=1e-3)
