"""conv2d, conv2d_transpose, separable_conv2d: names, shapes, options, bad input."""
import numpy as np
import pytest
from scipy.signal import correlate

import minislim as slim
from minislim import GraphKeys


def images(n=2, h=6, w=6, c=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n, h, w, c)).astype(np.float32)


def names(variables):
    return [v.name for v in variables]


# --- conv2d -------------------------------------------------------------------------------

def test_default_scopes_are_conv_conv_1_conv_2():
    for _ in range(3):
        slim.conv2d(images(), 4, [3, 3])
    assert names(slim.get_variables(suffix="weights")) == ["Conv/weights", "Conv_1/weights", "Conv_2/weights"]


def test_variables_shapes_and_collections():
    slim.conv2d(images(c=3), 8, [3, 5], scope="conv1")
    weights, biases = slim.get_model_variables()
    assert (weights.name, weights.shape) == ("conv1/weights", (3, 5, 3, 8))
    assert (biases.name, biases.shape) == ("conv1/biases", (8,))
    assert slim.get_trainable_variables() == [weights, biases]
    assert not biases.data.any()  # zeros


@pytest.mark.parametrize("kwargs, shape", [
    ({}, (2, 7, 9, 4)),
    ({"stride": 2}, (2, 4, 5, 4)),
    ({"stride": [1, 3]}, (2, 7, 3, 4)),
    ({"padding": "VALID"}, (2, 5, 7, 4)),
    ({"padding": "VALID", "stride": 2}, (2, 3, 4, 4)),
    ({"rate": 2, "padding": "VALID"}, (2, 3, 5, 4)),
])
def test_output_shapes(kwargs, shape):
    assert slim.conv2d(images(h=7, w=9), 4, 3, **kwargs).shape == shape


def test_output_matches_scipy_correlation_plus_bias_then_relu():
    x = images(n=1, h=5, w=5, c=2)
    y = slim.conv2d(x, 3, [3, 3], padding="VALID", biases_initializer=slim.constant_initializer(0.1),
                    scope="c")
    w = slim.get_unique_variable("c/weights").data
    expected = np.stack([correlate(x[0], w[..., k], mode="valid")[..., 0] for k in range(3)], axis=-1) + 0.1
    assert np.allclose(y.data[0], np.maximum(expected, 0), atol=1e-5)


def test_no_biases_with_a_normalizer_or_without_biases_initializer():
    slim.conv2d(images(), 4, [3, 3], normalizer_fn=slim.batch_norm, scope="conv1")
    slim.conv2d(images(), 4, [3, 3], biases_initializer=None, scope="conv2")
    assert names(slim.get_model_variables()) == [
        "conv1/weights", "conv1/BatchNorm/beta", "conv1/BatchNorm/moving_mean",
        "conv1/BatchNorm/moving_variance", "conv2/weights"]


def test_normalizer_params_reach_the_normalizer():
    slim.conv2d(images(), 4, [3, 3], normalizer_fn=slim.batch_norm,
                normalizer_params={"scale": True, "center": False}, scope="conv1")
    assert names(slim.get_trainable_variables()) == ["conv1/weights", "conv1/BatchNorm/gamma"]


def test_activation_fn_none_is_linear():
    y = slim.conv2d(images(), 4, [3, 3], activation_fn=None)
    assert y.data.min() < 0


def test_trainable_false_and_variables_collections():
    slim.conv2d(images(), 4, [3, 3], trainable=False, variables_collections=["frozen"], scope="a")
    slim.conv2d(images(), 4, [3, 3], variables_collections={"weights": ["w_only"]}, scope="b")
    assert names(slim.get_trainable_variables()) == ["b/weights", "b/biases"]
    assert names(slim.get_collection("frozen")) == ["a/weights", "a/biases"]
    assert names(slim.get_collection("w_only")) == ["b/weights"]
    assert not slim.get_unique_variable("a/weights").requires_grad


def test_outputs_collections_use_the_full_scope_as_alias():
    with slim.variable_scope("vgg_16"):
        y = slim.conv2d(images(), 4, [3, 3], scope="conv1", outputs_collections="ends")
    ends = slim.utils.convert_collection_to_dict("ends")
    assert list(ends) == ["vgg_16/conv1"] and ends["vgg_16/conv1"] is y


