"""Losses between predictions and targets: squared error, absolute difference, cosine distance.

Each computes a per-element loss with differentiable ops and reduces it with
:func:`~minislim.losses.weighting.compute_weighted_loss` (the mean over non-zero weights):

* ``sum_of_squares`` (alias ``mean_squared_error``): ``(predictions - labels) ** 2``;
* ``absolute_difference``: ``|predictions - labels|``;
* ``cosine_distance``: ``1 - sum(predictions * labels, axis)``, for unit-length inputs
  (normalise them first, e.g. with ``slim.nn.l2_normalize``).

Argument order is TF-Slim's: ``(predictions, labels, weights=1.0)``.

>>> import minislim as slim
>>> p, y = slim.tensor([[1.0, 2.0], [3.0, 5.0]]), slim.tensor([[1.0, 1.0], [1.0, 1.0]])
>>> slim.losses.mean_squared_error(p, y).item()  # (0 + 1 + 4 + 16) / 4
5.25
>>> slim.losses.absolute_difference(p, y, weights=[1.0, 0.0]).item()  # only row 0 counts
0.5
"""
from __future__ import annotations

from minislim.autograd.tensor import Tensor
from minislim.losses.collection import LOSSES
from minislim.losses.weighting import as_tensor, compute_weighted_loss
from minislim.ops.math_ops import abs as abs_
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


def _pair_inputs(rng):
    shape = random_shape(rng, 1)
    labels = rng.standard_normal(shape)
    return [labels + away_from(rng.standard_normal(shape), [0.0]), labels]


register("losses.sum_of_squares", lambda p, y: sum_of_squares(p, y, loss_collection=None), _pair_inputs)
register("losses.absolute_difference", lambda p, y: absolute_difference(p, y, loss_collection=None),
         _pair_inputs, domain="predictions differ from labels by at least 0.1 (the kink)")
register("losses.cosine_distance", lambda p, y: cosine_distance(p, y, loss_collection=None), _pair_inputs)
