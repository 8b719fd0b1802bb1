"""conv2d kernels: forward and both gradients against the loop reference and scipy,
conv2d_transpose as the adjoint of conv2d, dtypes, buffer reuse, and PyTorch (optional)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import correlate

from minislim.kernels import conv, reference
from minislim.kernels.im2col import Workspace
from minislim.kernels.shapes import effective_size, resolve_padding

# float64 results of the same sums in another order agree to about 1e-12
TOL = dict(rtol=1e-9, atol=1e-9)


@st.composite
def conv_cases(draw, max_size=7):
    """(x, filters, stride, padding, rate): every padding kind, stride or rate, non-square
    everything, 1x1 kernels, kernels as large as the padded input, strides above the kernel."""
    n, c, oc = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    if draw(st.booleans()):
        stride, rate = (draw(st.integers(1, 4)), draw(st.integers(1, 4))), (1, 1)
    else:
        stride, rate = (1, 1), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kind = draw(st.sampled_from(["SAME", "VALID", "explicit"]))
    pads = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(2))
    padding = pads if kind == "explicit" else kind
    sizes = []
    for axis in range(2):
        span = effective_size(kernel[axis], rate[axis])
        smallest = {"SAME": 1, "VALID": span, "explicit": max(1, span - sum(pads[axis]))}[kind]
        sizes.append(draw(st.integers(smallest, max(smallest, max_size))))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *sizes, c))
    filters = rng.standard_normal((*kernel, c, oc))
    return x, filters, stride, padding, rate


def scipy_conv2d(x, filters, stride, padding, rate):
    """An independent oracle: scipy.signal.correlate of the padded input with the dilated kernel."""
    kh, kw, c, oc = filters.shape
    pads, _ = resolve_padding(padding, x.shape[1:3], (kh, kw), stride, rate)
    dilated = np.zeros((effective_size(kh, rate[0]), effective_size(kw, rate[1]), c, oc))
    dilated[::rate[0], ::rate[1]] = filters
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out = np.stack([np.stack([correlate(image, dilated[..., o], mode="valid")[..., 0] for o in range(oc)], axis=-1)
                    for image in xp])
    return out[:, ::stride[0], ::stride[1]]


@settings(max_examples=80, deadline=None)
@given(case=conv_cases())
def test_forward_matches_the_loop_reference_and_scipy(case):
    x, filters, stride, padding, rate = case
    y = conv.conv2d(x, filters, stride, padding, rate)
    np.testing.assert_allclose(y, reference.conv2d(x, filters, stride, padding, rate), **TOL)
    np.testing.assert_allclose(y, scipy_conv2d(x, filters, stride, padding, rate), **TOL)


@settings(max_examples=80, deadline=None)
@given(case=conv_cases())
def test_gradients_match_the_loop_reference(case):
    x, filters, stride, padding, rate = case
    grad_output = np.random.default_rng(1).standard_normal(conv.conv2d(x, filters, stride, padding, rate).shape)
    np.testing.assert_allclose(conv.conv2d_grad_input(grad_output, filters, x.shape, stride, padding, rate),
                               reference.conv2d_grad_input(grad_output, filters, x.shape, stride, padding, rate),
                               **TOL)
    np.testing.assert_allclose(conv.conv2d_grad_filter(x, grad_output, filters.shape, stride, padding, rate),
                               reference.conv2d_grad_filter(x, grad_output, filters.shape, stride, padding, rate),
                               **TOL)


@settings(max_examples=60, deadline=None)
@given(case=conv_cases())
def test_conv2d_transpose_is_the_adjoint_of_conv2d(case):
    """<conv2d(x), y> = <x, conv2d_transpose(y)> for every x and y (a dot-product test)."""
    x, filters, stride, padding, rate = case
    if rate != (1, 1):
        return  # conv2d_transpose has no rate, as in tf.nn.conv2d_transpose
    y = np.random.default_rng(2).standard_normal(conv.conv2d(x, filters, stride, padding).shape)
    left = np.vdot(conv.conv2d(x, filters, stride, padding), y)
    right = np.vdot(x, conv.conv2d_transpose(y, filters, x.shape, stride, padding))
    np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(case=conv_cases(), layout=st.sampled_from(["fortran", "strided"]))
def test_non_contiguous_inputs_give_the_same_results(case, layout):
    x, filters, stride, padding, rate = case

    def relayout(a):
        if layout == "fortran":
            return np.asfortranarray(a)
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],))
        wide[..., ::2] = a
        return wide[..., ::2]

    y = conv.conv2d(x, filters, stride, padding, rate)
    grad_output = np.random.default_rng(3).standard_normal(y.shape)
    np.testing.assert_allclose(conv.conv2d(relayout(x), relayout(filters), stride, padding, rate), y, **TOL)
    np.testing.assert_allclose(conv.conv2d_grad_input(relayout(grad_output), relayout(filters), x.shape, stride,
                                                      padding, rate),
                               conv.conv2d_grad_input(grad_output, filters, x.shape, stride, padding, rate), **TOL)
    np.testing.assert_allclose(conv.conv2d_grad_filter(relayout(x), relayout(grad_output), filters.shape, stride,
                                                       padding, rate),
                               conv.conv2d_grad_filter(x, grad_output, filters.shape, stride, padding, rate), **TOL)


def test_same_padding_follows_tf_not_symmetric_padding(rng):
    # 4x4 input, 3x3 kernel, stride 2, SAME: TF pads 0 rows on top and 1 at the bottom
    x = rng.standard_normal((1, 4, 4, 1))
    filters = rng.standard_normal((3, 3, 1, 1))
    expected = conv.conv2d(np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0))), filters, stride=2, padding="VALID")
    np.testing.assert_allclose(conv.conv2d(x, filters, stride=2, padding="SAME"), expected, **TOL)


def test_one_by_one_kernel_is_a_matrix_product_per_pixel(rng):
    x, filters = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((1, 1, 5, 6))
    np.testing.assert_allclose(conv.conv2d(x, filters, padding="VALID"), x @ filters[0, 0], **TOL)


def test_kernel_as_large_as_the_input_gives_one_dot_product_per_filter(rng):
    x, filters = rng.standard_normal((2, 3, 4, 2)), rng.standard_normal((3, 4, 2, 5))
    y = conv.conv2d(x, filters, padding="VALID")
    assert y.shape == (2, 1, 1, 5)
    np.testing.assert_allclose(y[:, 0, 0], x.reshape(2, -1) @ filters.reshape(-1, 5), **TOL)


def test_float32_stays_float32_in_every_kernel(rng):
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    filters = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    y = conv.conv2d(x, filters, stride=2)
    assert y.dtype == np.float32
    assert conv.conv2d_grad_input(y, filters, x.shape, stride=2).dtype == np.float32
    assert conv.conv2d_grad_filter(x, y, filters.shape, stride=2).dtype == np.float32
    assert conv.conv2d_transpose(y, filters, x.shape, stride=2).dtype == np.float32


def test_float64_is_computed_in_float64(rng):
    x, filters = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((2, 2, 2, 3))
    assert conv.conv2d(x, filters).dtype == np.float64


def test_reused_buffers_do_not_leak_values_between_calls(rng):
    """The workspace recycles padded and column buffers: a second call must not see the first's data."""
    workspace = Workspace()
    filters = rng.standard_normal((3, 3, 2, 2))
    first, second = rng.standard_normal((2, 5, 5, 2)), rng.standard_normal((2, 5, 5, 2))
    conv.conv2d(first, filters, workspace=workspace)
    conv.conv2d_grad_input(rng.standard_normal((2, 5, 5, 2)), filters, first.shape, workspace=workspace)
    np.testing.assert_allclose(conv.conv2d(second, filters, workspace=workspace), reference.conv2d(second, filters),
                               **TOL)
    grad_output = rng.standard_normal((2, 5, 5, 2))
    np.testing.assert_allclose(conv.conv2d_grad_input(grad_output, filters, second.shape, workspace=workspace),
                               reference.conv2d_grad_input(grad_output, filters, second.shape), **TOL)


