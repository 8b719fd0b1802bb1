"""Attach the differentiable ops to ``Tensor`` as operators and methods.

The autograd core (layer 2) cannot import the ops (layer 3), so the ops package adds
``x + y``, ``x.sum()``, ``x[i]`` and friends to the class when it is imported.
:func:`install` runs once, from ``minislim/ops/__init__.py``.
"""
from __future__ import annotations

from minislim.autograd.tensor import Tensor
from minislim.ops import arithmetic as ar


def _reflected(fn):
    return lambda self, other: fn(other, self)


def install() -> None:
    """Define Tensor's operators and op methods (idempotent)."""
    Tensor.__add__ = ar.add
    Tensor.__radd__ = _reflected(ar.add)
    Tensor.__sub__ = ar.subtract
    Tensor.__rsub__ = _reflected(ar.subtract)
    Tensor.__mul__ = ar.multiply
    Tensor.__rmul__ = _reflected(ar.multiply)
    Tensor.__truediv__ = ar.divide
    Tensor.__rtruediv__ = _reflected(ar.divide)
    Tensor.__neg__ = ar.negative
    Tensor.__pow__ = ar.power
    Tensor.__rpow__ = _reflected(ar.power)
    Tensor.__matmul__ = ar.matmul
    Tensor.__rmatmul__ = _reflected(ar.matmul)
