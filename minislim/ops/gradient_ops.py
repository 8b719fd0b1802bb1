"""``scale_gradient``: the identity forward, the gradient multiplied by a constant backward.

TF-Slim's ``scale_gradient(inputs, gradient_multiplier)``: a layer whose gradient is
damped (0 < m < 1), blocked (m = 0) or reversed (m < 0, as in domain-adversarial
training), while the forward value is unchanged.

>>> import minislim as slim
>>> x = slim.tensor([1.0, 2.0], requires_grad=True)
>>> y = scale_gradient(x, -0.5)
>>> y.data.tolist()
[1.0, 2.0]
>>> (y * y).sum().backward()
>>> x.grad.tolist()  # -0.5 * 2x
[-1.0, -2.0]
"""
from __future__ import annotations

from minislim.autograd.function import Function
from minislim.ops.registry import random_shape, register


class ScaleGradient(Function):
    """``y = x``; ``dx = gradient_multiplier * dy``."""

    def __init__(self, gradient_multiplier: float):
        self.gradient_multiplier = float(gradient_multiplier)

    def forward(self, x):
        return x.copy()

    def backward(self, grad_output):
        return (grad_output * grad_output.dtype.type(self.gradient_multiplier),)


def scale_gradient(inputs, gradient_multiplier: float):
    """``inputs`` unchanged, with its gradient multiplied by ``gradient_multiplier``."""
    return ScaleGradient(gradient_multiplier)(inputs)


def _any(rng):
    return [rng.standard_normal(random_shape(rng))]


register("scale_gradient", lambda x: scale_gradient(x, 1.0), _any,
         domain="any real input (checked with multiplier 1: the true gradient of the identity)")
