"""The exercises of notebooks 06-15: each reference agrees with an independent computation
(finite differences, a direct formula, the property the notebook states), so that a
solution that passes the checker is right, not merely equal to another implementation."""
import numpy as np
import pytest

import minislim as slim
from minislim.checkpoint.protobuf import encode_varint
from minislim.exercises import get

RNG = np.random.default_rng(7)


def cases(name):
    return get(name).make_cases(np.random.default_rng(0))


def numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def test_streaming_accuracy_reference_counts_examples_over_all_batches():
    exercise = get("streaming_accuracy")
    for _, batches in cases("streaming_accuracy"):
        got = exercise.run(exercise.reference, batches)["accuracy after each batch"]
        correct = np.cumsum([np.sum(logits.argmax(axis=1) == labels) for logits, labels in batches])
        seen = np.cumsum([len(labels) for _, labels in batches])
        np.testing.assert_allclose(got, correct / seen)


def test_batch_norm_backward_reference_is_the_gradient_of_the_forward():
    x, gamma, g = RNG.standard_normal((6, 3)) * 2 + 1, RNG.standard_normal(3), RNG.standard_normal((6, 3))
    eps = 1e-5

    def loss(x):
        return np.sum(g * gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps))

    sigma = np.sqrt(x.var(axis=0) + eps)
    analytic = get("batch_norm_backward").reference(g, (x - x.mean(axis=0)) / sigma, gamma, sigma)
    np.testing.assert_allclose(analytic, numeric_gradient(loss, x), rtol=1e-5, atol=1e-7)


def test_range_test_rates_reference_is_geometric_from_min_to_max():
    rates = get("range_test_rates").reference(1e-4, 10.0, 150)
    assert len(rates) == 150 and rates[0] == pytest.approx(1e-4) and rates[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(rates[1:] / rates[:-1], (1e5) ** (1 / 149))


def test_flip_some_reference_mirrors_the_chosen_images_left_to_right():
    images, flip = RNG.standard_normal((3, 2, 4, 3)), np.array([True, False, True])
    out = get("flip_some").reference(images, flip)
    for i in range(3):
        expected = images[i][:, ::-1] if flip[i] else images[i]
        np.testing.assert_array_equal(out[i], expected)
        np.testing.assert_array_equal(out[i, :, 0], expected[:, 0])


def test_saliency_reference_is_the_numeric_gradient_of_the_predicted_score():
    _, (score_fn, images) = cases("saliency_map")[0]
    saliency = get("saliency_map").reference(score_fn, images)
    scores = score_fn(slim.tensor(images)).data
    for n in range(len(images)):
        c = scores[n].argmax()

        def score(image, n=n, c=c):
            batch = images.copy()
            batch[n] = image
            return score_fn(slim.tensor(batch)).data[n, c]

        numeric = numeric_gradient(score, images[n])
        np.testing.assert_allclose(saliency[n], np.abs(numeric).max(axis=-1), rtol=1e-4, atol=1e-6)


def test_probe_gradients_reference_is_the_numeric_gradient_of_the_mean_cross_entropy():
    _, (features, labels, w, b) = cases("probe_gradients")[0]

    def loss(w, b):
        logits = features @ w + b
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(labels)), labels].mean()

    grad_w, grad_b = get("probe_gradients").reference(features, labels, w, b)
    np.testing.assert_allclose(grad_w, numeric_gradient(lambda w_: loss(w_, b), w), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(grad_b, numeric_gradient(lambda b_: loss(w, b_), b), rtol=1e-5, atol=1e-8)


def test_smoothed_cross_entropy_reference_is_tfs_convention():
    logits, labels, s = RNG.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2]), 0.2
    target = np.full((5, 4), s / 4)
    target[np.arange(5), labels] += 1 - s
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(target * log_p).sum(axis=1).mean()
    assert get("smoothed_cross_entropy").reference(logits, labels, s) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2 ** 35 + 5, 2 ** 63 - 1])
def test_read_varint_reference_reads_what_encode_varint_writes(value):
    data = b"\x07" + encode_varint(value) + b"\x01"
    assert get("read_varint").reference(data, 1) == (value, len(data) - 1)


def test_the_hessian_vector_product_reference_is_central_differences_of_the_gradient():
    for _, (loss_fn, params, v) in cases("hessian_vector_product"):
        hv = get("hessian_vector_product").reference(loss_fn, params, v)

        def gradient(offset):
            ps = [slim.tensor(p.data + offset * d, requires_grad=True) for p, d in zip(params, v)]
            return [g.data for g in slim.grad(loss_fn(ps), ps)]

        numeric = [(a - b) / 2e-5 for a, b in zip(gradient(1e-5), gradient(-1e-5))]
        for h, n in zip(hv, numeric):
            np.testing.assert_allclose(h, n, rtol=1e-4, atol=1e-7)


def test_after_the_reduce_scatter_worker_i_holds_the_sum_of_chunk_i_plus_1():
    exercise = get("reduce_scatter_round")
    for _, buffers in cases("reduce_scatter_round"):
        n = len(buffers)
        held = exercise.run(exercise.reference, buffers)["each worker's chunks after the reduce-scatter"]
        total = np.array_split(sum(buffers), n)
        for i in range(n):
            chunk = np.array_split(held[i], n)[(i + 1) % n]
            np.testing.assert_allclose(chunk, total[(i + 1) % n])
