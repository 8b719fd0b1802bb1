"""Losses between predictions and targets: squared error, absolute difference, cosine distance.

Each computes a per-element loss with differentiable ops and reduces it with
:func:`~minislim.losses.weighting.compute_weighted_loss` (the mean over non-zero weights):

* ``sum_of_squares`` (alias ``mean_squared_error``): ``(predictions - labels) ** 2``;
* ``absolute_difference``: ``|predictions - labels|``;
* ``cosine_distance``: ``1 - sum(predictions * labels, axis)``, for unit-length inputs
  (normalise them first, e.g. with ``slim.nn.l2_normalize``);
* ``huber_loss`` (``tf.compat.v1.losses.huber_loss``, argument order ``labels,
  predictions`` as there): ``0.5 * e**2`` where ``|e| <= delta``, else
  ``delta * (|e| - 0.5 * delta)``;
* ``mean_pairwise_squared_error``: per example, the mean over all pairs of elements of
  ``((p_i - p_j) - (y_i - y_j)) ** 2`` (a loss on differences, blind to a shift).

Argument order is TF-Slim's: ``(predictions, labels, weights=1.0)``.

>>> import minislim as slim
>>> p, y = slim.tensor([[1.0, 2.0], [3.0, 5.0]]), slim.tensor([[1.0, 1.0], [1.0, 1.0]])
>>> slim.losses.mean_squared_error(p, y).item()  # (0 + 1 + 4 + 16) / 4
5.25
>>> slim.losses.absolute_difference(p, y, weights=[1.0, 0.0]).item()  # only row 0 counts
0.5
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.collections import clear_collection
from minislim.losses.collection import LOSSES
from minislim.losses.collection import add_loss, loss_name
from minislim.losses.weighting import Reduction, as_tensor, compute_weighted_loss
from minislim.ops.math_ops import abs as abs_
from minislim.ops.math_ops import minimum
from minislim.ops.reductions import sum as sum_
from minislim.ops.registry import away_from, random_shape, register


def _pair(where: str, predictions, labels) -> tuple:
    predictions = as_tensor(predictions)
    labels = as_tensor(labels, predictions.dtype)
    if predictions.shape != labels.shape:
        raise ValueError(f"{where}: predictions {predictions.shape} and labels {labels.shape} must have the "
                         "same shape")
    return predictions, labels


def sum_of_squares(predictions, labels, weights=1.0, scope: str | None = None,
                   loss_collection: str | None = LOSSES) -> Tensor:
    """The weighted mean of ``(predictions - labels) ** 2`` (TF-Slim's name for MSE)."""
    predictions, labels = _pair(scope or "sum_of_squares", predictions, labels)
    difference = predictions - labels
    return compute_weighted_loss(difference * difference, weights, scope or "sum_of_squares_loss",
                                 loss_collection)


def mean_squared_error(predictions, labels, weights=1.0, scope: str | None = None,
                       loss_collection: str | None = LOSSES) -> Tensor:
    """The same as :func:`sum_of_squares`."""
    return sum_of_squares(predictions, labels, weights, scope or "mean_squared_error_loss", loss_collection)


def absolute_difference(predictions, labels, weights=1.0, scope: str | None = None,
                        loss_collection: str | None = LOSSES) -> Tensor:
    """The weighted mean of ``|predictions - labels|``."""
    predictions, labels = _pair(scope or "absolute_difference", predictions, labels)
    return compute_weighted_loss(abs_(predictions - labels), weights, scope or "absolute_difference_loss",
                                 loss_collection)


def cosine_distance(predictions, labels, axis: int = -1, weights=1.0, scope: str | None = None,
                    loss_collection: str | None = LOSSES) -> Tensor:
    """The weighted mean of ``1 - sum(predictions * labels, axis)``; inputs should be unit vectors."""
    predictions, labels = _pair(scope or "cosine_distance", predictions, labels)
    if not -predictions.ndim <= axis < predictions.ndim:
        raise ValueError(f"{scope or 'cosine_distance'}: axis {axis} is out of range for shape {predictions.shape}")
    losses = 1.0 - sum_(predictions * labels, axis=axis, keepdims=True)
    return compute_weighted_loss(losses, weights, scope or "cosine_distance_loss", loss_collection)


def huber_loss(labels, predictions, weights=1.0, delta: float = 1.0, scope: str | None = None,
               loss_collection: str | None = LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """The weighted Huber loss of ``e = predictions - labels`` (``tf.compat.v1.losses.huber_loss``).

    Per element: ``0.5 * e**2`` where ``|e| <= delta``, else ``delta * |e| - 0.5 * delta**2``
    (quadratic near 0, linear far away: outliers pull with a bounded force). tf_slim has
    no ``huber_loss``; this is TF 1's, with its argument order ``(labels, predictions)``.

    Raises:
        ValueError: shapes differ; ``delta`` not positive.

    >>> import minislim as slim
    >>> slim.losses.huber_loss(slim.tensor([0.0, 0.0]), slim.tensor([0.5, 3.0]), loss_collection=None).item()
    1.3125
    """
    where = scope or "huber_loss"
    if not isinstance(delta, (int, float)) or isinstance(delta, bool) or not delta > 0:
        raise ValueError(f"{where}: delta must be a positive number, got {delta!r}")
    predictions, labels = _pair(where, predictions, labels)
    error = abs_(predictions - labels)
    quadratic = minimum(error, float(delta))
    linear = error - quadratic
    losses = quadratic * quadratic * 0.5 + linear * float(delta)
    return compute_weighted_loss(losses, weights, scope or "huber_loss", loss_collection, reduction)


def mean_pairwise_squared_error(predictions, labels=None, weights=1.0, scope: str | None = None) -> Tensor:
    """TF-Slim's ``mean_pairwise_squared_error``: errors on pairwise differences, summed over the batch.

    For example ``b`` with ``n`` elements (those of nonzero weight) and ``d = p - y``
    (flattened)::

        loss_b = 2 * sum(d**2) / n - 2 * sum(d)**2 / n**2
               = mean over pairs (i, j) of (d_i - d_j)**2

    and the loss is ``sum_b w_b * loss_b`` (TF-Slim sums over the batch; it does not take a
    mean). Added to LOSSES.

    Args:
        predictions, labels: ``[N, ...]`` of the same shape (rank >= 2).
        weights: a number or one weight per example ``[N]``.

    Raises:
        ValueError: shapes differ, rank < 2, or weights of another shape.

    >>> import minislim as slim
    >>> p, y = slim.tensor([[1.0, 2.0, 4.0]]), slim.tensor([[0.0, 1.0, 2.0]])
    >>> round(mean_pairwise_squared_error(p, y).item(), 4)  # d = [1, 1, 2]: 2*6/3 - 2*16/9
    0.4444
    """
    where = scope or "mean_pairwise_squared_error"
    if labels is None:
        raise ValueError(f"{where}: labels must be given, shaped like predictions")
    predictions, labels = _pair(where, predictions, labels)
    if predictions.ndim < 2:
        raise ValueError(f"{where}: predictions must be [N, ...] with rank >= 2 (one row per example), got "
                         f"shape {predictions.shape}")
    batch = predictions.shape[0]
    w = np.asarray(getattr(weights, "data", weights), dtype=predictions.dtype)
    if w.ndim == 0:
        w_rows = np.full(batch, w, dtype=predictions.dtype)
    elif w.shape == (batch,):
        w_rows = w
    else:
        raise ValueError(f"{where}: weights must be a number or one weight per example [{batch}], got shape "
                         f"{w.shape}")
    per_example = predictions.size // batch
    present = np.where(w_rows != 0, float(per_example), 0.0).astype(predictions.dtype)  # [N]
    safe = np.where(present > 0, present, 1.0).astype(predictions.dtype)
    axes = tuple(range(1, predictions.ndim))
    diffs = predictions - labels
    term1 = sum_(diffs * diffs, axis=axes) * Tensor(np.where(present > 0, 2.0 / safe, 0.0).astype(safe.dtype))
    total = sum_(diffs, axis=axes)
    term2 = total * total * Tensor(np.where(present > 0, 2.0 / (safe * safe), 0.0).astype(safe.dtype))
    loss = sum_((term1 - term2) * Tensor(w_rows))
    loss.name = loss_name(scope, "mean_pairwise_squared_error")
    add_loss(loss, LOSSES)
    return loss


def _pair_inputs(rng):
    shape = random_shape(rng, 1)
    labels = rng.standard_normal(shape)
    return [labels + away_from(rng.standard_normal(shape), [0.0]), labels]


register("losses.sum_of_squares", lambda p, y: sum_of_squares(p, y, loss_collection=None), _pair_inputs)
register("losses.absolute_difference", lambda p, y: absolute_difference(p, y, loss_collection=None),
         _pair_inputs, domain="predictions differ from labels by at least 0.1 (the kink)")
register("losses.huber_loss", lambda y, p: huber_loss(y, p, delta=0.7, loss_collection=None),
         lambda rng: _pair_inputs(rng)[::-1], domain="labels differ from predictions by at least 0.1 (|e|'s kink; the loss itself is C1)")


def _rows(rng):
    shape = (int(rng.integers(1, 4)),) + random_shape(rng, 1, 2)
    return [rng.standard_normal(shape), rng.standard_normal(shape)]


def _mean_pairwise(p, y):
    loss = mean_pairwise_squared_error(p, y)
    clear_collection(LOSSES)
    return loss


register("losses.mean_pairwise_squared_error", _mean_pairwise, _rows, domain="[N, ...] of rank >= 2")
register("losses.cosine_distance", lambda p, y: cosine_distance(p, y, loss_collection=None), _pair_inputs)
