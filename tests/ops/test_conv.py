"""The conv ops: gradcheck (float64), float32 kept, skipped input gradient, repeated
backward passes, recycled columns, bias_add, conv2d_transpose, and every bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minislim as slim
from minislim.kernels import conv as conv_kernels
from minislim.kernels import reference
from minislim.kernels.im2col import WORKSPACE
from minislim.ops import conv as conv_ops

nn = slim.nn


@st.composite
def small_conv_configs(draw):
    """Small enough for a full-Jacobian gradcheck: at most 2x5x5x2 inputs."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if draw(st.booleans()):
        stride, rate = (draw(st.integers(1, 3)), draw(st.integers(1, 3))), 1
    else:
        stride, rate = 1, (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["SAME", "explicit"]))
    if padding == "explicit":
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    rates = rate if isinstance(rate, tuple) else (rate, rate)
    sizes = []
    for axis in range(2):  # big enough for the (dilated) kernel to fit in the padded input
        pad_total = 0 if padding == "SAME" else sum(padding[axis])
        smallest = max(2, (kernel[axis] - 1) * rates[axis] + 1 - pad_total)
        sizes.append(draw(st.integers(smallest, max(smallest, 5))))
    shape = (draw(st.integers(1, 2)), *sizes, draw(st.integers(1, 2)))
    return shape, kernel, draw(st.integers(1, 2)), stride, padding, rate, draw(st.integers(0, 2**16))


@settings(max_examples=20, deadline=None)
@given(config=small_conv_configs())
def test_conv2d_passes_gradcheck(config):
    shape, kernel, out_channels, stride, padding, rate, seed = config
    rng = np.random.default_rng(seed)
    x, filters = rng.standard_normal(shape), rng.standard_normal((*kernel, shape[3], out_channels))
    slim.testing.gradcheck(lambda x, f: nn.conv2d(x, f, stride, padding, rate), [x, filters])


@settings(max_examples=12, deadline=None)
@given(stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), padding=st.sampled_from(["SAME", "VALID"]),
       seed=st.integers(0, 2**16))
def test_conv2d_transpose_passes_gradcheck(stride, padding, seed):
    rng = np.random.default_rng(seed)
    inputs, filters = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((3, 2, 3, 2))
    slim.testing.gradcheck(lambda x, f: nn.conv2d_transpose(x, f, stride=stride, padding=padding), [inputs, filters])


def test_bias_add_passes_gradcheck(rng):
    slim.testing.gradcheck(nn.bias_add, [rng.standard_normal((2, 3, 3, 4)), rng.standard_normal(4)])


def test_float32_stays_float32_forward_and_backward(rng):
    x = slim.tensor(rng.standard_normal((2, 6, 6, 3)).astype(np.float32), requires_grad=True)
    filters = slim.tensor(rng.standard_normal((3, 3, 3, 4)).astype(np.float32), requires_grad=True)
    bias = slim.tensor(np.zeros(4, np.float32), requires_grad=True)
    y = nn.bias_add(nn.conv2d(x, filters, stride=2), bias)
    z = nn.conv2d_transpose(y, filters, output_shape=x.shape, stride=2)
    assert y.dtype == np.float32 and z.dtype == np.float32
    z.backward(np.ones(z.shape, np.float32))
    assert x.grad.dtype == filters.grad.dtype == bias.grad.dtype == np.float32


def test_forward_and_gradients_match_the_reference(rng):
    x_data, f_data = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 2, 3, 4))
    x, filters = slim.tensor(x_data, requires_grad=True), slim.tensor(f_data, requires_grad=True)
    y = nn.conv2d(x, filters, stride=(2, 1), padding=((1, 0), (0, 2)))
    grad_output = rng.standard_normal(y.shape)
    y.backward(grad_output)
    args = ((2, 1), ((1, 0), (0, 2)))
    np.testing.assert_allclose(y.data, reference.conv2d(x_data, f_data, *args), rtol=1e-10)
    np.testing.assert_allclose(x.grad, reference.conv2d_grad_input(grad_output, f_data, x_data.shape, *args),
                               rtol=1e-10)
    np.testing.assert_allclose(filters.grad, reference.conv2d_grad_filter(x_data, grad_output, f_data.shape, *args),
                               rtol=1e-10)


