"""fully_connected, max_pool2d, avg_pool2d."""
import numpy as np
import pytest

import minislim as slim


def features(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# --- fully_connected ----------------------------------------------------------------------

def test_fully_connected_names_shapes_and_values():
    x = features(4, 10)
    y = slim.fully_connected(x, 3, activation_fn=None, biases_initializer=slim.constant_initializer(0.5))
    w = slim.get_unique_variable("fully_connected/weights")
    assert w.shape == (10, 3) and y.shape == (4, 3)
    assert np.allclose(y.data, x @ w.data + 0.5, atol=1e-5)
    slim.fully_connected(x, 3)
    assert [v.name for v in slim.get_variables(suffix="weights")] == [
        "fully_connected/weights", "fully_connected_1/weights"]


def test_fully_connected_applies_relu_by_default():
    assert slim.fully_connected(features(8, 5), 6).data.min() == 0.0


def test_rank_above_two_acts_on_the_last_axis():
    x = features(2, 3, 4, 5)
    y = slim.fully_connected(x, 6, activation_fn=None, scope="fc")
    w, b = slim.get_model_variables()
    assert y.shape == (2, 3, 4, 6) and w.shape == (5, 6)
    assert np.allclose(y.data, np.einsum("abcd,de->abce", x, w.data) + b.data, atol=1e-5)


def test_fully_connected_gradients():
    x = slim.tensor(features(3, 4), requires_grad=True)
    slim.fully_connected(x, 2, activation_fn=None, scope="fc").sum().backward()
    w, b = slim.get_model_variables()
    assert np.allclose(w.grad, np.tile(x.data.sum(0)[:, None], (1, 2)), atol=1e-5)
    assert b.grad.tolist() == [3.0, 3.0]
    assert np.allclose(x.grad, np.tile(w.data.sum(1), (3, 1)), atol=1e-5)


def test_fully_connected_with_batch_norm_has_no_biases():
    slim.fully_connected(features(8, 4), 3, normalizer_fn=slim.batch_norm, scope="fc")
    assert [v.name for v in slim.get_model_variables()] == [
        "fc/weights", "fc/BatchNorm/beta", "fc/BatchNorm/moving_mean", "fc/BatchNorm/moving_variance"]


@pytest.mark.parametrize("num_outputs", [3.0, "3", [3], None])
def test_num_outputs_must_be_an_int(num_outputs):
    with slim.variable_scope("net"):
        with pytest.raises(ValueError, match=r"fully_connected 'net/fc': num_outputs must be a positive int; got"):
            slim.fully_connected(features(2, 4), num_outputs, scope="fc")


def test_fully_connected_rejects_rank_one_inputs():
    with pytest.raises(ValueError, match=r"fully_connected 'fully_connected': inputs must have rank >= 2, got shape \(4,\)"):
        slim.fully_connected(features(4), 3)


def test_fully_connected_reuse_with_another_input_depth():
    slim.fully_connected(features(2, 4), 3, scope="fc")
    with pytest.raises(ValueError, match=r"fully_connected 'fc' with inputs of shape \(2, 7\).*"
                                         r"specified shape \(7, 3\) and found shape \(4, 3\)"):
        slim.fully_connected(features(2, 7), 3, scope="fc", reuse=True)


# --- pooling ------------------------------------------------------------------------------

def test_pooling_defaults_are_stride_two_valid():
    x = features(1, 5, 5, 2)
    y = slim.max_pool2d(x, [2, 2])
    assert y.shape == (1, 2, 2, 2)
    assert np.allclose(y.data[0, 0, 0], x[0, :2, :2].max(axis=(0, 1)))
    z = slim.avg_pool2d(x, 2)
    assert np.allclose(z.data[0, 1, 1], x[0, 2:4, 2:4].mean(axis=(0, 1)), atol=1e-6)


def test_pooling_names_its_output_like_tf_slim():
    with slim.variable_scope("vgg_16"):
        slim.max_pool2d(features(1, 4, 4, 1), [2, 2], scope="pool1", outputs_collections="ends")
        slim.max_pool2d(features(1, 4, 4, 1), [2, 2], outputs_collections="ends")
        slim.max_pool2d(features(1, 4, 4, 1), [2, 2], outputs_collections="ends")
        slim.avg_pool2d(features(1, 4, 4, 1), [2, 2], outputs_collections="ends")
    assert list(slim.utils.convert_collection_to_dict("ends")) == [
        "vgg_16/pool1", "vgg_16/MaxPool2D", "vgg_16/MaxPool2D_1", "vgg_16/AvgPool2D"]
    assert slim.get_variables() == []


def test_pooling_keeps_the_input_dtype():
    assert slim.max_pool2d(features(1, 4, 4, 1).astype(np.float64), 2).dtype == np.float64


@pytest.mark.parametrize("kwargs, message", [
    ({"kernel_size": [2, 2, 2]}, "kernel_size must be an int or a list of 2 ints"),
    ({"kernel_size": 2, "stride": 0}, "stride must be positive"),
    ({"kernel_size": 9}, "max_pool2d 'pool'"),
])
def test_pooling_bad_arguments_name_the_scope(kwargs, message):
    with pytest.raises(ValueError, match=message):
        slim.max_pool2d(features(1, 4, 4, 1), scope="pool", **kwargs)


def test_pooling_needs_images():
    with pytest.raises(ValueError, match=r"avg_pool2d 'AvgPool2D': inputs must be \[N, H, W, C\]"):
        slim.avg_pool2d(features(4, 4), 2)
