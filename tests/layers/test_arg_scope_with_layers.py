"""arg_scope on slim's layers: keys, early errors, the nets' arg_scope pattern, explain."""
import numpy as np
import pytest

import minislim as slim


def images():
    return np.random.default_rng(0).standard_normal((1, 6, 6, 3)).astype(np.float32)


def test_every_layer_is_decorated_and_keyed_by_qualified_name():
    for layer in (slim.conv2d, slim.conv2d_transpose, slim.separable_conv2d, slim.fully_connected,
                  slim.max_pool2d, slim.avg_pool2d, slim.dropout, slim.flatten, slim.batch_norm,
                  slim.layer_norm, slim.bias_add, slim.one_hot_encoding, slim.softmax):
        assert slim.has_arg_scope(layer), layer
    assert slim.arg_scope_func_key(slim.conv2d) == "minislim.layers.conv.convolution2d"
    assert "weights_initializer" in slim.arg_scoped_arguments(slim.conv2d)


def test_a_misspelt_layer_argument_fails_when_the_scope_is_entered():
    with pytest.raises(TypeError, match=r"convolution2d \(minislim.layers.conv.convolution2d\) has no argument "
                                        r"'weight_initializer'; did you mean 'weights_initializer'"):
        with slim.arg_scope([slim.conv2d, slim.fully_connected], weight_initializer=None):
            pass


def test_an_argument_one_layer_lacks_is_reported_for_that_layer():
    with pytest.raises(TypeError, match=r"fully_connected .* has no argument 'padding'"):
        with slim.arg_scope([slim.conv2d, slim.fully_connected], padding="VALID"):
            pass


def net_arg_scope(weight_decay=0.0005, is_training=True):
    """The pattern of TF-Slim's nets (vgg_arg_scope, ...): nested scopes, the inner one returned."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=slim.nn.relu,
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        normalizer_fn=slim.batch_norm):
        with slim.arg_scope([slim.batch_norm], is_training=is_training, decay=0.9):
            with slim.arg_scope([slim.conv2d], padding="VALID") as arg_sc:
                return arg_sc


def test_a_saved_net_arg_scope_applies_later():
    with slim.arg_scope(net_arg_scope()):
        net = slim.conv2d(images(), 4, [3, 3], scope="conv1")
        net = slim.fully_connected(slim.flatten(net), 2, scope="fc")
    assert net.shape == (1, 2)
    assert [v.name for v in slim.get_variables()] == [
        "conv1/weights", "conv1/BatchNorm/beta", "conv1/BatchNorm/moving_mean",
        "conv1/BatchNorm/moving_variance", "fc/weights", "fc/BatchNorm/beta", "fc/BatchNorm/moving_mean",
        "fc/BatchNorm/moving_variance"]
    assert len(slim.get_collection(slim.GraphKeys.REGULARIZATION_LOSSES)) == 2
    mean = slim.get_unique_variable("conv1/BatchNorm/moving_mean").data
    assert mean.any()  # is_training=True from the scope: the moving mean moved (decay 0.9)


def test_batch_norm_inference_through_the_arg_scope():
    with slim.arg_scope(net_arg_scope()):
        slim.conv2d(images(), 4, [3, 3], scope="conv1")
    before = slim.get_unique_variable("conv1/BatchNorm/moving_mean").data.copy()
    with slim.arg_scope(net_arg_scope(is_training=False)):
        slim.conv2d(images(), 4, [3, 3], scope="conv1", reuse=True)
    assert np.array_equal(slim.get_unique_variable("conv1/BatchNorm/moving_mean").data, before)


def test_explain_arg_scope_on_conv2d(capsys):
    with slim.arg_scope(net_arg_scope()):
        report = slim.explain_arg_scope(slim.conv2d, "net", 64, [3, 3], padding="SAME", scope="conv1")
    out = capsys.readouterr().out
    assert report["num_outputs"] == (64, "call site")
    assert report["padding"][0] == "SAME" and report["padding"][1].startswith("call site (overrides arg_scope at")
    assert report["normalizer_fn"][0] is slim.batch_norm and "(net_arg_scope)" in report["normalizer_fn"][1]
    assert report["stride"] == (1, "default")
    assert "convolution2d (minislim.layers.conv.convolution2d)" in out and "weights_regularizer" in out


def test_call_site_arguments_win_over_the_scope_for_layers():
    with slim.arg_scope([slim.conv2d], padding="VALID", activation_fn=None):
        assert slim.conv2d(images(), 2, 3, padding="SAME").shape == (1, 6, 6, 2)
        assert slim.conv2d(images(), 2, 3).shape == (1, 4, 4, 2)
        assert slim.conv2d(images(), 2, 3, 1, "SAME").shape == (1, 6, 6, 2)  # positional wins too
