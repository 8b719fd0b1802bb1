"""Reductions along axes: sum, mean, max, min, var (each with ``axis`` and ``keepdims``).

The backward of a reduction spreads the gradient back over the reduced axes: evenly for
``sum``/``mean``, to the winning element for ``max``/``min``. Ties: the **first** maximum
(in row-major order over the reduced axes) takes the whole gradient, the rule every
minislim kernel follows.

>>> import minislim as slim
>>> x = slim.tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
>>> x.max(axis=1).sum().backward()
>>> x.grad.tolist()
[[0.0, 1.0], [1.0, 0.0]]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.kernels.reduce import channel_sums
from minislim.ops.registry import distinct, random_shape, register
from minislim.ops.shape_ops import broadcast_to


def normalize_axes(axis, ndim: int) -> tuple:
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor of rank {ndim}")
    return tuple(sorted({int(a) % ndim for a in axes}))


def _restore_reduced_axes(grad: np.ndarray, input_shape: tuple, axes: tuple, keepdims: bool) -> np.ndarray:
    """Reshape a reduction's gradient so it broadcasts against the input."""
    if keepdims:
        return grad
    kept = [1 if i in axes else n for i, n in enumerate(input_shape)]
    return grad.reshape(kept)


# Each backward is written with differentiable ops on Tensors (broadcast_to, reshape, *),
# so it can be recorded for higher-order gradients (autograd/higher_order.py).

class Sum(Function):
    differentiable_backward = True

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim)
        self.input_shape = x.shape
        return np.sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad_output):
        grad = _restore_reduced_axes(grad_output, self.input_shape, self.axes, self.keepdims)
        return (broadcast_to(grad, self.input_shape),)


class Mean(Function):
    differentiable_backward = True

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim)
        self.input_shape = x.shape
        self.count = int(np.prod([x.shape[a] for a in self.axes], dtype=np.int64))
        return np.mean(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad_output):
        grad = _restore_reduced_axes(grad_output, self.input_shape, self.axes, self.keepdims)
        return (broadcast_to(grad / self.count, self.input_shape),)


class Var(Function):
    """Variance ``mean((x - mean(x))**2)`` over ``axis``, divided by ``count - ddof``."""

    differentiable_backward = True

    def __init__(self, axis=None, keepdims: bool = False, ddof: int = 0):
        self.axis, self.keepdims, self.ddof = axis, keepdims, ddof

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim)
        self.input_shape = x.shape
        count = int(np.prod([x.shape[a] for a in self.axes], dtype=np.int64))
        centered = x - np.mean(x, axis=self.axes, keepdims=True)
        self.divisor = count - self.ddof
        return np.sum(centered * centered, axis=self.axes, keepdims=self.keepdims) / self.divisor

    def backward(self, grad_output):
        (x,) = self.inputs
        centered = x - mean(x, axis=self.axes, keepdims=True)  # recomputed: differentiable in x
        grad = _restore_reduced_axes(grad_output, self.input_shape, self.axes, self.keepdims)
        return (grad * centered * (2 / self.divisor),)


class ChannelSum(Function):
    """Sum over every axis but the last: ``[..., C] -> [C]`` (a bias's gradient), in one pass."""

    differentiable_backward = True

    def forward(self, x):
        self.input_shape = x.shape
        return channel_sums(np.ascontiguousarray(x).reshape(-1, x.shape[-1]))  # [M, C] -> [C]

    def backward(self, grad_output):
        return (broadcast_to(grad_output, self.input_shape),)


class _ArgReduce(Function):
    """Max or min over axes; the gradient goes to the first winning element.

    The backward multiplies the (broadcast) gradient by a constant 0/1 mask of the winners,
    so it is written with differentiable ops.
    """

    differentiable_backward = True
    pick = None  # np.argmax or np.argmin

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}: cannot reduce an empty tensor of shape {x.shape}")
        self.axes = normalize_axes(self.axis, x.ndim)
        kept_axes = [a for a in range(x.ndim) if a not in self.axes]
        # Move the reduced axes last and flatten them: argmax then finds the first winner
        # in row-major order over the reduced axes.
        moved = np.transpose(x, kept_axes + list(self.axes))
        flat = moved.reshape(moved.shape[:len(kept_axes)] + (-1,))
        winner = type(self).pick(flat, axis=-1)
        self.save_for_backward(winner)
        self.moved_shape, self.kept_axes, self.input_shape = moved.shape, kept_axes, x.shape
        out = np.take_along_axis(flat, winner[..., None], axis=-1)[..., 0]
        if self.keepdims:
            out = out.reshape([1 if a in self.axes else n for a, n in enumerate(x.shape)])
        return out

    def backward(self, grad_output):
        (winner,) = self.saved_arrays
        kept_shape = tuple(self.input_shape[a] for a in self.kept_axes)
        reduced_size = int(np.prod(self.moved_shape[len(kept_shape):], dtype=np.int64))
        flat_mask = np.zeros(kept_shape + (reduced_size,), dtype=grad_output.dtype)
        np.put_along_axis(flat_mask, winner[..., None], 1, axis=-1)
        winners = np.transpose(flat_mask.reshape(self.moved_shape), np.argsort(self.kept_axes + list(self.axes)))
        grad = _restore_reduced_axes(grad_output, self.input_shape, self.axes, self.keepdims)
        return (grad * winners,)


class Max(_ArgReduce):
    pick = staticmethod(np.argmax)


class Min(_ArgReduce):
    pick = staticmethod(np.argmin)


def sum(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Sum over ``axis`` (None: all axes)."""
    return Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims: bool = False):
    """Mean over ``axis`` (None: all axes)."""
    return Mean(axis, keepdims)(x)


def var(x, axis=None, keepdims: bool = False, ddof: int = 0):
    """Variance over ``axis`` (population variance unless ``ddof=1``)."""
    return Var(axis, keepdims, ddof)(x)


def channel_sum(x):
    """Sum over every axis but the last (``[..., C] -> [C]``)."""
    return ChannelSum()(x)


def max(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Maximum over ``axis``; ties send the gradient to the first maximum."""
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Minimum over ``axis``; ties send the gradient to the first minimum."""
    return Min(axis, keepdims)(x)


def _reduction_inputs(rng, values=None):
    shape = random_shape(rng, 1, 3)
    return [distinct(rng, shape) if values == "distinct" else rng.standard_normal(shape)]


def _axis_and_keepdims(rng, inputs):
    ndim = inputs[0].ndim
    choice = int(rng.integers(0, 3))
    if choice == 0:
        axis = None
    elif choice == 1:
        axis = int(rng.integers(-ndim, ndim))
    else:
        axis = tuple(sorted(set(int(a) for a in rng.integers(0, ndim, size=2))))
    return {"axis": axis, "keepdims": bool(rng.integers(0, 2))}


register("sum", sum, _reduction_inputs, make_kwargs=_axis_and_keepdims)
register("mean", mean, _reduction_inputs, make_kwargs=_axis_and_keepdims)
register("var", var, _reduction_inputs, make_kwargs=_axis_and_keepdims)
register("max", max, lambda rng: _reduction_inputs(rng, "distinct"), "no ties (distinct values)",
         make_kwargs=_axis_and_keepdims)
register("min", min, lambda rng: _reduction_inputs(rng, "distinct"), "no ties (distinct values)",
         make_kwargs=_axis_and_keepdims)
register("channel_sum", channel_sum, lambda rng: [rng.standard_normal(random_shape(rng, 1))])