def test_reuse_shares_the_variables():
    a = slim.conv2d(images(), 4, [3, 3], scope="shared")
    b = slim.conv2d(images(), 4, [3, 3], scope="shared", reuse=True)
    assert np.array_equal(a.data, b.data) and len(slim.get_variables()) == 2


def test_calling_a_layer_twice_without_reuse_explains_the_fix():
    slim.conv2d(images(), 4, [3, 3], scope="conv1")
    with pytest.raises(ValueError, match=r"conv2d 'conv1'.*already exists.*make_template"):
        slim.conv2d(images(), 4, [3, 3], scope="conv1")


def test_reuse_without_a_scope_is_an_error():
    with pytest.raises(ValueError, match="reuse=True needs a scope name"):
        slim.conv2d(images(), 4, [3, 3], reuse=True)


def test_gradients_reach_inputs_weights_and_biases():
    x = slim.tensor(images(), requires_grad=True)
    slim.conv2d(x, 4, [3, 3], activation_fn=None, scope="c").sum().backward()
    assert x.grad.shape == x.shape
    assert slim.get_unique_variable("c/weights").grad.shape == (3, 3, 3, 4)
    assert slim.get_unique_variable("c/biases").grad.tolist() == [72.0] * 4  # 2 * 6 * 6 positions


# --- bad input ------------------------------------------------------------------------------

def test_wrong_rank_names_the_full_scope_and_the_expected_shape():
    with slim.variable_scope("vgg_16"):
        with slim.variable_scope("conv3"):
            with pytest.raises(ValueError, match=r"conv2d 'vgg_16/conv3/conv3_1': inputs must be "
                                                 r"\[N, H, W, C\], got shape \(32, 3072\)"):
                slim.conv2d(np.zeros((32, 3072), np.float32), 64, [3, 3], scope="conv3_1")


def test_a_channel_count_that_differs_from_the_reused_weights():
    slim.conv2d(images(c=3), 4, [3, 3], scope="conv1")
    with pytest.raises(ValueError, match=r"conv2d 'conv1' with inputs of shape \(2, 6, 6, 5\).*"
                                         r"specified shape \(3, 3, 5, 4\) and found shape \(3, 3, 3, 4\)"):
        slim.conv2d(images(c=5), 4, [3, 3], scope="conv1", reuse=True)


@pytest.mark.parametrize("num_outputs", [4.0, "4", None, True, 0])
def test_num_outputs_must_be_a_positive_int(num_outputs):
    with pytest.raises(ValueError, match=r"conv2d 'Conv': num_outputs must be"):
        slim.conv2d(images(), num_outputs, [3, 3])


@pytest.mark.parametrize("kernel_size", [[3, 3, 3], [3], "3", [3.0, 3], 0, [2, -1]])
def test_kernel_size_must_be_one_or_two_positive_ints(kernel_size):
    with pytest.raises(ValueError, match=r"conv2d 'Conv': kernel_size must be"):
        slim.conv2d(images(), 4, kernel_size)


def test_rate_and_stride_cannot_both_exceed_one():
    with pytest.raises(ValueError, match="rate 2 > 1 needs stride 1"):
        slim.conv2d(images(), 4, 3, stride=2, rate=2)


def test_an_nchw_data_format_is_refused():
    with pytest.raises(ValueError, match="NHWC"):
        slim.conv2d(images(), 4, 3, data_format="NCHW")


def test_a_tensor_of_another_dtype_is_refused_but_arrays_are_converted():
    with pytest.raises(TypeError, match=r"conv2d 'Conv': inputs have dtype float64 but the graph's "
                                        r"variables are float32"):
        slim.conv2d(slim.tensor(images().astype(np.float64)), 4, 3)
    assert slim.conv2d(images().astype(np.float64), 4, 3).dtype == np.float32
    assert slim.conv2d(np.zeros((1, 4, 4, 3), np.uint8), 4, 3).dtype == np.float32


def test_a_valid_kernel_larger_than_the_input_names_the_layer():
    with pytest.raises(ValueError, match=r"conv2d 'big'"):
        slim.conv2d(images(h=2, w=2), 4, [3, 3], padding="VALID", scope="big")


# --- conv2d_transpose ---------------------------------------------------------------------

