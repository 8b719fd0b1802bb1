"""Regularizers: functions ``weights -> scalar Tensor`` added to the loss (TF's conventions).

* ``l1_regularizer(scale)``: ``scale * sum(|w|)``;
* ``l2_regularizer(scale)``: ``scale * sum(w ** 2) / 2`` (TF's ``l2_loss`` halves the sum:
  weight decay with ``scale`` equals ``l2_regularizer(scale)``);
* ``l1_l2_regularizer(scale_l1, scale_l2)``: their sum;
* ``sum_regularizer([r1, r2, ...])``: the sum of several.

As in TensorFlow, a scale that is an int (``l2_regularizer(1)``: probably a typo for a
float) or negative is a ValueError, and a scale of 0 gives a regularizer that returns None:
no loss is added.

Give a regularizer to ``slim.variable(..., regularizer=...)`` or a layer's
``weights_regularizer``: the variable's loss then appears in
``get_collection(GraphKeys.REGULARIZATION_LOSSES)``, computed from its current value.

>>> import minislim as slim
>>> w = slim.tensor([1.0, -2.0])
>>> slim.l2_regularizer(0.1)(w).item()  # 0.1 * (1 + 4) / 2
0.25
>>> slim.l1_regularizer(0.1)(w).item()
0.3...
>>> slim.l2_regularizer(0.0)(w) is None
True
"""
from __future__ import annotations

import numbers

from minislim.autograd.tensor import Tensor
from minislim.framework.collections import GraphKeys
from minislim.framework.graph import Deferred, get_default_graph
from minislim.ops.arithmetic import add, multiply
from minislim.ops.math_ops import abs as abs_
from minislim.ops.reductions import sum as reduce_sum


def _check_scale(scale, what: str = "scale") -> float:
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"{what} cannot be an integer: {scale!r} (write {float(scale)!r} for a float)")
    if not isinstance(scale, numbers.Real):
        raise TypeError(f"{what} must be a float, got {type(scale).__name__}: {scale!r}")
    if scale < 0.0:
        raise ValueError(f"Setting a {what} less than 0 on a regularizer: {scale:g}")
    return float(scale)


def _no_regularization(name: str, description: str):
    def no_loss(weights):
        return None
    return _named(no_loss, name, description)


def _named(fn, name: str, description: str):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = description
    return fn


def l1_regularizer(scale: float, scope: str | None = None):
    """Return ``weights -> scale * sum(|weights|)`` (None when ``scale`` is 0).

    Raises:
        ValueError: ``scale`` is an int or negative.
    """
    scale = _check_scale(scale)
    if scale == 0.0:
        return _no_regularization("l1_regularizer", "l1_regularizer(0.0): no loss")

    def l1(weights):
        return multiply(reduce_sum(abs_(weights)), scale)

    return _named(l1, "l1_regularizer", f"l1_regularizer({scale}): scale * sum(|w|)")


def l2_regularizer(scale: float, scope: str | None = None):
    """Return ``weights -> scale * sum(weights ** 2) / 2`` (None when ``scale`` is 0).

    Raises:
        ValueError: ``scale`` is an int or negative.
    """
    scale = _check_scale(scale)
    if scale == 0.0:
        return _no_regularization("l2_regularizer", "l2_regularizer(0.0): no loss")

    def l2(weights):
        return multiply(reduce_sum(multiply(weights, weights)), scale * 0.5)

    return _named(l2, "l2_regularizer", f"l2_regularizer({scale}): scale * sum(w ** 2) / 2")


def l1_l2_regularizer(scale_l1: float = 1.0, scale_l2: float = 1.0, scope: str | None = None):
    """Return ``weights -> l1(weights) + l2(weights)`` (None when both scales are 0).

    Raises:
        ValueError: a scale is an int or negative.
    """
    _check_scale(scale_l1, "scale_l1")
    _check_scale(scale_l2, "scale_l2")
    if scale_l1 == 0.0 and scale_l2 == 0.0:
        return _no_regularization("l1_l2_regularizer", "l1_l2_regularizer(0.0, 0.0): no loss")
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope)


def sum_regularizer(regularizer_list, scope: str | None = None):
    """Return a regularizer summing those of ``regularizer_list`` (None entries skipped).

    Returns None when the list holds no regularizer, as TF does.
    """
    regularizers = [r for r in regularizer_list if r is not None]
    if not regularizers:
        return None

    def sum_reg(weights):
        losses = [loss for loss in (r(weights) for r in regularizers) if loss is not None]
        if not losses:
            return None
        total = losses[0]
        for loss in losses[1:]:
            total = add(total, loss)
        return total

    names = ", ".join(getattr(r, "__name__", "regularizer") for r in regularizers)
    return _named(sum_reg, "sum_regularizer", f"sum_regularizer([{names}])")


class _AppliedRegularization(Deferred):
    """The REGULARIZATION_LOSSES entry ``apply_regularization`` adds: the summed penalty of
    its weights, computed again from their current values whenever the collection is read."""

    def __init__(self, regularizer, weights_list: list):
        self.regularizer, self.weights_list = regularizer, weights_list
        self.name = "get_regularization_penalty"

    def evaluate(self):
        penalties = [self.regularizer(w) for w in self.weights_list]
        penalties = [Tensor(0.0) if p is None else p for p in penalties]
        for p in penalties:
            if getattr(p, "ndim", 0) != 0:
                raise ValueError(f"apply_regularization: regularizer must return a scalar Tensor instead of a "
                                 f"Tensor with rank {p.ndim}")
        total = penalties[0]
        for p in penalties[1:]:
            total = add(total, p)
        return total


def apply_regularization(regularizer, weights_list=None):
    """Sum ``regularizer`` over ``weights_list`` and add it to ``REGULARIZATION_LOSSES``.

    Args:
        regularizer: a function of one Tensor (e.g. ``l2_regularizer(0.01)``) returning a
            scalar or None (counted as 0).
        weights_list: the variables (default: the ``GraphKeys.WEIGHTS`` collection).

    Returns:
        The summed penalty now (a scalar Tensor). The collection entry is recomputed from
        the variables' current values whenever it is read, like every regularization loss
        in minislim, so ``get_total_loss()`` at each step sees that step's weights.

    Raises:
        ValueError: no weights to regularize; a penalty that is not a scalar.

    >>> import minislim as slim
    >>> w = slim.variable("w", initializer=slim.constant_initializer([1.0, -2.0]), shape=[2])
    >>> slim.apply_regularization(slim.l1_regularizer(0.5), [w]).item()
    1.5
    >>> [round(loss.item(), 3) for loss in slim.losses.get_regularization_losses()]
    [1.5]
    """
    graph = get_default_graph()
    if not weights_list:
        weights_list = graph.get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    entry = _AppliedRegularization(regularizer, list(weights_list))
    value = entry.evaluate()
    graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, entry)
    return value
