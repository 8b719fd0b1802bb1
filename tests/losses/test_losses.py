"""Every loss against a direct NumPy/SciPy formula, with weights and label smoothing;
stability for extreme logits; the LOSSES collection. (Gradients: every loss is in the op
table, so tests/ops/test_registry.py gradchecks it.)"""
import re
import warnings

import numpy as np
import pytest
from scipy.special import expit, log_softmax

import minislim as slim
from minislim import losses


def weighted_mean(per_element, weights):
    w = np.broadcast_to(np.reshape(weights, np.shape(weights) + (1,) * (per_element.ndim - np.ndim(weights))),
                        per_element.shape)
    present = np.count_nonzero(w)
    return np.sum(per_element * w) / present if present else 0.0


@pytest.fixture
def logits(rng):
    return rng.standard_normal((6, 4)) * 3


@pytest.fixture
def ids(rng):
    return rng.integers(0, 4, 6)


WEIGHTS = [1.0, 2.5, np.array([1.0, 0.0, 2.0, 0.5, 0.0, 1.0])]


@pytest.mark.parametrize("weights", WEIGHTS, ids=["none", "scalar", "per-example-with-zeros"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_matches_scipy(logits, ids, weights, smoothing):
    onehot = np.eye(4)[ids]
    smoothed = onehot * (1 - smoothing) + smoothing / 4
    expected = weighted_mean(-np.sum(smoothed * log_softmax(logits, axis=1), axis=1), weights)
    loss = losses.softmax_cross_entropy(slim.tensor(logits), onehot, weights=weights, label_smoothing=smoothing)
    assert loss.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("weights", WEIGHTS, ids=["none", "scalar", "per-example-with-zeros"])
def test_sparse_softmax_cross_entropy_matches_scipy(logits, ids, weights):
    expected = weighted_mean(-log_softmax(logits, axis=1)[np.arange(6), ids], weights)
    loss = losses.sparse_softmax_cross_entropy(slim.tensor(logits), ids, weights=weights)
    assert loss.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_sigmoid_cross_entropy_matches_the_definition(rng, smoothing):
    z, y = rng.standard_normal((5, 3)) * 3, rng.integers(0, 2, (5, 3)).astype(float)
    weights = np.array([1.0, 0.0, 2.0, 1.0, 1.0])
    ys = y * (1 - smoothing) + 0.5 * smoothing
    p = expit(z)
    expected = weighted_mean(-(ys * np.log(p) + (1 - ys) * np.log(1 - p)), weights)
    loss = losses.sigmoid_cross_entropy(slim.tensor(z), y, weights=weights, label_smoothing=smoothing)
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_squared_and_absolute_errors_weight_whole_examples(rng):
    p, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    weights = np.array([1.0, 0.0, 3.0, 1.0])  # one per example, applied to each of its 3 elements
    assert losses.sum_of_squares(slim.tensor(p), y, weights).item() == pytest.approx(weighted_mean((p - y) ** 2, weights))
    assert losses.mean_squared_error(slim.tensor(p), y).item() == pytest.approx(np.mean((p - y) ** 2))
    assert losses.absolute_difference(slim.tensor(p), y, weights).item() == pytest.approx(
        weighted_mean(np.abs(p - y), weights))
    # present = 3 examples x 3 elements = 9, not 3
    assert weighted_mean(np.ones((4, 3)), weights) == pytest.approx(15 / 9)


def test_cosine_distance_of_unit_vectors(rng):
    p, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    expected = np.mean(1 - np.sum(p * y, axis=1))
    assert losses.cosine_distance(slim.tensor(p), y, axis=1).item() == pytest.approx(expected)


def test_hinge_and_log_loss(rng):
    z, y = rng.standard_normal(8) * 2, rng.integers(0, 2, 8).astype(float)
    assert losses.hinge_loss(slim.tensor(z), y).data == pytest.approx(np.maximum(0, 1 - (2 * y - 1) * z))
    p, eps = rng.uniform(0.01, 0.99, 8), 1e-7
    expected = np.mean(-y * np.log(p + eps) - (1 - y) * np.log(1 - p + eps))
    assert losses.log_loss(slim.tensor(p), y).item() == pytest.approx(expected)


def test_all_zero_weights_give_zero_loss_and_zero_gradient(logits, ids):
    x = slim.tensor(logits, requires_grad=True)
    loss = losses.sparse_softmax_cross_entropy(x, ids, weights=np.zeros(6))
    loss.backward()
    assert loss.item() == 0.0 and np.all(x.grad == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropies_are_finite_for_logits_of_1e4(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [0.0, 0.0, 1e4]], dtype=dtype)
    ids = np.array([1, 1, 0])
    for make in (lambda x: losses.softmax_cross_entropy(x, np.eye(3)[ids]),
                 lambda x: losses.sparse_softmax_cross_entropy(x, ids),
                 lambda x: losses.sigmoid_cross_entropy(x, np.eye(3)[ids])):
        x = slim.tensor(z, requires_grad=True)
        loss = make(x)
        loss.backward()
        assert loss.dtype == dtype and x.grad.dtype == dtype
        assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad))
    x = slim.tensor(z, requires_grad=True)
    losses.sparse_softmax_cross_entropy(x, ids).backward()
    np.testing.assert_allclose(x.grad, (np.eye(3)[[0, 1, 2]] - np.eye(3)[ids]) / 3, atol=1e-7)


