"""Normalisation ops: ``fused_batch_norm`` (one op, forward and backward side by side),
and ``batch_normalization`` and ``l2_normalize`` composed from primitives.

``fused_batch_norm``: batch normalisation over a batch, forward and backward in one op.

For ``x: [..., C]`` with ``M`` values per channel (``M = N*H*W`` for images)::

    mean = sum(x) / M                    var = sum((x - mean) ** 2) / M
    x_hat = (x - mean) / sqrt(var + eps)
    y = scale * x_hat + offset           (scale, offset: [C])

The backward pass, with ``g`` the output gradient and every mean taken over the ``M``
values of a channel::

    d offset = sum(g)                    d scale = sum(g * x_hat)
    d x = scale / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))

One op instead of the ten or so primitives the formula needs (compare
:func:`batch_normalization` below, composed from them) saves their intermediate arrays and passes.
Per-channel sums use :func:`minislim.kernels.reduce.channel_sums` (one pass each).
The op's instance keeps ``batch_mean`` and ``batch_variance`` (ndarrays; the variance
divided by ``M``) so that the batch-norm layer can update its moving averages.

>>> import numpy as np
>>> import minislim as slim
>>> from minislim.ops.normalization import fused_batch_norm
>>> x = slim.tensor(np.array([[1.0, 10.0], [3.0, 30.0]]))
>>> y, mean, var = fused_batch_norm(x, slim.tensor(np.ones(2)), slim.tensor(np.zeros(2)), epsilon=0.0)
>>> y.data.tolist(), mean.data.tolist(), var.data.tolist()
([[-1.0, -1.0], [1.0, 1.0]], [2.0, 20.0], [1.0, 100.0])
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.autograd.tensor import Tensor
from minislim.kernels.reduce import channel_sums
from minislim.ops.arithmetic import add, divide, multiply, subtract
from minislim.ops.math_ops import maximum, sqrt
from minislim.ops.reductions import sum as reduce_sum
from minislim.ops.registry import register


class BatchNormTraining(Function):
    """``y = scale * (x - mean) / sqrt(var + eps) + offset`` with the batch's mean and var.

    Memory traffic decides its speed (a few flops per value), so each line below is one
    pass over the ``[M, C]`` values, and there are as few as NumPy allows: forward, a sum,
    a subtraction, a sum of squares and ``y = centered * (scale / std) + offset`` (two
    passes); backward, the two sums of the gradient and ``d x`` in four passes. The
    backward pass uses ``x - mean`` (kept) in place of ``x_hat``, folding ``1 / std`` into
    the per-channel factors instead of into a full-size array.
    """

    def __init__(self, epsilon: float = 1e-3):
        self.epsilon = epsilon
        self.batch_mean = self.batch_variance = None

    def forward(self, x, scale, offset):
        channels = x.shape[-1]
        if scale.shape != (channels,) or offset.shape != (channels,):
            raise ValueError(f"fused_batch_norm: scale and offset must be [C] = [{channels}], got "
                             f"{scale.shape} and {offset.shape} for x of shape {x.shape}")
        rows = np.ascontiguousarray(x).reshape(-1, channels)  # [M, C]
        count = rows.shape[0]
        if count == 0:
            raise ValueError(f"fused_batch_norm: x of shape {x.shape} has no values to normalise")
        mean = channel_sums(rows) / count                              # pass 1
        centered = rows - mean                                         # pass 2
        variance = np.einsum("mc,mc->c", centered, centered) / count   # pass 3: sum of squares
        inv_std = 1.0 / np.sqrt(variance + np.asarray(self.epsilon, dtype=variance.dtype))
        self.batch_mean, self.batch_variance = mean, variance
        self.save_for_backward(centered, inv_std, scale)
        y = centered * (scale * inv_std)                               # pass 4
        y += offset                                                    # pass 5
        return y.reshape(x.shape)

    def backward(self, grad_output):
        centered, inv_std, scale = self.saved_arrays
        g = np.ascontiguousarray(grad_output).reshape(centered.shape)
        count = g.shape[0]
        grad_offset = channel_sums(g)                                  # pass 1: sum(g)
        grad_scale = np.einsum("mc,mc->c", g, centered) * inv_std      # pass 2: sum(g * x_hat)
        grad_x = None
        if self.needs_input_grad[0]:
            # d x = scale / std * (g - mean(g) - x_hat * mean(g * x_hat)), per channel:
            #     = g * k - centered * k_centered - k_offset
            k = scale * inv_std
            k_centered = k * inv_std * grad_scale / count
            grad_x = g * k                                             # pass 3
            grad_x -= centered * k_centered                            # passes 4 and 5
            grad_x -= k * grad_offset / count                          # pass 6
            grad_x = grad_x.reshape(grad_output.shape)
        return (grad_x, grad_scale if self.needs_input_grad[1] else None,
                grad_offset if self.needs_input_grad[2] else None)


def fused_batch_norm(x, scale, offset, epsilon: float = 1e-3):
    """Normalise ``x: [..., C]`` with its own per-channel mean and variance (training mode).

    Args:
        x: a Tensor with channels last (``[N, C]`` or ``[N, H, W, C]``).
        scale, offset: ``[C]`` Tensors (gamma and beta).
        epsilon: added to the variance.

    Returns:
        ``(y, batch_mean, batch_variance)``: ``y`` shaped like ``x``; the two statistics
        as Tensors without gradient (the variance divided by M, not M - 1).
    """
    op = BatchNormTraining(epsilon)
    y = op(x, scale, offset)
    return y, Tensor(op.batch_mean), Tensor(op.batch_variance)



def batch_normalization(x, mean, variance, offset=None, scale=None, variance_epsilon: float = 1e-3):
    """TF's ``tf.nn.batch_normalization``: ``(x - mean) / sqrt(variance + eps) * scale + offset``.

    Composed from differentiable primitives, so the engine derives its gradient (with the
    statistics given, not computed from ``x``: that is :func:`fused_batch_norm`).
    """
    y = divide(subtract(x, mean), sqrt(add(variance, variance_epsilon)))
    if scale is not None:
        y = multiply(y, scale)
    if offset is not None:
        y = add(y, offset)
    return y


def l2_normalize(x, axis=None, epsilon: float = 1e-12):
    """``x / sqrt(max(sum(x**2, axis), epsilon))`` (TF's ``tf.nn.l2_normalize``).

    >>> from minislim.autograd.tensor import Tensor
    >>> [round(v, 3) for v in l2_normalize(Tensor([3.0, 4.0]), axis=0).data.tolist()]
    [0.6, 0.8]
    """
    squared = reduce_sum(multiply(x, x), axis=axis, keepdims=True)
    return divide(x, sqrt(maximum(squared, epsilon)))

def _bn_inputs(rng):
    shape = tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(1, 4)))) + (int(rng.integers(1, 4)),)
    shape = (int(rng.integers(2, 4)),) + shape  # at least two values per channel
    channels = shape[-1]
    return [rng.standard_normal(shape), rng.uniform(0.5, 2.0, channels), rng.standard_normal(channels)]


register("fused_batch_norm", lambda x, scale, offset: fused_batch_norm(x, scale, offset)[0], _bn_inputs,
         domain="at least two values per channel (the variance is not constant)")