@pytest.mark.parametrize("images_that_fit", [1, 2, 3])
def test_grad_input_in_batch_slices_when_the_given_memory_is_small(rng, images_that_fit):
    x_shape, filters = (5, 4, 4, 2), rng.standard_normal((3, 3, 2, 3))
    grad_output = rng.standard_normal((5, 4, 4, 3))
    memory = np.empty(images_that_fit * 4 * 4 * 3 * 3 * 3)
    np.testing.assert_allclose(conv.conv2d_grad_input(grad_output, filters, x_shape, memory=memory),
                               reference.conv2d_grad_input(grad_output, filters, x_shape), **TOL)


def test_conv2d_transpose_default_output_shape_follows_tf_slim(rng):
    inputs, filters = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 6, 5))
    assert conv.conv2d_transpose(inputs, filters, stride=2).shape == (2, 6, 8, 6)
    assert conv.conv2d_transpose(inputs, filters, stride=2, padding="VALID").shape == (2, 7, 8, 6)
    assert conv.conv2d_transpose(inputs, filters, stride=(1, 3), padding="VALID").shape == (2, 5, 12, 6)


def test_conv2d_transpose_accepts_any_output_size_that_maps_back(rng):
    # with stride 2 and SAME, both 7 and 8 rows map to ceil(n / 2) = 4 rows
    inputs, filters = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((3, 3, 1, 2))
    for size in (7, 8):
        out = conv.conv2d_transpose(inputs, filters, (1, size, size, 1), stride=2)
        np.testing.assert_allclose(out, reference.conv2d_transpose(inputs, filters, (1, size, size, 1), 2), **TOL)
    assert conv.conv2d_transpose(inputs, filters, (7, 8), stride=2).shape == (1, 7, 8, 1)