def test_softmax_cross_entropy_warns_when_given_probabilities(logits, ids):
    probabilities = np.exp(log_softmax(logits, axis=1))
    with pytest.warns(UserWarning, match="look like probabilities"):
        losses.softmax_cross_entropy(slim.tensor(probabilities), np.eye(4)[ids])
    with pytest.warns(UserWarning, match="look like probabilities"):
        losses.sparse_softmax_cross_entropy(slim.tensor(probabilities), ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses.softmax_cross_entropy(slim.tensor(logits), np.eye(4)[ids])


def test_sparse_labels_out_of_range_are_named(logits):
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\), got 7 at index \(2,\)"):
        losses.sparse_softmax_cross_entropy(slim.tensor(logits), np.array([0, 1, 7, 0, 0, 0]))


def test_shape_mismatch_is_reported(logits):
    with pytest.raises(ValueError, match="softmax_cross_entropy: logits .* and onehot_labels"):
        losses.softmax_cross_entropy(slim.tensor(logits), np.zeros((6, 3)))


def test_each_loss_joins_the_losses_collection_and_total_adds_regularization(logits, ids):
    with slim.variable_scope("head"):
        w = slim.variable("w", initializer=np.array([3.0], np.float32), regularizer=slim.l2_regularizer(0.5))
    a = losses.sparse_softmax_cross_entropy(slim.tensor(logits), ids)
    b = losses.sum_of_squares(w, np.zeros(1, np.float32))
    losses.add_loss(slim.tensor(1.0))
    assert [loss.name for loss in losses.get_losses()][:2] == ["sparse_softmax_cross_entropy_loss/value",
                                                               "sum_of_squares_loss/value"]
    assert losses.get_losses()[:2] == [a, b]
    reg = losses.get_regularization_losses()
    assert len(reg) == 1 and reg[0].item() == pytest.approx(0.5 * 9 / 2)
    total = losses.get_total_loss()
    assert total.item() == pytest.approx(a.item() + 9 + 1 + 2.25, rel=1e-6)
    assert losses.get_total_loss(add_regularization_losses=False).item() == pytest.approx(a.item() + 10, rel=1e-6)


def test_total_loss_without_losses_says_what_to_do():
    with pytest.raises(ValueError, match="no losses were added"):
        losses.get_total_loss()


def test_loss_collection_none_adds_nothing(logits, ids):
    losses.sparse_softmax_cross_entropy(slim.tensor(logits), ids, loss_collection=None)
    assert losses.get_losses() == []


def test_float32_is_kept_with_float64_labels_and_weights(rng):
    z = slim.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    loss = losses.softmax_cross_entropy(z, np.eye(2)[[0, 1, 1]], weights=np.array([1.0, 2.0, 0.0]),
                                        label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


# --- TF-Slim's [N, 1] labels and weights (tf.contrib.losses: labels "[batch_size, 1] or
# [batch_size]"; compute_weighted_loss squeezes a trailing weights axis of size 1) ------------

def test_sparse_softmax_cross_entropy_takes_labels_and_weights_shaped_n_by_1(rng):
    z = rng.standard_normal((4, 3)).astype(np.float32)
    ids = np.array([[0], [1], [2], [1]])
    weights = np.array([[1.0], [0.0], [2.0], [0.5]])
    expected = weighted_mean(-log_softmax(z.astype(np.float64), axis=1)[np.arange(4), ids[:, 0]], weights[:, 0])
    x = slim.tensor(z, requires_grad=True)
    loss = losses.sparse_softmax_cross_entropy(x, ids, weights=weights)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    softmax = np.exp(log_softmax(z.astype(np.float64), axis=1))
    expected_grad = (softmax - np.eye(3)[ids[:, 0]]) * weights / np.count_nonzero(weights)
    np.testing.assert_allclose(x.grad, expected_grad, rtol=1e-5, atol=1e-7)
    flat = losses.sparse_softmax_cross_entropy(slim.tensor(z), ids[:, 0], weights=weights[:, 0])
    assert loss.item() == flat.item()


def test_sparse_labels_n_by_1_with_leading_axes(rng):
    z = rng.standard_normal((2, 3, 4))
    ids = rng.integers(0, 4, (2, 3, 1))
    expected = np.mean(-np.take_along_axis(log_softmax(z, axis=-1), ids, axis=-1))
    assert losses.sparse_softmax_cross_entropy(slim.tensor(z), ids).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("shape", [(4, 2), (1, 4), (4, 1, 1), (2, 2)])
def test_sparse_labels_of_other_shapes_are_still_errors(shape):
    z = slim.tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\) or \(4, 1\) .* got " + re.escape(str(shape))):
        losses.sparse_softmax_cross_entropy(z, np.zeros(shape, np.int64))


