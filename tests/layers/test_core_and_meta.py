"""bias_add, dropout, flatten, one_hot_encoding, softmax, repeat, stack."""
import functools

import numpy as np
import pytest

import minislim as slim


def features(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# --- bias_add -----------------------------------------------------------------------------

def test_bias_add_creates_biases_on_the_last_axis():
    x = features(2, 3, 4)
    y = slim.bias_add(x, initializer=slim.constant_initializer(1.0), activation_fn=slim.nn.relu)
    (biases,) = slim.get_model_variables()
    assert biases.name == "BiasAdd/biases" and biases.shape == (4,)
    assert np.allclose(y.data, np.maximum(x + 1.0, 0))


def test_bias_add_rejects_rank_one():
    with pytest.raises(ValueError, match=r"bias_add 'b': inputs must have rank >= 2"):
        slim.bias_add(features(3), scope="b")


# --- dropout ------------------------------------------------------------------------------

def test_dropout_keeps_about_keep_prob_and_scales_up():
    y = slim.dropout(np.ones((100, 100), np.float32), keep_prob=0.8).data
    assert set(np.unique(y).tolist()) == {0.0, 1.25}
    assert (y > 0).mean() == pytest.approx(0.8, abs=0.02)


def test_dropout_is_the_identity_when_not_training():
    x = slim.tensor(features(3, 4))
    assert slim.dropout(x, 0.5, is_training=False) is x


def test_dropout_masks_follow_the_graph_seed():
    x = np.ones((10, 10), np.float32)
    slim.set_random_seed(1)
    a = slim.dropout(x).data
    b = slim.dropout(x).data
    slim.set_random_seed(1)
    assert np.array_equal(slim.dropout(x).data, a) and not np.array_equal(a, b)


def test_dropout_seed_uses_its_own_stream():
    x = np.ones((10, 10), np.float32)
    slim.set_random_seed(1)
    seeded = slim.dropout(x, seed=3).data
    slim.set_random_seed(1)
    slim.dropout(x)  # the default stream moves...
    assert np.array_equal(slim.dropout(x, seed=3).data, seeded)  # ...the seeded one does not


def test_dropout_noise_shape_drops_whole_channels():
    y = slim.dropout(np.ones((2, 4, 4, 16), np.float32), noise_shape=[2, 1, 1, 16]).data
    assert np.all(y == y[:, :1, :1, :])
    with pytest.raises(ValueError, match=r"dropout 'Dropout_1': noise_shape \(3, 1\) does not broadcast"):
        slim.dropout(np.ones((2, 4), np.float32), noise_shape=[3, 1])


@pytest.mark.parametrize("keep_prob", [0.0, 1.5, -0.1, "0.5"])
def test_dropout_keep_prob_must_be_in_zero_one(keep_prob):
    with pytest.raises(ValueError, match=r"dropout 'dropout6': keep_prob must be a number in \(0, 1\]"):
        slim.dropout(features(2, 2), keep_prob, scope="dropout6")


def test_dropout_gradient_uses_the_same_mask():
    x = slim.tensor(np.ones((4, 4), np.float32), requires_grad=True)
    y = slim.dropout(x, 0.5)
    y.sum().backward()
    assert np.array_equal(x.grad, y.data)


# --- flatten, one_hot_encoding, softmax -------------------------------------------------

def test_flatten_keeps_the_batch_axis():
    x = features(2, 3, 4, 5)
    assert np.array_equal(slim.flatten(x).data, x.reshape(2, 60))
    with pytest.raises(ValueError, match=r"flatten 'Flatten_1': inputs must have rank >= 2"):
        slim.flatten(features(3))


def test_one_hot_encoding():
    y = slim.one_hot_encoding(np.array([1, 0, 2]), 3, on_value=5.0, off_value=-1.0)
    assert y.data.tolist() == [[-1, 5, -1], [5, -1, -1], [-1, -1, 5]] and y.dtype == np.float32
    # as tf.one_hot: a label out of range (-1 to ignore, or 3) is a row of off_value
    ignored = slim.one_hot_encoding(np.array([-1, 3, 1]), 3, on_value=5.0, off_value=-1.0)
    assert ignored.data.tolist() == [[-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0], [-1.0, 5.0, -1.0]]
    with pytest.raises(TypeError, match=r"one_hot_encoding 'OneHotEncoding_2': .*integers"):
        slim.one_hot_encoding(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        slim.one_hot_encoding(np.array([0]), 2.0)


def test_softmax_on_the_last_axis():
    logits = features(2, 3, 4)
    y = slim.softmax(logits).data
    assert np.allclose(y.sum(-1), 1.0, atol=1e-6)
    assert np.allclose(y, np.exp(logits) / np.exp(logits).sum(-1, keepdims=True), atol=1e-6)
    with pytest.raises(ValueError, match=r"softmax 'softmax_1': inputs must have rank >= 2"):
        slim.softmax(features(3))


# --- repeat and stack -----------------------------------------------------------------------

def test_repeat_scopes_follow_tf_slim():
    # tf_slim/layers/layers.py: repeat/stack name the inner scopes after layer.__name__, and
    # conv2d = convolution2d there, so slim.conv2d's scopes are Repeat/convolution2d_<i>.
    x = features(1, 4, 4, 2)
    slim.repeat(x, 3, slim.conv2d, 4, [3, 3], scope="conv3")
    slim.repeat(x, 2, slim.conv2d, 4, [3, 3])
    assert [v.name for v in slim.get_variables(suffix="weights")] == [
        "conv3/conv3_1/weights", "conv3/conv3_2/weights", "conv3/conv3_3/weights",
        "Repeat/convolution2d_1/weights", "Repeat/convolution2d_2/weights"]


def test_repeat_passes_arguments_to_every_call():
    y = slim.repeat(features(2, 5), 2, slim.fully_connected, 3, activation_fn=None, scope="fc")
    assert y.shape == (2, 3) and y.data.min() < 0


def test_repeat_zero_times_returns_the_inputs():
    x = features(2, 2)
    assert slim.repeat(x, 0, slim.fully_connected, 3) is x


def test_stack_scopes_and_arguments():
    slim.stack(features(1, 5, 5, 3), slim.conv2d, [(32, [3, 3]), (32, [1, 1]), (64, [3, 3]), (64, [1, 1])],
               scope="core")
    assert [(v.name, v.shape) for v in slim.get_variables(suffix="weights")] == [
        ("core/core_1/weights", (3, 3, 3, 32)), ("core/core_2/weights", (1, 1, 32, 32)),
        ("core/core_3/weights", (3, 3, 32, 64)), ("core/core_4/weights", (1, 1, 64, 64))]


def test_stack_without_scope_uses_stack_and_the_layer_name():
    layer = functools.partial(slim.fully_connected, activation_fn=None)
    slim.stack(features(2, 3), layer, [4, 5])
    assert [v.name for v in slim.get_variables(suffix="weights")] == [
        "Stack/fully_connected_1/weights", "Stack/fully_connected_2/weights"]


def test_stack_args_must_be_a_list_or_tuple():
    with pytest.raises(ValueError, match="stack_args need to be a list or tuple"):
        slim.stack(features(2, 3), slim.fully_connected, 4)


def test_repeat_rejects_bad_repetitions():
    with pytest.raises(ValueError, match="repetitions must be an int"):
        slim.repeat(features(2, 3), 2.0, slim.fully_connected, 4)


def test_short_layer_names_are_aliases_of_tf_slims_long_names():
    # tf_slim/layers/layers.py ends with conv2d = convolution2d, conv2d_transpose =
    # convolution2d_transpose, separable_conv2d = separable_convolution2d.
    assert slim.conv2d is slim.convolution2d and slim.conv2d.__name__ == "convolution2d"
    assert slim.conv2d_transpose.__name__ == "convolution2d_transpose"
    assert slim.separable_conv2d.__name__ == "separable_convolution2d"
    slim.stack(features(1, 4, 4, 2), slim.separable_conv2d, [(4, [3, 3]), (5, [3, 3])])
    assert [v.name for v in slim.get_variables(suffix="pointwise_weights")] == [
        "Stack/separable_convolution2d_1/pointwise_weights", "Stack/separable_convolution2d_2/pointwise_weights"]