def test_conv2d_transpose_rejects_an_output_shape_that_does_not_map_back(rng):
    inputs, filters = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((3, 3, 1, 2))
    with pytest.raises(ValueError, match=r"output_shape \(1, 10, 8, 1\) does not fit.*maps it to H, W = "
                                         r"\(5, 4\).*inputs have H, W = \(4, 4\)"):
        conv.conv2d_transpose(inputs, filters, (1, 10, 8, 1), stride=2)
    with pytest.raises(ValueError, match=r"output_shape must be \[N, OH, OW, OC\] = \[1, OH, OW, 1\]"):
        conv.conv2d_transpose(inputs, filters, (1, 8, 8, 3), stride=2)


@pytest.mark.parametrize("pads, hw", [(((2, 2), (2, 2)), (0, 0)), (((3, 3), (1, 1)), (-2, 2))])
def test_conv2d_transpose_rejects_explicit_padding_that_leaves_no_output(rng, pads, hw):
    """(H - 1) * SH + KH - top - bottom <= 0: a clear error, not NumPy's 'negative dimensions'."""
    inputs, filters = rng.standard_normal((1, 2, 2, 3)), rng.standard_normal((3, 3, 4, 3))
    with pytest.raises(ValueError, match=rf"padding=.* leaves no output.*H, W = \({hw[0]}, {hw[1]}\)"):
        conv.conv2d_transpose(inputs, filters, padding=pads)


def test_conv2d_transpose_rejects_filters_whose_last_axis_is_not_the_input_channels(rng):
    with pytest.raises(ValueError, match=r"conv2d_transpose: inputs have 2 channels.*\[KH, KW, OC, C\] expect 3"):
        conv.conv2d_transpose(rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((3, 3, 2, 3)))


@pytest.mark.torch
@pytest.mark.parametrize("stride, padding, rate", [(1, "SAME", 1), (2, "SAME", 1), ((2, 1), "VALID", 1),
                                                   (1, "SAME", (2, 1)), (2, ((1, 0), (2, 1)), 1)])
def test_matches_pytorch(rng, stride, padding, rate):
    torch = pytest.importorskip("torch")
    x, filters = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 2, 3, 4))
    y = conv.conv2d(x, filters, stride, padding, rate)
    grad_output = rng.standard_normal(y.shape)
    kernel, strides = filters.shape[:2], np.broadcast_to(stride, 2)
    rates = np.broadcast_to(rate, 2)
    (top, bottom), (left, right) = resolve_padding(padding, x.shape[1:3], kernel, tuple(strides), tuple(rates))[0]
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(filters.transpose(3, 2, 0, 1), requires_grad=True)
    yt = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (left, right, top, bottom)), wt,
                                    stride=tuple(int(s) for s in strides), dilation=tuple(int(r) for r in rates))
    yt.backward(torch.tensor(grad_output.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), **TOL)
    np.testing.assert_allclose(conv.conv2d_grad_input(grad_output, filters, x.shape, stride, padding, rate),
                               xt.grad.numpy().transpose(0, 2, 3, 1), **TOL)
    np.testing.assert_allclose(conv.conv2d_grad_filter(x, grad_output, filters.shape, stride, padding, rate),
                               wt.grad.numpy().transpose(2, 3, 1, 0), **TOL)


def test_gradients_reject_an_output_gradient_of_the_wrong_shape(rng):
    x, filters = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((3, 3, 2, 3))
    wrong = np.ones((1, 4, 4, 2))
    with pytest.raises(ValueError, match=r"conv2d: the output gradient must have shape \(1, 4, 4, 3\), "
                                         r"got \(1, 4, 4, 2\)"):
        conv.conv2d_grad_input(wrong, filters, x.shape)
    with pytest.raises(ValueError, match=r"output gradient must have shape \(1, 4, 4, 3\)"):
        conv.conv2d_grad_filter(x, wrong, filters.shape)


# --- empty tensors: a batch of 0 images, or 0 channels, as in PyTorch and TensorFlow ----------

