"""Fill in the ops behind ``Tensor``'s operators and methods.

``Tensor`` (layer 2) defines ``x + y``, ``x.sum()``, ``x[i]`` and friends itself, each as a
call to ``OPS.<name>`` (see :mod:`minislim.autograd.tensor`); the ops are layer 3, built
on the autograd core, which therefore cannot import them. :func:`install` puts them in
:data:`~minislim.autograd.tensor.OPS`; it runs once, from ``minislim/ops/__init__.py``.

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

from minislim.autograd.tensor import OPS
from minislim.ops import arithmetic, math_ops, reductions, shape_ops


def install() -> None:
    """Put the differentiable ops that Tensor's operators and methods call in ``OPS``."""
    ops = {
        "add": arithmetic.add, "subtract": arithmetic.subtract, "multiply": arithmetic.multiply,
        "divide": arithmetic.divide, "negative": arithmetic.negative, "power": arithmetic.power,
        "matmul": arithmetic.matmul,
        "getitem": shape_ops.getitem, "reshape": shape_ops.reshape, "transpose": shape_ops.transpose,
        "broadcast_to": shape_ops.broadcast_to,
        "sum": reductions.sum, "mean": reductions.mean, "max": reductions.max, "min": reductions.min,
        "var": reductions.var,
        "exp": math_ops.exp, "log": math_ops.log, "sqrt": math_ops.sqrt, "abs": math_ops.abs,
        "clip": math_ops.clip,
    }
    vars(OPS).update(ops)