@pytest.mark.parametrize("padding, stride, shape", [
    ("SAME", 1, (2, 5, 5, 4)), ("SAME", 2, (2, 10, 10, 4)), ("VALID", 2, (2, 11, 11, 4)),
    ("VALID", 1, (2, 7, 7, 4)),
])
def test_conv2d_transpose_shapes_follow_tf(padding, stride, shape):
    y = slim.conv2d_transpose(images(h=5, w=5), 4, [3, 3], stride=stride, padding=padding)
    assert y.shape == shape
    assert slim.get_variables()[0].shape == (3, 3, 4, 3)  # [KH, KW, OC, C]


def test_conv2d_transpose_inverts_the_shape_of_a_strided_conv():
    x = images(h=8, w=8)
    down = slim.conv2d(x, 6, [3, 3], stride=2, scope="down")
    up = slim.conv2d_transpose(down, 3, [3, 3], stride=2, scope="up")
    assert down.shape == (2, 4, 4, 6) and up.shape == x.shape
    assert names(slim.get_variables("up")) == ["up/weights", "up/biases"]


def test_conv2d_transpose_default_scope_and_errors():
    slim.conv2d_transpose(images(), 2, 3)
    assert names(slim.get_variables()) == ["Conv2d_transpose/weights", "Conv2d_transpose/biases"]
    with pytest.raises(ValueError, match=r"conv2d_transpose 'Conv2d_transpose_1': inputs must be"):
        slim.conv2d_transpose(np.zeros((2, 3)), 2, 3)


# --- separable_conv2d ---------------------------------------------------------------------

def test_separable_conv2d_variables_and_shapes():
    y = slim.separable_conv2d(images(c=3), 8, [3, 3], depth_multiplier=2, scope="sep")
    assert y.shape == (2, 6, 6, 8)
    assert [(v.name, v.shape) for v in slim.get_model_variables()] == [
        ("sep/depthwise_weights", (3, 3, 3, 2)), ("sep/pointwise_weights", (1, 1, 6, 8)),
        ("sep/biases", (8,))]


def test_separable_conv2d_without_num_outputs_is_depthwise_only():
    y = slim.separable_conv2d(images(c=3), None, [3, 3], depth_multiplier=2, stride=2)
    assert y.shape == (2, 3, 3, 6)
    assert [(v.name, v.shape) for v in slim.get_model_variables()] == [
        ("SeparableConv2d/depthwise_weights", (3, 3, 3, 2)), ("SeparableConv2d/biases", (6,))]


def test_depthwise_channels_are_convolved_separately_in_tf_order():
    x = images(n=1, h=5, w=5, c=2)
    y = slim.separable_conv2d(x, None, [3, 3], depth_multiplier=2, padding="VALID", activation_fn=None,
                              biases_initializer=None, scope="dw")
    w = slim.get_unique_variable("dw/depthwise_weights").data  # [3, 3, C=2, M=2]
    for c in range(2):
        for m in range(2):
            expected = correlate(x[0, :, :, c], w[:, :, c, m], mode="valid")
            assert np.allclose(y.data[0, :, :, c * 2 + m], expected, atol=1e-5)


def test_separable_conv2d_weights_regularizer_applies_to_both_weights():
    slim.separable_conv2d(images(), 4, 3, weights_regularizer=slim.l2_regularizer(0.1))
    losses = slim.get_collection(GraphKeys.REGULARIZATION_LOSSES)
    assert [loss.name for loss in losses] == ["SeparableConv2d/depthwise_weights/Regularizer/l2_regularizer",
                                              "SeparableConv2d/pointwise_weights/Regularizer/l2_regularizer"]


def test_convolution2d_is_conv2d():
    assert slim.convolution2d is slim.conv2d


def test_an_empty_batch_flows_through_conv_pool_transpose_and_dense_layers():
    """N = 0 (the last slice of a data set, say) gives empty outputs and gradients, as in PyTorch."""
    x = slim.tensor(np.zeros((0, 6, 6, 3), np.float32))
    y = slim.conv2d(x, 4, 3, scope="c")
    p = slim.max_pool2d(y, 2)
    t = slim.conv2d_transpose(p, 2, 3, stride=2, scope="t")
    f = slim.fully_connected(slim.flatten(t), 5, scope="f")
    assert (y.shape, p.shape, t.shape, f.shape) == ((0, 6, 6, 4), (0, 3, 3, 4), (0, 6, 6, 2), (0, 5))
    f.sum().backward()
    weights = slim.get_variables_by_name("weights")
    assert len(weights) == 3 and all(w.grad is not None and not w.grad.any() for w in weights)
