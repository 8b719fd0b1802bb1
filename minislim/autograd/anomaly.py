"""``detect_anomaly()``: stop at the first op that makes a NaN or an infinity, and name it.

A NaN in the loss says *that* something went wrong, not *where*. Inside
``with detect_anomaly():`` every op's output (forward pass) and every gradient an op's
backward returns (backward pass) is checked for NaN/inf, and the first non-finite value
raises :class:`AnomalyError` naming

* the op (its Function class) and the layer scope that made it,
* statistics of what went in (shape, min, max, count of non-finite values),
* the line of *your* code that created the op (recorded only in this mode).

Outside the block nothing is checked or recorded: the cost is one attribute lookup per op.

>>> import minislim as slim
>>> x = slim.tensor([1.0, -1.0], requires_grad=True)
>>> with slim.detect_anomaly():
...     with slim.variable_scope("head"):
...         y = slim.nn.log(x)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
minislim.autograd.anomaly.AnomalyError: detect_anomaly: forward pass of Log in scope 'head' made 1 NaN ...
"""
from __future__ import annotations

import contextlib

import numpy as np

from minislim.autograd.recording import Recording, user_origin


class AnomalyError(FloatingPointError):
    """A NaN or infinity was made inside ``detect_anomaly()`` (the message says where)."""


@contextlib.contextmanager
def detect_anomaly():
    """Context manager: check every op's output and gradients for NaN/inf (see the module)."""
    previous = Recording.anomaly
    Recording.anomaly = True
    try:
        yield
    finally:
        Recording.anomaly = previous


def is_anomaly_enabled() -> bool:
    return Recording.anomaly


def describe(array) -> str:
    """``shape (2, 3) float32, min -1, max 4, 1 NaN, 0 inf`` (the statistics of one array)."""
    array = np.asarray(array)
    text = f"shape {array.shape} {array.dtype}"
    if array.size == 0 or array.dtype.kind not in "fiub":
        return text
    finite = np.isfinite(array) if array.dtype.kind == "f" else np.ones(array.shape, bool)
    if finite.any():
        text += f", min {array[finite].min():.4g}, max {array[finite].max():.4g}"
    nan = int(np.isnan(array).sum()) if array.dtype.kind == "f" else 0
    inf = int(np.isinf(array).sum()) if array.dtype.kind == "f" else 0
    return text + f", {nan} NaN, {inf} inf"


def _bad(array) -> bool:
    return array.dtype.kind == "f" and not np.isfinite(array).all()


def _where(function, scope: str) -> str:
    return f"{type(function).__name__} in scope '{scope}'" if scope else f"{type(function).__name__} (no scope)"


def _count(array) -> str:
    nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    return " and ".join(part for part in (f"{nan} NaN" if nan else "", f"{inf} inf" if inf else "") if part)


def after_forward(function, inputs, output) -> None:
    """Called by ``Function.__call__`` in anomaly mode: record the origin, check the output."""
    origin = user_origin()
    function.origin = origin
    if not _bad(output):
        return
    lines = [f"detect_anomaly: forward pass of {_where(function, Recording.scope)} made {_count(output)} "
             f"in its output ({describe(output)})"]
    lines += [f"  input {i}: {describe(t.data)}" for i, t in enumerate(inputs)]
    lines.append(f"  created at {origin}")
    raise AnomalyError("\n".join(lines))


def after_backward(function, grad_output, input_grads) -> None:
    """Called by the engine in anomaly mode with what one op's backward returned."""
    for i, g in enumerate(input_grads):
        g = getattr(g, "data", g)
        if g is None or not _bad(np.asarray(g)):
            continue
        lines = [f"detect_anomaly: backward pass of {_where(function, function.scope)} made {_count(g)} "
                 f"in the gradient of input {i} ({describe(g)})",
                 f"  upstream gradient: {describe(getattr(grad_output, 'data', grad_output))}"]
        lines += [f"  input {j}: {describe(t.data)}" for j, t in enumerate(function.inputs)]
        lines.append(f"  created at {getattr(function, 'origin', '(before detect_anomaly() was entered)')}")
        raise AnomalyError("\n".join(lines))