def test_the_inputs_gradient_is_skipped_when_the_inputs_need_none(rng, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("conv2d_grad_input ran for inputs that need no gradient")

    monkeypatch.setattr(conv_kernels, "conv2d_grad_input", must_not_run)
    images = slim.tensor(rng.standard_normal((2, 4, 4, 3)))
    filters = slim.tensor(rng.standard_normal((3, 3, 3, 2)), requires_grad=True)
    nn.conv2d(images, filters).sum().backward()
    assert images.grad is None and filters.grad.shape == (3, 3, 3, 2)


def test_a_second_backward_with_retain_graph_accumulates_the_same_gradients(rng):
    """The first backward reuses the forward's columns for the inputs' gradient; the second
    pass must rebuild them, not read what the first left there."""
    x = slim.tensor(rng.standard_normal((2, 5, 5, 2)), requires_grad=True)
    filters = slim.tensor(rng.standard_normal((3, 3, 2, 4)), requires_grad=True)
    y = nn.conv2d(x, filters)
    grad_output = rng.standard_normal(y.shape)
    y.backward(grad_output, retain_graph=True)
    first_x, first_f = x.grad.copy(), filters.grad.copy()
    y.backward(grad_output)
    np.testing.assert_allclose(x.grad, 2 * first_x, rtol=1e-12)
    np.testing.assert_allclose(filters.grad, 2 * first_f, rtol=1e-12)


def test_layers_of_the_same_shape_in_one_graph_keep_their_own_columns(rng):
    """Two convolutions with identical shapes lease two column buffers, not one shared one."""
    data = [rng.standard_normal((2, 4, 4, 3)) for _ in range(2)]
    f_data = rng.standard_normal((3, 3, 3, 3))
    filters = slim.tensor(f_data, requires_grad=True)
    a, b = (slim.tensor(d) for d in data)
    (nn.conv2d(a, filters) * 2.0 + nn.conv2d(b, filters)).sum().backward()
    ones = np.ones((2, 4, 4, 3))
    expected = 2 * reference.conv2d_grad_filter(data[0], ones, f_data.shape) + \
        reference.conv2d_grad_filter(data[1], ones, f_data.shape)
    np.testing.assert_allclose(filters.grad, expected, rtol=1e-10)


def test_columns_go_back_to_the_workspace_and_are_reused_by_the_next_step(rng):
    x = slim.tensor(rng.standard_normal((2, 4, 4, 3)), requires_grad=True)
    filters = slim.tensor(rng.standard_normal((3, 3, 3, 2)), requires_grad=True)
    function = conv_ops.Conv2D()
    function(x, filters).sum().backward()
    assert function.columns is None  # given back when the engine released the node
    second = conv_ops.Conv2D()
    second(x, filters)
    assert second.columns is not None and second.columns.shape == (2, 4, 4, 3, 3, 3)


def test_no_grad_forward_gives_its_columns_back_at_once(rng):
    WORKSPACE.clear()
    function = conv_ops.Conv2D()
    with slim.no_grad():
        function(slim.tensor(rng.standard_normal((1, 4, 4, 2))), slim.tensor(rng.standard_normal((3, 3, 2, 2))))
    assert function.columns is None and WORKSPACE.nbytes > 0


def test_bias_add_adds_along_the_last_axis_and_sums_the_gradient(rng):
    x = slim.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    bias = slim.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    y = nn.bias_add(x, bias)
    np.testing.assert_allclose(y.data, x.data + bias.data)
    grad_output = rng.standard_normal(y.shape)
    y.backward(grad_output)
    np.testing.assert_allclose(bias.grad, grad_output.sum(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(x.grad, grad_output)


def test_bias_add_rejects_a_bias_that_does_not_match_the_channels():
    with pytest.raises(ValueError, match=r"bias_add: bias must be \[C\].*x shape \(2, 3\) and bias shape \(4,\)"):
        nn.bias_add(slim.tensor(np.ones((2, 3))), slim.tensor(np.ones(4)))


def test_conv2d_transpose_upsamples_with_tf_output_shapes(rng):
    inputs = slim.tensor(rng.standard_normal((2, 4, 4, 3)), requires_grad=True)
    filters = slim.tensor(rng.standard_normal((3, 3, 5, 3)), requires_grad=True)
    assert nn.conv2d_transpose(inputs, filters, stride=2).shape == (2, 8, 8, 5)
    assert nn.conv2d_transpose(inputs, filters, stride=2, padding="VALID").shape == (2, 9, 9, 5)
    assert nn.conv2d_transpose(inputs, filters, output_shape=(2, 7, 8, 5), stride=2).shape == (2, 7, 8, 5)


# --- bad input: each a ValueError that states the shapes and arguments received ---------------

def _conv(x_shape, f_shape, **kwargs):
    return nn.conv2d(slim.tensor(np.ones(x_shape)), slim.tensor(np.ones(f_shape)), **kwargs)


def test_rank_three_input_is_an_error():
    with pytest.raises(ValueError, match=r"conv2d: inputs must be \[N, H, W, C\] \(rank 4\), got shape \(8, 8, 3\)"):
        _conv((8, 8, 3), (3, 3, 3, 4))


def test_channel_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"conv2d: inputs have 3 channels \(shape \(1, 8, 8, 3\)\) but filters "
                                         r"\[KH, KW, C, OC\] expect 2 \(shape \(3, 3, 2, 4\)\)"):
        _conv((1, 8, 8, 3), (3, 3, 2, 4))


def test_rate_with_stride_is_an_error():
    with pytest.raises(ValueError, match=r"conv2d: rate > 1 cannot be combined with stride > 1.*stride=\(2, 2\), "
                                         r"rate=\(2, 2\)"):
        _conv((1, 8, 8, 3), (3, 3, 3, 4), stride=2, rate=2)


def test_valid_kernel_larger_than_the_input_is_an_error():
    with pytest.raises(ValueError, match=r"conv2d: padding='VALID' needs the kernel to fit in the input.*spans 5.*"
                                         r"has 4.*\(4, 4\)"):
        _conv((1, 4, 4, 3), (5, 5, 3, 4), padding="VALID")


@pytest.mark.parametrize("kwargs, message", [({"stride": 0}, r"stride must be positive, got stride=0"),
                                             ({"stride": (1, -2)}, r"stride must be positive"),
                                             ({"rate": 0}, r"rate must be positive")])
def test_non_positive_stride_or_rate_is_an_error(kwargs, message):
    with pytest.raises(ValueError, match=rf"conv2d: {message}"):
        _conv((1, 4, 4, 3), (3, 3, 3, 4), **kwargs)


def test_non_positive_kernel_size_is_an_error():
    with pytest.raises(ValueError, match=r"conv2d: the kernel size must be positive, got filters shape "
                                         r"\(0, 3, 3, 4\)"):
        _conv((1, 4, 4, 3), (0, 3, 3, 4))


@pytest.mark.torch
def test_conv2d_transpose_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    inputs, filters = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((3, 3, 5, 3))
    y = nn.conv2d_transpose(slim.tensor(inputs), slim.tensor(filters), output_shape=(2, 9, 7, 5), stride=2,
                            padding="VALID")
    # PyTorch's weight is [C_in, C_out, KH, KW]; VALID gives (H - 1) * 2 + 3 = 9 rows, 7 columns
    expected = torch.nn.functional.conv_transpose2d(torch.tensor(inputs.transpose(0, 3, 1, 2)),
                                                    torch.tensor(filters.transpose(3, 2, 0, 1)), stride=2)
    np.testing.assert_allclose(y.data, expected.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)


# --- empty batches: outputs and gradients of the right shape, as in PyTorch and TensorFlow ----

def test_conv2d_of_an_empty_batch_is_empty_and_gives_zero_filter_gradients(rng):
    x = slim.tensor(np.zeros((0, 4, 4, 3), np.float32), requires_grad=True)
    filters = slim.tensor(rng.standard_normal((3, 3, 3, 2)).astype(np.float32), requires_grad=True)
    y = nn.conv2d(x, filters, stride=2)
    assert y.shape == (0, 2, 2, 2) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == (0, 4, 4, 3)
    assert filters.grad.shape == (3, 3, 3, 2) and filters.grad.dtype == np.float32 and not filters.grad.any()


def test_conv2d_transpose_of_an_empty_batch_is_empty_and_gives_zero_filter_gradients(rng):
    inputs = slim.tensor(np.zeros((0, 4, 4, 3), np.float32), requires_grad=True)
    filters = slim.tensor(rng.standard_normal((3, 3, 5, 3)).astype(np.float32), requires_grad=True)
    y = nn.conv2d_transpose(inputs, filters, stride=2)
    assert y.shape == (0, 8, 8, 5) and y.dtype == np.float32
    y.sum().backward()
    assert inputs.grad.shape == (0, 4, 4, 3)
    assert filters.grad.shape == (3, 3, 5, 3) and not filters.grad.any()


def test_conv2d_transpose_refuses_a_tensor_output_shape_in_its_own_words(rng):
    inputs, filters = slim.tensor(rng.standard_normal((2, 4, 4, 3))), slim.tensor(rng.standard_normal((3, 3, 5, 3)))
    with pytest.raises(TypeError, match=r"conv2d_transpose: output_shape must be a list, tuple or 1-D array of "
                                        r"ints.*got Tensor"):
        nn.conv2d_transpose(inputs, filters, output_shape=slim.tensor(np.array([8, 8])), stride=2)
