"""``batch_normalization`` and ``l2_normalize``, composed from differentiable primitives.

Both are written with the ops of this package, so their gradients come from the engine
without a backward of their own (the layers' ``batch_norm`` may use a fused op instead).

>>> import minislim as slim
>>> [round(v, 3) for v in slim.nn.l2_normalize(slim.tensor([3.0, 4.0]), axis=0).data.tolist()]
[0.6, 0.8]
"""
from __future__ import annotations

from minislim.ops.arithmetic import add, divide, multiply, subtract
from minislim.ops.math_ops import maximum, sqrt
from minislim.ops.reductions import sum as reduce_sum


def batch_normalization(x, mean, variance, offset=None, scale=None, variance_epsilon: float = 1e-3):
    """TF's ``tf.nn.batch_normalization``: ``(x - mean) / sqrt(variance + eps) * scale + offset``."""
    y = divide(subtract(x, mean), sqrt(add(variance, variance_epsilon)))
    if scale is not None:
        y = multiply(y, scale)
    if offset is not None:
        y = add(y, offset)
    return y


def l2_normalize(x, axis=None, epsilon: float = 1e-12):
    """``x / sqrt(max(sum(x**2, axis), epsilon))`` (TF's ``tf.nn.l2_normalize``)."""
    squared = reduce_sum(multiply(x, x), axis=axis, keepdims=True)
    return divide(x, sqrt(maximum(squared, epsilon)))
