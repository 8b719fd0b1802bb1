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


def compute_weighted_loss(losses, weights=1.0, scope: str | None = None,
                          loss_collection: str | None = LOSSES) -> Tensor:
    """Reduce per-element ``losses`` to a scalar with TF-Slim's weighting (module docstring).

    Args:
        losses: a Tensor of any shape.
        weights: a number or an array aligned with the leading axes of ``losses`` (a
            trailing axis of size 1 is dropped first: ``[N, 1]`` is read as ``[N]``).
        scope: the loss's name (``<scope>/value``).
        loss_collection: add the result to this collection (None: nowhere).

    Returns:
        a scalar Tensor of ``losses``' dtype.

    Raises:
        ValueError: ``weights`` is None, or its shape does not fit ``losses``.
    """
    losses = as_tensor(losses)
    w = broadcast_weights(scope or "compute_weighted_loss", weights, losses.shape, losses.dtype)
    present = int(np.count_nonzero(w))
    weighted = losses if np.all(w == 1) else losses * Tensor(np.ascontiguousarray(w))
    loss = weighted.sum() / float(max(present, 1))
    loss.name = loss_name(scope, "weighted_loss")
    add_loss(loss, loss_collection)
    return loss
