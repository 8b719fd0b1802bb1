"""Attach the differentiable ops to ``Tensor`` as operators and methods.

The autograd core (layer 2) cannot import the ops (layer 3), so the ops package adds
``x + y``, ``x.sum()``, ``x[i]`` and friends to the class when it is imported.
:func:`install` runs once, from ``minislim/ops/__init__.py``.

Comparisons (``<``, ``==``, ...) return boolean tensors with no gradient; tensors stay
hashable by identity, as in PyTorch.

The in-place operators ``+= -= *= /=`` change the tensor itself (its ``data`` buffer,
so every holder of the tensor, a Variable's collections included, sees the new values),
as in PyTorch, where nothing is recorded: under ``no_grad()``, or when neither operand
requires grad. While autograd records, a leaf that requires grad (a variable) is refused
with RuntimeError, as in PyTorch, and any other tensor gets a new, recorded result:
``loss += reg`` means ``loss = loss + reg``.

>>> import minislim as slim
>>> w = slim.tensor([1.0, 2.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> same = w
>>> with slim.no_grad():
...     w -= 0.5 * slim.tensor(w.grad)       # a gradient-descent step, in place
>>> same is w, w.data.tolist()
(True, [0.0, 0.0])
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.grad_mode import is_grad_enabled
from minislim.autograd.tensor import Tensor
from minislim.ops import arithmetic, math_ops, reductions, shape_ops


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _comparison(numpy_op):
    def compare(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(numpy_op(self.data, other))
    return compare


def _in_place(name: str, symbol: str, ufunc, op):
    """``x <symbol>= y``: update ``x``'s buffer with ``ufunc(x, y)``, keeping its shape and dtype.

    While autograd records (``op`` is the differentiable op), ``x`` is not changed: a leaf
    that requires grad (a variable) is refused, as in PyTorch, and any other tensor gets
    the recorded result ``op(x, y)`` (``loss += reg`` builds the graph as ``loss = loss + reg``).
    """
    def update(self, other):
        other_requires_grad = isinstance(other, Tensor) and other.requires_grad
        if is_grad_enabled() and (self.requires_grad or other_requires_grad):
            if self.requires_grad and self.creator is None:
                raise RuntimeError(
                    f"x {symbol}= y: x is a leaf that requires grad (a variable?), and changing it in "
                    f"place would bypass autograd; wrap the update in `with slim.no_grad():` (e.g. an "
                    f"optimizer step), or write `z = x {symbol} y` for a new tensor in the graph")
            return op(self, other)
        own = self.data
        values = other.data if isinstance(other, Tensor) else other
        if not own.flags.writeable:
            raise ValueError(f"x {symbol}= y: x's buffer of shape {own.shape} is read-only (a broadcast "
                             f"view?); write `x = x {symbol} y` instead")
        try:
            ufunc(own, values, out=own, casting="same_kind")
        except TypeError as error:  # e.g. an int tensor /= 2: the float result does not fit
            raise TypeError(f"x {symbol}= y: the result cannot be stored in x's dtype {own.dtype} "
                            f"(y's dtype: {np.asarray(values).dtype}): {error}") from None
        except ValueError:
            raise ValueError(f"x {symbol}= y: y of shape {np.shape(values)} does not broadcast to x's "
                             f"shape {own.shape} (an in-place update keeps x's shape)") from None
        return self
    update.__name__ = update.__qualname__ = name
    update.__doc__ = f"``x {symbol}= y`` in place, outside autograd (under ``no_grad()``, or without gradients)."
    return update


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
        "__iadd__": _in_place("__iadd__", "+", np.add, arithmetic.add),
        "__isub__": _in_place("__isub__", "-", np.subtract, arithmetic.subtract),
        "__imul__": _in_place("__imul__", "*", np.multiply, arithmetic.multiply),
        "__itruediv__": _in_place("__itruediv__", "/", np.divide, arithmetic.divide),
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
