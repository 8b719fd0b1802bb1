"""``compute_weighted_loss``: TF-Slim's rule for weights, "the mean over non-zero weights".

Given per-element losses ``L`` and weights ``w`` (a number, or an array aligned with the
*leading* axes of ``L``, e.g. one weight per example ``[N]`` for losses ``[N, D]``; a
trailing axis of size 1 is dropped first, so ``[N, 1]`` means the same as ``[N]``):

    loss = sum(L * w) / (number of elements of L whose weight is not 0)

so a weight of 0 removes an example from the mean (a padding mask), and ``weights=2``
doubles the loss. When every weight is 0 the loss is 0 (TF's safe division).

>>> import numpy as np
>>> import minislim as slim
>>> losses = slim.tensor([1.0, 2.0, 3.0, 4.0])
>>> compute_weighted_loss(losses, weights=np.array([2.0, 0.0, 0.0, 1.0])).item()  # (2*1 + 4) / 2
3.0
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.losses.collection import LOSSES, add_loss, loss_name


def as_tensor(value, dtype=None) -> Tensor:
    """A Tensor (kept as it is if it already is one and has ``dtype``)."""
    if isinstance(value, Tensor):
        if dtype is None or value.dtype == dtype or value.requires_grad:
            return value
        return Tensor(value.data.astype(dtype))
    return Tensor(np.asarray(value, dtype=dtype) if dtype is not None else value)


def broadcast_weights(where: str, weights, shape: tuple, dtype) -> np.ndarray:
    """``weights`` as an array of ``shape``, aligned with the leading axes (TF's rule).

    As in TF-Slim, weights of two or more axes whose last axis has size 1 lose that axis
    first, so one weight per example may be given as ``[N]`` or ``[N, 1]``.
    """
    if weights is None:
        raise ValueError(f"{where}: weights must be a number or an array, got None (use 1.0 for no weighting)")
    given = np.asarray(getattr(weights, "data", weights), dtype=dtype)
    w = given[..., 0] if given.ndim > 1 and given.shape[-1] == 1 else given
    if w.ndim > len(shape):
        raise ValueError(f"{where}: weights of shape {given.shape} have more axes than the losses {shape}")
    aligned = w.reshape(w.shape + (1,) * (len(shape) - w.ndim)) if w.ndim else w
    try:
        return np.broadcast_to(aligned, shape)
    except ValueError:
        raise ValueError(f"{where}: weights of shape {given.shape} do not fit losses of shape {shape} (give a "
                         "number, one weight per example, or an array of the losses' shape)") from None


class Reduction:
    """How :func:`compute_weighted_loss` reduces the weighted losses (``tf.compat.v1.losses.Reduction``).

    With ``L * w`` the weighted per-element losses:

    * ``NONE``: ``L * w`` itself, shaped like the losses;
    * ``SUM``: ``sum(L * w)``;
    * ``MEAN``: ``sum(L * w) / sum(w)`` (weights broadcast to the losses' shape);
    * ``SUM_OVER_BATCH_SIZE``: ``sum(L * w) / L.size``;
    * ``SUM_BY_NONZERO_WEIGHTS`` (alias ``SUM_OVER_NONZERO_WEIGHTS``, the default, TF-Slim's
      only rule): ``sum(L * w) / count(w != 0)``.

    Every division by 0 gives 0 (TF's ``div_no_nan``).
    """
    NONE = "none"
    SUM = "weighted_sum"
    MEAN = "weighted_mean"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_BY_NONZERO_WEIGHTS)


def compute_weighted_loss(losses, weights=1.0, scope: str | None = None,
                          loss_collection: str | None = LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Reduce per-element ``losses`` to a scalar with TF-Slim's weighting (module docstring).

    Args:
        losses: a Tensor of any shape.
        weights: a number or an array aligned with the leading axes of ``losses`` (a
            trailing axis of size 1 is dropped first: ``[N, 1]`` is read as ``[N]``).
        scope: the loss's name (``<scope>/value``).
        loss_collection: add the result to this collection (None: nowhere).
        reduction: one of :class:`Reduction` (default: the mean over non-zero weights).

    Returns:
        a scalar Tensor of ``losses``' dtype (``Reduction.NONE``: shaped like ``losses``).

    Raises:
        ValueError: ``weights`` is None, or its shape does not fit ``losses``; an unknown
            ``reduction``.

    >>> compute_weighted_loss(Tensor([1.0, 2.0, 3.0]), [0.0, 1.0, 3.0], reduction=Reduction.MEAN).item()
    2.75
    """
    where = scope or "compute_weighted_loss"
    if reduction not in Reduction.all():
        raise ValueError(f"{where}: reduction must be one of {list(Reduction.all())}, got {reduction!r}")
    losses = as_tensor(losses)
    w = broadcast_weights(where, weights, losses.shape, losses.dtype)
    weighted = losses if np.all(w == 1) else losses * Tensor(np.ascontiguousarray(w))
    if reduction == Reduction.NONE:
        loss = weighted + 0.0 if weighted is losses else weighted
    else:
        divisor = {Reduction.SUM: 1.0, Reduction.MEAN: float(np.sum(w, dtype=np.float64)),
                   Reduction.SUM_OVER_BATCH_SIZE: float(losses.size),
                   Reduction.SUM_BY_NONZERO_WEIGHTS: float(np.count_nonzero(w))}[reduction]
        loss = weighted.sum() / divisor if divisor != 0 else weighted.sum() * 0.0
    loss.name = loss_name(scope, "weighted_loss")
    add_loss(loss, loss_collection)
    return loss
