"""Synchronized batch normalisation: the batch statistics of the *global* batch.

With data parallelism each process sees only its shard of the batch. Plain batch norm
then normalises with the shard's mean and variance (what PyTorch's DDP does by default):
cheap, and fine for large shards, but N processes x B no longer compute what one process
x N*B computes, and tiny shards give noisy statistics. Synchronized batch norm all-reduces
the per-channel sums instead, so every process normalises with the global batch's
statistics and the result is the one-process result.

For ``x: [..., C]`` with ``m`` rows on this process and ``M = sum of m`` over the processes,
every sum below taken over all ``M`` rows (an all-reduce of the local sums)::

    mean = sum(x) / M                var = sum((x - mean) ** 2) / M     (two all-reduces)
    x_hat = (x - mean) / sqrt(var + eps)       y = scale * x_hat + offset

Backward, with ``g`` the gradient of this process's loss. The training step later averages
the processes' gradients with weights ``w = m / M`` (see
:func:`~minislim.parallel.data_parallel.allreduce_gradients`), so the gradient of the
*global* loss reaching ``y`` on a process is ``w_i * g``; the global sums are therefore
taken over ``w_i * g`` (one all-reduce), and the local result is divided by the local
``w``::

    S1 = sum(w * g)     S2 = sum(w * g * x_hat)                         (one all-reduce)
    d x = scale / sqrt(var + eps) * (g - S1 / m - x_hat * S2 / m)
    d offset = sum over this process's rows of g    d scale = ... of g * x_hat

``d offset`` and ``d scale`` stay local: the step's gradient average combines them. With
equal shards ``S1 / m = sum(g) / M``, the familiar formula. With one process (``w = 1``)
every line is the plain batch norm's.

>>> import numpy as np
>>> from minislim.autograd.tensor import Tensor
>>> from minislim.parallel.communicator import SingleProcessCommunicator
>>> op = SyncBatchNormTraining(SingleProcessCommunicator(), epsilon=0.0)
>>> y = op(Tensor(np.array([[1.0, 10.0], [3.0, 30.0]])), Tensor(np.ones(2)), Tensor(np.zeros(2)))
>>> y.data.tolist(), op.batch_mean.tolist(), op.batch_variance.tolist(), op.count
([[-1.0, -1.0], [1.0, 1.0]], [2.0, 20.0], [1.0, 100.0], 2)
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.kernels.reduce import channel_sums


class SyncBatchNormTraining(Function):
    """Batch norm (training mode) with statistics all-reduced over ``comm``'s processes.

    Args:
        comm: a communicator (every process of it must run this op at the same point).
        epsilon: added to the variance.

    After the forward pass the instance holds ``batch_mean`` and ``batch_variance`` (the
    global statistics, ``[C]``, the variance divided by ``M``) and ``count`` (``M``), for
    the layer's moving averages.
    """

    def __init__(self, comm, epsilon: float = 1e-3):
        self.comm = comm
        self.epsilon = epsilon
        self.batch_mean = self.batch_variance = self.count = None

    def forward(self, x, scale, offset):
        channels = x.shape[-1]
        if scale.shape != (channels,) or offset.shape != (channels,):
            raise ValueError(f"sync_batch_norm: scale and offset must be [C] = [{channels}], got "
                             f"{scale.shape} and {offset.shape} for x of shape {x.shape}")
        rows = np.ascontiguousarray(x).reshape(-1, channels)  # [m, C]
        local = rows.shape[0]
        total_sum, total = self.comm.allreduce([channel_sums(rows), np.array([local], dtype=rows.dtype)])
        count = int(round(float(total[0])))
        if local == 0 or count < 1:
            raise ValueError(f"sync_batch_norm: x of shape {x.shape} has no values to normalise")
        mean = total_sum / count
        centered = rows - mean
        (squares,) = self.comm.allreduce([np.einsum("mc,mc->c", centered, centered)])
        variance = squares / count
        inv_std = 1.0 / np.sqrt(variance + np.asarray(self.epsilon, dtype=variance.dtype))
        x_hat = centered
        x_hat *= inv_std
        self.batch_mean, self.batch_variance, self.count = mean, variance, count
        self.save_for_backward(x_hat, inv_std, scale)
        self.weight = local / count  # this process's share of the global loss
        y = x_hat * scale
        y += offset
        return y.reshape(x.shape)

    def backward(self, grad_output):
        x_hat, inv_std, scale = self.saved_arrays
        g = np.ascontiguousarray(grad_output).reshape(x_hat.shape)
        local = g.shape[0]
        grad_offset = channel_sums(g)
        grad_scale = np.einsum("mc,mc->c", g, x_hat)
        grad_x = None
        if self.needs_input_grad[0]:
            if self.comm.size == 1:
                sum_g, sum_gx = grad_offset, grad_scale
            else:
                weight = g.dtype.type(self.weight)
                sum_g, sum_gx = self.comm.allreduce([grad_offset * weight, grad_scale * weight])
            grad_x = g - sum_g / local
            grad_x -= x_hat * (sum_gx / local)
            grad_x *= scale * inv_std
            grad_x = grad_x.reshape(grad_output.shape)
        return (grad_x, grad_scale if self.needs_input_grad[1] else None,
                grad_offset if self.needs_input_grad[2] else None)
