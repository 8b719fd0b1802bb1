"""Ops that move values around without arithmetic: reshape, transpose, broadcast_to,
indexing, concat, stack, pad, one_hot.

Their backward passes move the gradient back the same way: reshape it back, transpose
by the inverse permutation, scatter it into the indexed positions, split it.

>>> import minislim as slim
>>> x = slim.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
>>> y = x[0, [0, 0, 2]]          # integer-array indexing: element 0 is taken twice
>>> y.sum().backward()
>>> x.grad.tolist()
[[2.0, 0.0, 1.0]]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.autograd.tensor import Tensor
from minislim.ops.registry import random_shape, register


# Each backward is written with differentiable ops on Tensors (reshape, transpose,
# indexing and its adjoint ScatterAdd), so it can be recorded for higher-order gradients
# (autograd/higher_order.py).

class Reshape(Function):
    differentiable_backward = True

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.input_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                             f"into shape {self.shape}") from None

    def backward(self, grad_output):
        return (grad_output.reshape(self.input_shape),)


class Transpose(Function):
    differentiable_backward = True

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        axes = tuple(reversed(range(x.ndim))) if self.axes is None else self.axes
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
        self.inverse = tuple(np.argsort([a % x.ndim for a in axes]))
        return np.transpose(x, axes)

    def backward(self, grad_output):
        return (grad_output.transpose(self.inverse),)


class BroadcastTo(Function):
    differentiable_backward = True

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        try:
            return np.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: shape {x.shape} does not broadcast to {self.shape}") from None

    def backward(self, grad_output):
        return (grad_output,)  # the engine sums it back to the input's shape


class GetItem(Function):
    """``x[key]`` with basic (ints, slices, None, Ellipsis) or integer-array/boolean indexing.

    Its backward puts the gradient back where the elements came from: :class:`ScatterAdd`,
    whose own backward is indexing again (each is the other's transpose).
    """

    differentiable_backward = True

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.input_shape, self.dtype = x.shape, x.dtype
        return x[self.key]

    def backward(self, grad_output):
        return (ScatterAdd(self.key, self.input_shape)(grad_output),)


class ScatterAdd(Function):
    """A zero array of ``shape`` with ``values`` added at ``[key]`` (the transpose of ``x[key]``)."""

    differentiable_backward = True

    def __init__(self, key, shape):
        self.key, self.shape = key, tuple(shape)

    def forward(self, values):
        if _is_basic_index(self.key):  # each element is picked at most once
            out = np.zeros(self.shape, dtype=values.dtype)
            out[self.key] = values
            return out
        # Integer arrays may pick an element several times: sum the values per element.
        # Number the elements, index the numbering like x, then count with weights.
        size = int(np.prod(self.shape, dtype=np.int64))
        picked = np.arange(size).reshape(self.shape)[self.key]
        summed = np.bincount(picked.ravel(), weights=np.broadcast_to(values, picked.shape).ravel(), minlength=size)
        return summed.reshape(self.shape).astype(values.dtype, copy=False)

    def backward(self, grad_output):
        return (getitem(grad_output, self.key),)


def _is_basic_index(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class Concat(Function):
    differentiable_backward = True

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *arrays):
        try:
            out = np.concatenate(arrays, axis=self.axis)
        except ValueError as error:
            raise ValueError(f"concat along axis {self.axis}: shapes {[a.shape for a in arrays]} do not fit ({error})") from None
        self.bounds = [0] + [int(b) for b in np.cumsum([a.shape[self.axis] for a in arrays])]
        self.out_axis = self.axis % out.ndim
        return out

    def backward(self, grad_output):
        before = (slice(None),) * self.out_axis
        return tuple(grad_output[before + (slice(start, stop),)]
                     for start, stop in zip(self.bounds[:-1], self.bounds[1:]))


class Stack(Function):
    differentiable_backward = True

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *arrays):
        if len({a.shape for a in arrays}) > 1:
            raise ValueError(f"stack: all tensors must have the same shape, got {[a.shape for a in arrays]}")
        out = np.stack(arrays, axis=self.axis)
        self.out_axis = self.axis % out.ndim
        return out

    def backward(self, grad_output):
        before = (slice(None),) * self.out_axis
        return tuple(grad_output[before + (i,)] for i in range(grad_output.shape[self.out_axis]))


class Pad(Function):
    """Constant padding; ``pad_width`` as in ``np.pad`` (one ``(before, after)`` per axis)."""

    differentiable_backward = True

    def __init__(self, pad_width, constant_value: float = 0.0):
        self.pad_width, self.constant_value = pad_width, constant_value

    def forward(self, x):
        widths = np.broadcast_to(np.asarray(self.pad_width, dtype=np.int64), (x.ndim, 2))
        if np.any(widths < 0):
            raise ValueError(f"pad: widths must be >= 0, got {self.pad_width}")
        self.inner = tuple(slice(int(b), int(b) + n) for (b, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=self.constant_value)

    def backward(self, grad_output):
        return (grad_output[self.inner],)


def reshape(x, shape):
    """Same values, new shape (one entry may be -1)."""
    return Reshape(shape)(x)


def transpose(x, axes=None):
    """Permute the axes (default: reverse them)."""
    return Transpose(axes)(x)


def broadcast_to(x, shape):
    """Broadcast ``x`` to ``shape``; the backward sums over the broadcast axes."""
    return BroadcastTo(shape)(x)


def getitem(x, key):
    """``x[key]``: basic slicing or integer-array / boolean indexing."""
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, tuple):
        key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
    elif isinstance(key, list):
        key = np.asarray(key)
        if key.size == 0:  # np.asarray([]) is float64; NumPy and PyTorch read x[[]] as "no elements"
            key = key.astype(np.intp)
    return GetItem(key)(x)


def concat(tensors, axis: int = 0):
    """Join tensors along an existing axis (``tf.concat``)."""
    return Concat(axis)(*tensors)


def stack(tensors, axis: int = 0):
    """Join same-shaped tensors along a new axis."""
    return Stack(axis)(*tensors)


def pad(x, pad_width, constant_value: float = 0.0):
    """Pad with a constant; ``pad_width`` is one ``(before, after)`` pair per axis."""
    return Pad(pad_width, constant_value)(x)


def one_hot(labels, depth: int, dtype=np.float32) -> Tensor:
    """``[...]`` integer labels -> ``[..., depth]`` one-hot rows (no gradient).

    As in TF's ``tf.one_hot``, a label outside ``[0, depth)`` (``-1``, a common "ignore"
    label, say) gives a row of zeros.

    >>> one_hot(np.array([2, -1]), 3).data.tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]

    Raises:
        TypeError: the labels are not integers.
    """
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    rows = np.arange(depth) == labels[..., None]  # all False for a label out of range
    return Tensor(rows.astype(dtype))


def _one(rng, min_rank=0):
    return [rng.standard_normal(random_shape(rng, min_rank))]


def _reshape_kwargs(rng, inputs):
    return {"shape": (-1,) if rng.random() < 0.5 else (1, inputs[0].size)}


def _transpose_kwargs(rng, inputs):
    return {"axes": tuple(int(a) for a in rng.permutation(inputs[0].ndim))}


def _broadcast_kwargs(rng, inputs):
    return {"shape": (int(rng.integers(1, 4)),) + tuple(n if rng.random() < 0.5 or n != 1 else 3 for n in inputs[0].shape)}


def _getitem_kwargs(rng, inputs):
    x = inputs[0]
    kind = int(rng.integers(0, 3))
    if kind == 0:  # basic: a slice with a step on axis 0
        return {"key": (slice(None, None, 2),)}
    if kind == 1:  # integer array with repeats on axis 0
        return {"key": rng.integers(0, x.shape[0], size=5)}
    return {"key": x > 0}  # boolean mask


def _many(rng):
    shape = random_shape(rng, 1, 3)
    count = int(rng.integers(1, 4))
    return [rng.standard_normal(shape) for _ in range(count)]


def _concat_inputs(rng):
    shape = list(random_shape(rng, 1, 3))
    out = []
    for _ in range(int(rng.integers(1, 4))):
        shape[0] = int(rng.integers(1, 4))
        out.append(rng.standard_normal(tuple(shape)))
    return out


register("reshape", reshape, _one, make_kwargs=_reshape_kwargs)
register("transpose", transpose, _one, make_kwargs=_transpose_kwargs)
register("broadcast_to", broadcast_to, _one, make_kwargs=_broadcast_kwargs)
register("getitem", getitem, lambda rng: _one(rng, 1), make_kwargs=_getitem_kwargs)
register("concat", lambda *xs: concat(xs, axis=0), _concat_inputs)
register("stack", lambda *xs: stack(xs, axis=-1), _many)
register("pad", lambda x: pad(x, [(1, 2)] * x.ndim), lambda rng: _one(rng, 1))
register("scatter_add", lambda v, key=(slice(None, None, 2),): ScatterAdd(key, (2 * v.shape[0],) + v.shape[1:])(v),
         lambda rng: _one(rng, 1))