def one_hot_rows(rng, n, c):
    return np.eye(c)[rng.integers(0, c, n)]


PER_EXAMPLE_LOSSES = {  # name: (call, NumPy per-example loss), each on [N]-shaped losses
    "softmax_cross_entropy": (lambda z, y, w: losses.softmax_cross_entropy(z, y, weights=w),
                              lambda z, y: -np.sum(y * log_softmax(z, axis=1), axis=1), "classes"),
    "sigmoid_cross_entropy": (lambda z, y, w: losses.sigmoid_cross_entropy(z, y, weights=w),
                              lambda z, y: np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), "binary"),
    "log_loss": (lambda p, y, w: losses.log_loss(p, y, weights=w),
                 lambda p, y: -y * np.log(p + 1e-7) - (1 - y) * np.log(1 - p + 1e-7), "probabilities"),
    "hinge_loss": (lambda z, y, w: losses.compute_weighted_loss(losses.hinge_loss(z, y), w),
                   lambda z, y: np.maximum(0, 1 - (2 * y - 1) * z), "binary"),
    "mean_squared_error": (lambda p, y, w: losses.mean_squared_error(p, y, weights=w),
                           lambda p, y: (p - y) ** 2, "binary"),
    "absolute_difference": (lambda p, y, w: losses.absolute_difference(p, y, weights=w),
                            lambda p, y: np.abs(p - y), "binary"),
}


@pytest.mark.parametrize("name", sorted(PER_EXAMPLE_LOSSES))
def test_weights_shaped_n_by_1_mean_one_weight_per_example(rng, name):
    call, reference, kind = PER_EXAMPLE_LOSSES[name]
    if kind == "classes":
        first, labels = rng.standard_normal((5, 3)), one_hot_rows(rng, 5, 3)
    elif kind == "probabilities":
        first, labels = rng.uniform(0.05, 0.95, 5), rng.integers(0, 2, 5).astype(float)
    else:
        first, labels = rng.standard_normal(5) * 2, rng.integers(0, 2, 5).astype(float)
    weights = np.array([[1.0], [0.0], [2.0], [0.5], [3.0]])
    expected = weighted_mean(reference(first, labels), weights[:, 0])
    loss = call(slim.tensor(first.astype(np.float32)), labels, weights)
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_compute_weighted_loss_drops_only_one_trailing_axis_of_size_1():
    per_example = slim.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    loss = losses.compute_weighted_loss(per_example, np.array([[2.0], [0.0], [1.0]]), loss_collection=None)
    assert loss.dtype == np.float32 and loss.item() == pytest.approx((2 + 3) / 2)
    with pytest.raises(ValueError, match=r"weights of shape \(3, 1, 1\) have more axes than the losses \(3,\)"):
        losses.compute_weighted_loss(per_example, np.ones((3, 1, 1)), loss_collection=None)
    with pytest.raises(ValueError, match=r"weights of shape \(3, 2\) have more axes than the losses \(3,\)"):
        losses.compute_weighted_loss(per_example, np.ones((3, 2)), loss_collection=None)
    with pytest.raises(ValueError, match=r"weights of shape \(4, 1\) do not fit losses of shape \(3,\)"):
        losses.compute_weighted_loss(per_example, np.ones((4, 1)), loss_collection=None)


def test_weights_none_is_an_error_not_a_nan_loss(logits, ids):
    with pytest.raises(ValueError, match="sparse_softmax_cross_entropy_loss: weights must be a number or an array, "
                                         "got None"):
        losses.sparse_softmax_cross_entropy(slim.tensor(logits), ids, weights=None)


def test_hinge_loss_returns_per_element_losses_and_adds_nothing_like_tf_slim():
    # tf_slim/losses/loss_ops.py: hinge_loss(logits, labels=None, scope=None) "Returns: An
    # unweighted Tensor of same shape as logits and labels"; it calls no add_loss, so code
    # that reduces it and calls add_loss counts it once.
    z = slim.tensor(np.array([[2.0, -0.5], [0.25, -3.0]], np.float32))
    y = np.array([[1.0, 1.0], [0.0, 0.0]], np.float32)
    per_element = losses.hinge_loss(z, y)
    assert per_element.shape == (2, 2)
    assert per_element.data.tolist() == [[0.0, 1.5], [1.25, 0.0]]
    assert losses.get_losses() == []
    losses.add_loss(per_element.mean())
    assert len(losses.get_losses()) == 1
    with pytest.raises(TypeError):
        losses.hinge_loss(z, y, weights=2.0)
    with pytest.raises(ValueError, match="labels must be given"):
        losses.hinge_loss(z)
