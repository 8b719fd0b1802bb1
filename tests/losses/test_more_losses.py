"""huber_loss, mean_pairwise_squared_error and compute_weighted_loss's reductions (TF's rules)."""
import numpy as np
import pytest

import minislim as slim
from minislim import losses
from minislim.losses import Reduction


def test_huber_loss_is_quadratic_inside_delta_and_linear_outside(rng):
    y, p = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) * 3
    e = np.abs(p - y)
    per_element = np.where(e <= 1.5, 0.5 * e ** 2, 1.5 * e - 0.5 * 1.5 ** 2)
    assert losses.huber_loss(y, slim.tensor(p), delta=1.5).item() == pytest.approx(per_element.mean())
    assert len(losses.get_losses()) == 1
    with pytest.raises(ValueError, match="delta must be a positive number"):
        losses.huber_loss(y, p, delta=0)


def test_mean_pairwise_squared_error_is_the_mean_over_pairs_summed_over_the_batch(rng):
    p, y, w = rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 2, 2)), np.array([1.0, 0.0, 2.5])
    d = (p - y).reshape(3, -1)
    pairs = np.array([np.mean((row[:, None] - row[None, :]) ** 2) for row in d])  # over all n*n pairs
    assert losses.mean_pairwise_squared_error(slim.tensor(p), y, weights=w).item() == pytest.approx(
        np.sum(w * pairs))
    assert losses.mean_pairwise_squared_error(p + 7.0, y).item() == pytest.approx(np.sum(pairs))  # shift-blind
    with pytest.raises(ValueError, match="one weight per example"):
        losses.mean_pairwise_squared_error(p, y, weights=np.ones((3, 2)))


@pytest.mark.parametrize("reduction, expected", [
    (Reduction.SUM, 1 * 0 + 2 * 1 + 4 * 3),
    (Reduction.MEAN, (2 + 12) / 4),
    (Reduction.SUM_OVER_BATCH_SIZE, 14 / 3),
    (Reduction.SUM_BY_NONZERO_WEIGHTS, 14 / 2),
])
def test_compute_weighted_loss_reductions_follow_tf(reduction, expected):
    loss = losses.compute_weighted_loss(slim.tensor([1.0, 2.0, 4.0]), [0.0, 1.0, 3.0], reduction=reduction)
    assert loss.item() == pytest.approx(expected)


def test_reduction_none_keeps_the_shape_and_zero_divisors_give_zero():
    none = losses.compute_weighted_loss(slim.tensor([1.0, 2.0]), [2.0, 0.5], reduction=Reduction.NONE)
    assert none.data.tolist() == [2.0, 1.0]
    assert losses.compute_weighted_loss(slim.tensor([1.0, 2.0]), [1.0, -1.0], reduction=Reduction.MEAN).item() == 0
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.compute_weighted_loss(slim.tensor([1.0]), reduction="mean")
