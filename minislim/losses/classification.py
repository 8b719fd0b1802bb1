"""Binary classification losses on probabilities and margins: ``log_loss``, ``hinge_loss``.

* ``log_loss(predictions, labels)``: ``-y log(p + eps) - (1 - y) log(1 - p + eps)`` for
  probabilities ``p`` (use ``sigmoid_cross_entropy`` on logits instead when you can: it is
  exact where this one needs ``eps``);
* ``hinge_loss(logits, labels)``: labels in {0, 1} become ``t = 2y - 1`` in {-1, 1} and
  the loss is ``max(0, 1 - t * logits)``. As in TF-Slim, it returns the **per-element**
  losses, takes no weights and adds nothing to LOSSES: reduce them yourself (e.g. with
  ``compute_weighted_loss``, which adds the result).

>>> import minislim as slim
>>> slim.losses.hinge_loss(slim.tensor([2.0, 0.5, -1.5]), slim.tensor([1.0, 1.0, 1.0])).data.tolist()
[0.0, 0.5, 2.5]
>>> slim.losses.get_losses()
[]
"""
from __future__ import annotations

from minislim.autograd.tensor import Tensor
from minislim.losses.collection import LOSSES
from minislim.losses.weighting import as_tensor, compute_weighted_loss
from minislim.ops.activations import relu
from minislim.ops.math_ops import log
from minislim.ops.registry import away_from, random_shape, register


def _pair(where: str, first, labels, first_name: str) -> tuple:
    first = as_tensor(first)
    labels = as_tensor(labels, first.dtype)
    if first.shape != labels.shape:
        raise ValueError(f"{where}: {first_name} {first.shape} and labels {labels.shape} must have the same shape")
    return first, labels


def log_loss(predictions, labels, weights=1.0, epsilon: float = 1e-7, scope: str | None = None,
             loss_collection: str | None = LOSSES) -> Tensor:
    """The weighted mean of the binary cross-entropy of probabilities ``predictions``."""
    predictions, labels = _pair(scope or "log_loss", predictions, labels, "predictions")
    losses = -labels * log(predictions + epsilon) - (1.0 - labels) * log(1.0 - predictions + epsilon)
    return compute_weighted_loss(losses, weights, scope or "log_loss", loss_collection)


def hinge_loss(logits, labels=None, scope: str | None = None) -> Tensor:
    """``max(0, 1 - (2 * labels - 1) * logits)`` per element (TF-Slim's ``hinge_loss``).

    Args:
        logits: ``[...]`` unbounded scores (> 0 predicts the positive class).
        labels: the same shape, values 0 or 1.
        scope: names the loss in error messages.

    Returns:
        The unweighted losses, shaped like ``logits``; nothing is added to LOSSES.

    Raises:
        ValueError: ``labels`` missing or of another shape than ``logits``.
    """
    if labels is None:
        raise ValueError(f"{scope or 'hinge_loss'}: labels must be given (0 or 1, shaped like logits)")
    logits, labels = _pair(scope or "hinge_loss", logits, labels, "logits")
    signs = labels * 2.0 - 1.0
    return relu(1.0 - signs * logits)


def _probabilities(rng):
    shape = random_shape(rng, 1)
    return [rng.uniform(0.05, 0.95, shape), rng.integers(0, 2, shape).astype(float)]


def _margins(rng):
    shape = random_shape(rng, 1)
    labels = rng.integers(0, 2, shape).astype(float)
    logits = away_from(rng.standard_normal(shape) * 2, [-1.0, 1.0])  # t * z = 1 is the kink
    return [logits, labels]


register("losses.log_loss", lambda p, y: log_loss(p, y, loss_collection=None), _probabilities,
         domain="probabilities in [0.05, 0.95]; labels 0 or 1", constant_inputs=(1,))
register("losses.hinge_loss", hinge_loss, _margins,
         domain="labels 0 or 1; logits away from the kinks at +-1", constant_inputs=(1,))
