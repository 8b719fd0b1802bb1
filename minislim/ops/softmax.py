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
from minislim.ops.reductions import normalize_axes
from minislim.ops.registry import random_shape, register


class Softmax(Function):
    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        s = kernels.softmax(x, axis=self.axis)
        self.save_for_backward(s)
        return s

    def backward(self, grad_output):
        (s,) = self.saved_arrays
        return (s * (grad_output - np.sum(grad_output * s, axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        out = kernels.log_softmax(x, axis=self.axis)
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        (out,) = self.saved_arrays
        s = np.exp(out)
        return (grad_output - s * np.sum(grad_output, axis=self.axis, keepdims=True),)


class LogSumExp(Function):
    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim)
        out = kernels.logsumexp(x, axis=self.axes, keepdims=True)
        self.save_for_backward(x, out)
        return out if self.keepdims else np.squeeze(out, axis=self.axes)

    def backward(self, grad_output):
        x, out = self.saved_arrays
        if not self.keepdims:
            grad_output = np.expand_dims(grad_output, self.axes)
        return (grad_output * np.exp(x - out),)


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
