"""softmax, log_softmax and logsumexp as differentiable ops (stable kernels underneath).

Backward passes, with ``s = softmax(x)`` and upstream gradient ``g``:

* ``softmax``: ``s * (g - sum(g * s))`` (the Jacobian is ``diag(s) - s s^T``);
* ``log_softmax``: ``g - s * sum(g)``;
* ``logsumexp``: ``g * s``.

>>> import minislim as slim
>>> y = slim.nn.softmax(slim.tensor([[1.0, 1.0]]))
>>> y.data.tolist()
[[0.5, 0.5]]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.kernels import softmax as kernels
from minislim.ops.math_ops import exp
from minislim.ops.reductions import normalize_axes
from minislim.ops.registry import random_shape, register


# Each backward is written with differentiable ops on Tensors (self.output, exp, sum),
# so it can be recorded for higher-order gradients (autograd/higher_order.py).

class Softmax(Function):
    differentiable_backward = True

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        return kernels.softmax(x, axis=self.axis)

    def backward(self, grad_output):
        s = self.output
        return (s * (grad_output - (grad_output * s).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    differentiable_backward = True

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        return kernels.log_softmax(x, axis=self.axis)

    def backward(self, grad_output):
        s = exp(self.output)
        return (grad_output - s * grad_output.sum(axis=self.axis, keepdims=True),)


class LogSumExp(Function):
    differentiable_backward = True

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim)
        out = kernels.logsumexp(x, axis=self.axes, keepdims=True)
        self.kept_shape = out.shape
        return out if self.keepdims else np.squeeze(out, axis=self.axes)

    def backward(self, grad_output):
        (x,) = self.inputs
        out = self.output.reshape(self.kept_shape)
        return (grad_output.reshape(self.kept_shape) * exp(x - out),)


def softmax(x, axis: int = -1):
    """``exp(x) / sum(exp(x))`` along ``axis``."""
    return Softmax(axis)(x)


def log_softmax(x, axis: int = -1):
    """``log(softmax(x))`` computed stably as ``x - logsumexp(x)``."""
    return LogSoftmax(axis)(x)


def logsumexp(x, axis=None, keepdims: bool = False):
    """``log(sum(exp(x)))`` over ``axis``, stable for large values."""
    return LogSumExp(axis, keepdims)(x)


def _logits(rng):
    return [rng.standard_normal(random_shape(rng, 1)) * 3]


def _axis(rng, inputs):
    return {"axis": int(rng.integers(-inputs[0].ndim, inputs[0].ndim))}


def _axis_keepdims(rng, inputs):
    return {**_axis(rng, inputs), "keepdims": bool(rng.integers(0, 2))}


register("softmax", softmax, _logits, make_kwargs=_axis)
register("log_softmax", log_softmax, _logits, make_kwargs=_axis)
register("logsumexp", logsumexp, _logits, make_kwargs=_axis_keepdims)
