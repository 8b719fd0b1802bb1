"""Activation functions: relu, relu6, elu, leaky_relu, sigmoid, tanh, softplus.

Each backward multiplies the upstream gradient by the local derivative, computed from
what the forward pass saved (often the output itself: ``sigmoid' = y (1 - y)``).
At a kink (``relu`` at 0) the gradient is that of the right-hand piece for ``x > 0``
only: ``relu'(0) = 0``, as in TF and PyTorch.

>>> import minislim as slim
>>> x = slim.tensor([-2.0, 0.5], requires_grad=True)
>>> slim.nn.relu(x).sum().backward()
>>> x.grad.tolist()
[0.0, 1.0]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.ops.math_ops import where
from minislim.ops.registry import away_from, random_shape, register


class ReLU(Function):
    self_adjoint_backward = True  # backward is grad * mask: see autograd/higher_order.py

    def forward(self, x):
        y = np.maximum(x, 0)
        self.save_for_backward(y)
        return y

    def backward(self, grad_output):
        (y,) = self.saved_arrays
        # multiply by the boolean mask in one pass; np.where would be several times slower
        return (np.multiply(grad_output, y > 0),)


# The activations below write their backward with differentiable ops on Tensors
# (self.inputs, self.output), so it can be recorded for higher-order gradients
# (autograd/higher_order.py); a 0/1 mask is a constant, its derivative is 0.

class ReLU6(Function):
    differentiable_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return np.clip(x, 0, 6).astype(x.dtype, copy=False)

    def backward(self, grad_output):
        (x,) = self.saved_arrays
        return (grad_output * ((x > 0) & (x < 6)),)  # a constant mask


class ELU(Function):
    differentiable_backward = True

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def forward(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)

    def backward(self, grad_output):
        (x,) = self.inputs
        # elu'(x) = 1 for x > 0, else alpha * e^x = y + alpha (y depends on x: kept differentiable)
        return (grad_output * where(x.data > 0, 1.0, self.output + self.alpha),)


class LeakyReLU(Function):
    differentiable_backward = True

    def __init__(self, alpha: float = 0.2):
        self.alpha = alpha

    def forward(self, x):
        self.save_for_backward(x > 0)
        return np.where(x > 0, x, x * self.alpha).astype(x.dtype, copy=False)

    def backward(self, grad_output):
        (positive,) = self.saved_arrays
        return (grad_output * np.where(positive, 1, self.alpha).astype(grad_output.dtype, copy=False),)


class Sigmoid(Function):
    differentiable_backward = True

    def forward(self, x):
        # 1 / (1 + e^-x) written as exp(-log(1 + e^-x)): no overflow for large |x|
        return np.exp(-np.logaddexp(0, -x))

    def backward(self, grad_output):
        y = self.output
        return (grad_output * y * (1 - y),)


class Tanh(Function):
    differentiable_backward = True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad_output):
        y = self.output
        return (grad_output * (1 - y * y),)


class Softplus(Function):
    differentiable_backward = True

    def forward(self, x):
        return np.logaddexp(0, x)  # log(1 + e^x), stable

    def backward(self, grad_output):
        (x,) = self.inputs
        return (grad_output * sigmoid(x),)


def relu(x):
    """``max(x, 0)``."""
    return ReLU()(x)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return ReLU6()(x)


def elu(x, alpha: float = 1.0):
    """``x`` for ``x > 0``, else ``alpha * (e^x - 1)``."""
    return ELU(alpha)(x)


def leaky_relu(x, alpha: float = 0.2):
    """``x`` for ``x > 0``, else ``alpha * x`` (TF's default ``alpha=0.2``)."""
    return LeakyReLU(alpha)(x)


def sigmoid(x):
    """``1 / (1 + e^-x)``, stable for large ``|x|``."""
    return Sigmoid()(x)


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh()(x)


def softplus(x):
    """``log(1 + e^x)``, stable for large ``|x|``."""
    return Softplus()(x)


def _away_from(*kinks):
    return lambda rng: [away_from(rng.standard_normal(random_shape(rng)) * 4, kinks)]


def _any(rng):
    return [rng.standard_normal(random_shape(rng)) * 3]


register("relu", relu, _away_from(0.0), domain="away from the kink at 0")
register("relu6", relu6, _away_from(0.0, 6.0), domain="away from the kinks at 0 and 6")
register("elu", elu, _away_from(0.0), domain="away from the kink at 0")
register("leaky_relu", leaky_relu, _away_from(0.0), domain="away from the kink at 0")
register("sigmoid", sigmoid, _any)
register("tanh", tanh, _any)
register("softplus", softplus, _any)
