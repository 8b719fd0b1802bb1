"""Elementwise math: exp, log, sqrt, abs, maximum, minimum, where, clip.

Tie rule (the same in every minislim kernel): where two candidates are equal, the
gradient goes to the **first** one, here the first argument of ``maximum``/``minimum``.

>>> import minislim as slim
>>> x = slim.tensor([1.0, 4.0], requires_grad=True)
>>> slim.nn.sqrt(x).sum().backward()
>>> x.grad.tolist()
[0.5, 0.25]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.ops.arithmetic import broadcast_apply
from minislim.ops.registry import away_from, broadcastable_pair, random_shape, register


# Every backward here is written with differentiable ops on Tensors (self.inputs,
# self.output), so it can be recorded for higher-order gradients (autograd/higher_order.py).
# A 0/1 mask (which argument won, inside the clip range) is a constant: its derivative is 0.

class Exp(Function):
    differentiable_backward = True

    def forward(self, x):
        return np.exp(x)

    def backward(self, grad_output):
        return (grad_output * self.output,)


class Log(Function):
    differentiable_backward = True

    def forward(self, x):
        return np.log(x)

    def backward(self, grad_output):
        (x,) = self.inputs
        return (grad_output / x,)


class Sqrt(Function):
    differentiable_backward = True

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, grad_output):
        return (grad_output / (2 * self.output),)


class Abs(Function):
    differentiable_backward = True

    def forward(self, x):
        return np.abs(x)

    def backward(self, grad_output):
        (x,) = self.inputs
        return (grad_output * np.sign(x.data),)


class Maximum(Function):
    """Elementwise maximum; on a tie the gradient goes to the first argument."""

    differentiable_backward = True

    def forward(self, a, b):
        out = broadcast_apply("maximum", np.maximum, a, b)
        self.save_for_backward(a >= b)
        return out

    def backward(self, grad_output):
        (first_wins,) = self.saved_arrays
        return grad_output * first_wins, grad_output * ~first_wins


class Minimum(Function):
    """Elementwise minimum; on a tie the gradient goes to the first argument."""

    differentiable_backward = True

    def forward(self, a, b):
        out = broadcast_apply("minimum", np.minimum, a, b)
        self.save_for_backward(a <= b)
        return out

    def backward(self, grad_output):
        (first_wins,) = self.saved_arrays
        return grad_output * first_wins, grad_output * ~first_wins


class Where(Function):
    """``where(condition, a, b)``: ``a`` where condition holds, else ``b``."""

    differentiable_backward = True

    def forward(self, condition, a, b):
        condition = condition.astype(bool, copy=False)
        self.save_for_backward(condition)
        return np.where(condition, a, b)

    def backward(self, grad_output):
        (condition,) = self.saved_arrays
        return None, grad_output * condition, grad_output * ~condition


class Clip(Function):
    """Clip values to ``[low, high]``; the gradient passes where ``low <= x <= high``."""

    differentiable_backward = True

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        self.save_for_backward((x >= self.low) & (x <= self.high))
        return np.clip(x, self.low, self.high).astype(x.dtype, copy=False)

    def backward(self, grad_output):
        (inside,) = self.saved_arrays
        return (grad_output * inside,)


def exp(x):
    """``e ** x``."""
    return Exp()(x)


def log(x):
    """Natural logarithm (``x > 0``)."""
    return Log()(x)


def sqrt(x):
    """Square root (``x > 0`` for a finite gradient)."""
    return Sqrt()(x)


def abs(x):  # noqa: A001  (the name users expect: nn.abs)
    """``|x|``; the gradient at 0 is 0 (``sign(0)``)."""
    return Abs()(x)


def maximum(a, b):
    """Elementwise maximum with broadcasting (ties: the gradient goes to ``a``)."""
    return Maximum()(a, b)


def minimum(a, b):
    """Elementwise minimum with broadcasting (ties: the gradient goes to ``a``)."""
    return Minimum()(a, b)


def where(condition, a, b):
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast together)."""
    return Where()(condition, a, b)


def clip(x, low, high):
    """Clip ``x`` to ``[low, high]`` (``clip_by_value`` in TF)."""
    return Clip(low, high)(x)


def _one(rng, low=None):
    x = rng.standard_normal(random_shape(rng))
    return [x] if low is None else [np.abs(x) + low]


def _separated_pair(rng):
    """Two broadcastable arrays whose elements never come within 0.1 of each other."""
    a_shape, b_shape = broadcastable_pair(rng)
    a = rng.choice([-1.0, 1.0], size=a_shape) * rng.uniform(0.6, 1.5, a_shape)
    b = rng.uniform(-0.4, 0.4, b_shape)
    return [a, b] if rng.random() < 0.5 else [b, a]


def _where_inputs(rng):
    a_shape, b_shape = broadcastable_pair(rng)
    condition = rng.random(np.broadcast_shapes(a_shape, b_shape)) < 0.5
    return [condition, rng.standard_normal(a_shape), rng.standard_normal(b_shape)]


register("exp", exp, _one)
register("log", log, lambda rng: _one(rng, low=0.5), domain="x >= 0.5")
register("sqrt", sqrt, lambda rng: _one(rng, low=0.5), domain="x >= 0.5")
register("abs", abs, lambda rng: [away_from(rng.standard_normal(random_shape(rng)), [0.0])],
         domain="away from the kink at 0")
register("maximum", maximum, _separated_pair, domain="no ties: the operands stay 0.2 apart")
register("minimum", minimum, _separated_pair, domain="no ties: the operands stay 0.2 apart")
register("where", where, _where_inputs, constant_inputs=(0,))
register("clip", lambda x: clip(x, -0.5, 0.5),
         lambda rng: [away_from(rng.standard_normal(random_shape(rng)), [-0.5, 0.5])],
         domain="away from the clip bounds")
