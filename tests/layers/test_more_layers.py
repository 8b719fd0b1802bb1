"""The layers added for TF-Slim parity: conv1d, conv3d, conv2d_in_plane, 3-D pooling, group_norm,
instance_norm, unit_norm, maxout, spatial_softmax, scale_gradient, images_to_sequence,
sequence_to_images and the fully_connected shortcuts. Each against a NumPy reference written
from the definition (TF's SAME rule: out = ceil(in / stride), the odd pad at the end), and
gradient-checked in float64 (tests/tfslim/ compares them with tf_slim itself)."""
import itertools

import numpy as np
import pytest

import minislim as slim


def same_pads(size, kernel, stride, rate=1):
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * rate + 1 - size, 0)
    return total // 2, total - total // 2


def reference_conv3d(x, w, stride, padding, rate=(1, 1, 1)):
    """Direct loops over output positions and taps."""
    n, *spatial, c = x.shape
    kernel = w.shape[:3]
    pads = [same_pads(s, k, st, r) if padding == "SAME" else (0, 0)
            for s, k, st, r in zip(spatial, kernel, stride, rate)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sizes = [(xp.shape[i + 1] - ((k - 1) * r + 1)) // st + 1 for i, (k, st, r) in enumerate(zip(kernel, stride, rate))]
    out = np.zeros([n] + out_sizes + [w.shape[-1]])
    for od, oh, ow in itertools.product(*(range(s) for s in out_sizes)):
        for kd, kh, kw in itertools.product(*(range(k) for k in kernel)):
            d, h, ww = od * stride[0] + kd * rate[0], oh * stride[1] + kh * rate[1], ow * stride[2] + kw * rate[2]
            out[:, od, oh, ow] += xp[:, d, h, ww] @ w[kd, kh, kw]
    return out


@pytest.mark.parametrize("shape, kernel, stride, padding, rate", [
    ((2, 5, 4, 6, 2), (3, 2, 3), (2, 1, 2), "SAME", (1, 1, 1)),
    ((1, 6, 5, 5, 3), (2, 3, 3), (1, 2, 2), "VALID", (1, 1, 1)),
    ((1, 7, 5, 5, 1), (3, 2, 2), (1, 1, 1), "SAME", (2, 1, 2)),
])
def test_conv3d_matches_direct_loops(rng, shape, kernel, stride, padding, rate):
    x = rng.normal(size=shape).astype(np.float32)
    y = slim.conv3d(x, 4, list(kernel), stride=list(stride), padding=padding, rate=list(rate),
                    activation_fn=None, scope="c3")
    w = slim.get_unique_variable("c3/weights").data
    np.testing.assert_allclose(y.data, reference_conv3d(x, w, stride, padding, rate), rtol=1e-4, atol=1e-5)


def test_conv1d_is_conv3d_of_one_row(rng):
    x = rng.normal(size=(2, 9, 3)).astype(np.float32)
    y = slim.conv1d(x, 4, 3, stride=2, activation_fn=None, scope="c1")
    w = slim.get_unique_variable("c1/weights").data
    assert w.shape == (3, 3, 4) and y.shape == (2, 5, 4)
    expected = reference_conv3d(x[:, None, None], w[None, None], (1, 1, 2), "SAME")[:, 0, 0]
    np.testing.assert_allclose(y.data, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_in_plane_applies_one_filter_to_every_channel(rng):
    x = rng.normal(size=(2, 5, 5, 3)).astype(np.float32)
    y = slim.conv2d_in_plane(x, [3, 3], activation_fn=None, biases_initializer=slim.constant_initializer(0.5))
    assert [(v.name, v.shape) for v in slim.get_variables()] == [("ConvInPlane/weights", (3, 3, 1, 1)),
                                                                 ("ConvInPlane/biases", (3,))]
    w = slim.get_unique_variable("ConvInPlane/weights").data
    for c in range(3):
        plane = reference_conv3d(x[:, None, :, :, c:c + 1], w[None], (1, 1, 1), "SAME")[:, 0, :, :, 0]
        np.testing.assert_allclose(y.data[..., c], plane + 0.5, rtol=1e-4, atol=1e-5)


def reference_pool3d(x, kernel, stride, padding, how):
    n, *spatial, c = x.shape
    pads = [same_pads(s, k, st) if padding == "SAME" else (0, 0) for s, k, st in zip(spatial, kernel, stride)]
    outs = [-(-s // st) if padding == "SAME" else (s - k) // st + 1 for s, k, st in zip(spatial, kernel, stride)]
    out = np.zeros([n] + outs + [c])
    for o in itertools.product(*(range(s) for s in outs)):
        window = tuple(slice(max(oi * st - p[0], 0), min(oi * st - p[0] + k, s))
                       for oi, st, p, k, s in zip(o, stride, pads, kernel, spatial))
        cells = x[(slice(None),) + window + (slice(None),)]
        out[(slice(None),) + o] = cells.max(axis=(1, 2, 3)) if how == "max" else cells.mean(axis=(1, 2, 3))
    return out


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("how", ["max", "avg"])
def test_pool3d_matches_direct_windows(rng, padding, how):
    x = rng.normal(size=(2, 5, 4, 5, 2)).astype(np.float32)
    layer = slim.max_pool3d if how == "max" else slim.avg_pool3d
    y = layer(x, [2, 3, 2], stride=[2, 1, 2], padding=padding)
    np.testing.assert_allclose(y.data, reference_pool3d(x, (2, 3, 2), (2, 1, 2), padding, how), rtol=1e-5, atol=1e-6)


def test_group_and_instance_norm_normalise_their_groups(rng):
    x = rng.normal(2.0, 3.0, size=(2, 3, 4, 6)).astype(np.float32)
    y = slim.group_norm(x, groups=2, epsilon=1e-6).data
    g = x.reshape(2, 3, 4, 2, 3)
    expected = (g - g.mean(axis=(1, 2, 4), keepdims=True)) / np.sqrt(g.var(axis=(1, 2, 4), keepdims=True) + 1e-6)
    np.testing.assert_allclose(y, expected.reshape(x.shape), rtol=1e-4, atol=1e-4)
    z = slim.instance_norm(x).data
    expected = (x - x.mean(axis=(1, 2), keepdims=True)) / np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-6)
    np.testing.assert_allclose(z, expected, rtol=1e-4, atol=1e-4)
    assert [v.name for v in slim.get_variables()] == ["GroupNorm/beta", "GroupNorm/gamma", "InstanceNorm/beta",
                                                      "InstanceNorm/gamma"]
    with pytest.raises(ValueError, match="not commensurate"):
        slim.group_norm(x, groups=4)
    with pytest.raises(ValueError, match="mutually exclusive"):
        slim.group_norm(x, groups=2, channels_axis=-2)


def test_unit_norm_maxout_and_sequences(rng):
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(slim.unit_norm(x, 1).data, x / np.sqrt(1e-7 + (x ** 2).sum(1, keepdims=True)), rtol=1e-6)
    with pytest.raises(ValueError, match="dim must be positive but smaller than the input rank"):
        slim.unit_norm(x, -1)
    # TF-Slim's reshape: axis 1 (3 -> 1 unit) and a new last axis of 3: a max over consecutive memory
    np.testing.assert_array_equal(slim.maxout(x, 1, axis=1).data, x.reshape(2, 1, 4, 3).max(-1))
    with pytest.raises(ValueError, match=r"number of features\(4\) is not a multiple of num_units\(3\)"):
        slim.maxout(x, 3)
    images = rng.normal(size=(2, 3, 5, 4)).astype(np.float32)
    seq = slim.images_to_sequence(images)
    np.testing.assert_array_equal(seq.data[2], images[:, :, 2].reshape(6, 4))  # time step = column 2
    np.testing.assert_array_equal(slim.sequence_to_images(seq, 3).data, images)


def test_spatial_softmax_gives_expected_coordinates(rng):
    x = rng.normal(size=(2, 3, 4, 2)).astype(np.float32)
    y = slim.spatial_softmax(x, temperature=0.5).data
    assert y.shape == (2, 4) and [v.name for v in slim.get_model_variables()] == ["spatial_softmax/temperature"]
    rows, cols = np.meshgrid(np.linspace(-1, 1, 3), np.linspace(-1, 1, 4), indexing="ij")
    for n, c in itertools.product(range(2), range(2)):
        a = np.exp(x[n, :, :, c] / 0.5)
        a /= a.sum()
        np.testing.assert_allclose(y[n, 2 * c:2 * c + 2], [(a * rows).sum(), (a * cols).sum()], rtol=1e-5)


def test_scale_gradient_scales_only_the_gradient():
    x = slim.tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = slim.scale_gradient(x, -0.25)
    assert y.data.tolist() == [1.0, -2.0]
    (y * y).sum().backward()
    assert x.grad.tolist() == [-0.5, 1.0]


def test_fully_connected_shortcuts_are_partials_named_like_tf_slim():
    x = np.full((1, 2), -3.0, np.float32)
    assert slim.relu(x, 2, weights_initializer=slim.ones_initializer()).data.tolist() == [[0.0, 0.0]]
    assert slim.linear(x, 2, weights_initializer=slim.ones_initializer()).data.tolist() == [[-6.0, -6.0]]
    assert slim.elu(x, 1, weights_initializer=slim.ones_initializer()).item() == pytest.approx(np.expm1(-6.0))
    slim.stack(x, slim.relu6, [4, 5])
    assert [v.name for v in slim.get_variables("Stack", suffix="weights")] == [
        "Stack/fully_connected_1/weights", "Stack/fully_connected_2/weights"]


# --- gradient checks (float64) -----------------------------------------------------------------

LAYERS = {
    "conv1d": ((2, 5, 2), lambda t: slim.conv1d(t, 3, 3, stride=2, activation_fn=slim.nn.tanh)),
    "conv3d": ((1, 3, 4, 3, 2), lambda t: slim.conv3d(t, 2, [2, 3, 2], stride=[2, 1, 1], activation_fn=None)),
    "conv2d_in_plane": ((1, 4, 4, 2), lambda t: slim.conv2d_in_plane(t, [2, 2], activation_fn=None)),
    "max_pool3d": ((1, 3, 4, 4, 2), lambda t: slim.max_pool3d(t, [2, 2, 2], padding="SAME")),
    "avg_pool3d": ((1, 3, 4, 4, 2), lambda t: slim.avg_pool3d(t, [2, 3, 2], stride=1, padding="SAME")),
    "group_norm": ((2, 2, 3, 4), lambda t: slim.group_norm(t, groups=2)),
    "instance_norm": ((2, 3, 3, 2), lambda t: slim.instance_norm(t)),
    "unit_norm": ((2, 3), lambda t: slim.unit_norm(t, 1)),
    "maxout": ((2, 6), lambda t: slim.maxout(t, 3)),
    "spatial_softmax": ((1, 3, 2, 2), lambda t: slim.spatial_softmax(t)),
    "images_to_sequence": ((1, 2, 3, 2), lambda t: slim.images_to_sequence(t)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradcheck_the_new_layers(name):
    shape, layer = LAYERS[name]
    x = np.random.default_rng(5).normal(size=shape)
    x += np.arange(x.size).reshape(shape) * 1e-2  # no ties for the max-based layers
    with slim.Graph(dtype="float64").as_default():
        model = slim.make_template(name, layer)
        model(x)
        slim.testing.gradcheck(model, [x])
        for var in slim.get_trainable_variables():  # the weights too, through their buffers
            var.assign(np.random.default_rng(1).normal(size=var.shape) * 0.5 + 1.0)
            projection = np.random.default_rng(2).normal(size=model(x).shape)
            var.zero_grad()
            model(x).backward(projection)
            analytic, numeric = var.grad.copy(), np.zeros(var.shape)
            for index in np.ndindex(var.shape):
                old = var.data[index]
                var.data[index] = old + 1e-6
                plus = (model(x).data * projection).sum()
                var.data[index] = old - 1e-6
                minus = (model(x).data * projection).sum()
                var.data[index] = old
                numeric[index] = (plus - minus) / 2e-6
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7, err_msg=var.name)
