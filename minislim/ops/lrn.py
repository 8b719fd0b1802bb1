"""Local response normalisation across channels (``tf.nn.lrn``), used by CifarNet.

For NHWC inputs ``x``, with ``r = depth_radius``::

    sqr_sum[n, h, w, c] = sum(x[n, h, w, c - r : c + r + 1] ** 2)
    output = x / (bias + alpha * sqr_sum) ** beta

It is composed from differentiable primitives (square, pad, a sum of shifted slices,
power, divide), so the engine derives its gradient; the op table checks it.

>>> import numpy as np
>>> import minislim as slim
>>> y = slim.nn.local_response_normalization(slim.tensor(np.ones((1, 1, 1, 3))), depth_radius=1, bias=1.0, alpha=1.0, beta=1.0)
>>> [round(v, 4) for v in y.data.ravel().tolist()]
[0.3333, 0.25, 0.3333]
"""
from __future__ import annotations

from minislim.ops.arithmetic import add, divide, multiply, power
from minislim.ops.registry import register
from minislim.ops.shape_ops import getitem, pad


def local_response_normalization(x, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
                                 beta: float = 0.5):
    """TF's ``tf.nn.lrn`` on ``x: [N, H, W, C]`` (normalises across C)."""
    if x.ndim != 4:
        raise ValueError(f"local_response_normalization: inputs must be [N, H, W, C], got shape {x.shape}")
    channels = x.shape[-1]
    squared = pad(multiply(x, x), [(0, 0), (0, 0), (0, 0), (depth_radius, depth_radius)])
    window_sum = getitem(squared, (Ellipsis, slice(0, channels)))
    for offset in range(1, 2 * depth_radius + 1):
        window_sum = add(window_sum, getitem(squared, (Ellipsis, slice(offset, offset + channels))))
    return divide(x, power(add(multiply(window_sum, alpha), bias), beta))


lrn = local_response_normalization

register("local_response_normalization",
         lambda x: local_response_normalization(x, depth_radius=2, bias=1.0, alpha=0.5, beta=0.75),
         lambda rng: [rng.standard_normal((int(rng.integers(1, 3)), 2, 2, int(rng.integers(1, 6))))])