@pytest.mark.parametrize("x_shape, filters_shape", [((0, 5, 5, 3), (3, 3, 3, 2)),    # empty batch
                                                    ((2, 5, 5, 3), (3, 3, 3, 0)),    # no output channels
                                                    ((2, 5, 5, 0), (3, 3, 0, 2))])   # no input channels
@pytest.mark.parametrize("stride, padding", [(1, "SAME"), (2, "VALID"), (2, ((1, 0), (0, 2)))])
def test_empty_tensors_give_outputs_and_gradients_of_the_right_shape(rng, x_shape, filters_shape, stride, padding):
    x, filters = rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(filters_shape).astype(np.float32)
    geometry = conv.conv_geometry(x_shape, filters_shape, stride, padding)
    y = conv.conv2d(x, filters, stride, padding)
    assert y.shape == geometry.output_shape and y.dtype == np.float32
    assert not y.any()  # a sum over no input channels is 0
    grad_output = rng.standard_normal(y.shape).astype(np.float32)
    grad_x = conv.conv2d_grad_input(grad_output, filters, x_shape, stride, padding)
    grad_filters = conv.conv2d_grad_filter(x, grad_output, filters_shape, stride, padding)
    assert grad_x.shape == x_shape and grad_filters.shape == filters_shape
    assert grad_x.dtype == grad_filters.dtype == np.float32
    assert not grad_x.any() and not grad_filters.any()  # nothing to sum: zeros


@pytest.mark.parametrize("inputs_shape, filters_shape, out_shape", [((0, 4, 4, 3), (3, 3, 5, 3), (0, 8, 8, 5)),
                                                                    ((2, 4, 4, 3), (3, 3, 0, 3), (2, 8, 8, 0)),
                                                                    ((2, 4, 4, 0), (3, 3, 5, 0), (2, 8, 8, 5))])
def test_conv2d_transpose_of_empty_tensors(rng, inputs_shape, filters_shape, out_shape):
    y = conv.conv2d_transpose(rng.standard_normal(inputs_shape), rng.standard_normal(filters_shape), stride=2)
    assert y.shape == out_shape and not y.any()


# --- output_shape of conv2d_transpose: 2 or 4 integers, nothing else --------------------------

@pytest.mark.parametrize("output_shape", [[8, 8], (2, 8, 8, 5), np.array([8, 8]), (np.int64(8), np.int32(8))])
def test_conv2d_transpose_output_shape_may_be_any_sequence_of_ints(rng, output_shape):
    inputs, filters = rng.standard_normal((2, 4, 4, 3)), rng.standard_normal((3, 3, 5, 3))
    assert conv.conv2d_transpose(inputs, filters, output_shape, stride=2).shape == (2, 8, 8, 5)


@pytest.mark.parametrize("output_shape, received", [("88", r"str '88'"), ((8.9, 8.2), r"tuple \(8\.9, 8\.2\)"),
                                                    ((8.0, 8.0), r"tuple \(8\.0, 8\.0\)"), (8, r"int 8"),
                                                    ((True, 8), r"tuple \(True, 8\)"),
                                                    (np.array([8.0, 8.0]), r"ndarray array\(\[8\., 8\.\]\)"),
                                                    (np.array([[8, 8]]), r"ndarray array\(\[\[8, 8\]\]\)"),
                                                    ({8, 9}, r"set \{8, 9\}")])
def test_conv2d_transpose_refuses_an_output_shape_that_is_not_a_sequence_of_ints(rng, output_shape, received):
    """A string was read digit by digit and floats were truncated: both gave (2, 8, 8, 5)."""
    inputs, filters = rng.standard_normal((2, 4, 4, 3)), rng.standard_normal((3, 3, 5, 3))
    with pytest.raises(TypeError, match=rf"conv2d_transpose: output_shape must be a list, tuple or 1-D array of "
                                        rf"ints.*got {received}"):
        conv.conv2d_transpose(inputs, filters, output_shape, stride=2)


@pytest.mark.parametrize("output_shape, message", [((8, 8, 5), r"must have 2 sizes \(OH, OW\) or 4.*got 3"),
                                                   ((), r"must have 2 sizes.*got 0"),
                                                   ((2, -8, 8, 5), r"must not hold negative sizes, got "
                                                                   r"\(2, -8, 8, 5\)")])
def test_conv2d_transpose_refuses_an_output_shape_of_the_wrong_length_or_sign(rng, output_shape, message):
    inputs, filters = rng.standard_normal((2, 4, 4, 3)), rng.standard_normal((3, 3, 5, 3))
    with pytest.raises(ValueError, match=rf"conv2d_transpose: output_shape {message}"):
        conv.conv2d_transpose(inputs, filters, output_shape, stride=2)
