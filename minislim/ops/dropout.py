"""Dropout: zero each element with probability ``1 - keep_prob``, scale the rest up.

Kept elements are divided by ``keep_prob`` ("inverted dropout"), so the expected value of
every element is unchanged and nothing needs rescaling at evaluation time, when dropout
is the identity. The random mask comes from a ``numpy.random.Generator``: the ``rng``
argument, or :func:`minislim.ops.random.default_generator` (seeded by
``slim.set_random_seed``).

>>> import numpy as np
>>> import minislim as slim
>>> y = slim.nn.dropout(slim.tensor(np.ones(8)), keep_prob=0.5, rng=np.random.default_rng(0))
>>> sorted(set(y.data.tolist()))
[0.0, 2.0]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.ops import random
from minislim.ops.arithmetic import multiply


def dropout(x, keep_prob: float, training: bool = True, rng: np.random.Generator | None = None,
            noise_shape=None):
    """Inverted dropout.

    Args:
        x: a Tensor of any shape.
        keep_prob: probability of keeping each element, in (0, 1].
        training: when False, return ``x`` unchanged.
        rng: the generator for the mask (default: the ops' default generator).
        noise_shape: shape of the mask, broadcast against ``x`` (e.g. ``[N, 1, 1, C]``
            drops whole channels).

    Returns:
        A Tensor shaped like ``x``.

    Raises:
        TypeError: ``x`` is not floating-point (the kept values are divided by
            ``keep_prob``), in training and evaluation alike.
        ValueError: ``keep_prob`` is outside (0, 1].
    """
    if not 0 < keep_prob <= 1:
        raise ValueError(f"dropout: keep_prob must be in (0, 1], got {keep_prob}")
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if not np.issubdtype(data.dtype, np.floating):
        raise TypeError(f"dropout: x must be a floating-point tensor (its kept values are scaled by "
                        f"1/keep_prob), got dtype {data.dtype}; convert it first, e.g. slim.tensor(values, dtype=np.float32)")
    if not training or keep_prob == 1:
        return x
    shape = data.shape if noise_shape is None else tuple(noise_shape)
    generator = rng if rng is not None else random.default_generator()
    mask = (generator.random(shape) < keep_prob).astype(data.dtype) / np.asarray(keep_prob, dtype=data.dtype)
    return multiply(x, Tensor(mask))
