"""Attach the differentiable ops to ``Tensor`` as operators and methods.

The autograd core (layer 2) cannot import the ops (layer 3), so the ops package adds
``x + y``, ``x.sum()``, ``x[i]`` and friends to the class when it is imported.
:func:`install` runs once, from ``minislim/ops/__init__.py``.

Comparisons (``<``, ``==``, ...) return boolean tensors with no gradient; tensors stay
hashable by identity, as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.ops import arithmetic, math_ops, reductions, shape_ops


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _comparison(numpy_op):
    def compare(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(numpy_op(self.data, other))
    return compare


def _shape_args(args):
    """Accept both ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def install() -> None:
    """Define Tensor's operators and op methods."""
    methods = {
        "__add__": arithmetic.add, "__radd__": _reflected(arithmetic.add),
        "__sub__": arithmetic.subtract, "__rsub__": _reflected(arithmetic.subtract),
        "__mul__": arithmetic.multiply, "__rmul__": _reflected(arithmetic.multiply),
        "__truediv__": arithmetic.divide, "__rtruediv__": _reflected(arithmetic.divide),
        "__neg__": arithmetic.negative,
        "__pow__": arithmetic.power, "__rpow__": _reflected(arithmetic.power),
        "__matmul__": arithmetic.matmul, "__rmatmul__": _reflected(arithmetic.matmul),
        "__getitem__": shape_ops.getitem,
        "__lt__": _comparison(np.less), "__le__": _comparison(np.less_equal),
        "__gt__": _comparison(np.greater), "__ge__": _comparison(np.greater_equal),
        "__eq__": _comparison(np.equal), "__ne__": _comparison(np.not_equal),
        "__hash__": object.__hash__,
        "sum": reductions.sum, "mean": reductions.mean, "max": reductions.max,
        "min": reductions.min, "var": reductions.var,
        "exp": math_ops.exp, "log": math_ops.log, "sqrt": math_ops.sqrt, "abs": math_ops.abs,
        "clip": math_ops.clip,
        "reshape": lambda self, *shape: shape_ops.reshape(self, _shape_args(shape)),
        "transpose": lambda self, *axes: shape_ops.transpose(self, _shape_args(axes) or None),
        "broadcast_to": shape_ops.broadcast_to,
        "T": property(lambda self: shape_ops.transpose(self)),
    }
    for name, method in methods.items():
        setattr(Tensor, name, method)
