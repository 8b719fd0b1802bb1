"""Pooling ops: ``max_pool2d``, ``avg_pool2d`` and ``global_avg_pool2d`` (NHWC).

Thin :class:`~minislim.autograd.function.Function` wrappers around
:mod:`minislim.kernels.pool`, which also states the tie rule of max pooling (the first
maximum of a window in row-major order takes the whole gradient) and TF's SAME divisor
of average pooling (the number of cells inside the input).

>>> import numpy as np
>>> import minislim as slim
>>> x = slim.tensor(np.arange(16.0).reshape(1, 4, 4, 1), requires_grad=True)
>>> y = slim.nn.max_pool2d(x, 2)                    # 2x2 windows, stride 2, VALID
>>> y.data[0, :, :, 0].tolist()
[[5.0, 7.0], [13.0, 15.0]]
>>> y.sum().backward()
>>> x.grad[0, :, :, 0].tolist()[1]                  # the maxima receive the gradient
[0.0, 1.0, 0.0, 1.0]
"""
from __future__ import annotations

from minislim.autograd.function import Function
from minislim.kernels import pool as kernels
from minislim.ops.registry import distinct, register


class MaxPool2D(Function):
    """Max pooling; backward sends each window's gradient to its first maximal cell."""

    def __init__(self, kernel_size, stride=2, padding="VALID"):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        y = kernels.max_pool2d(x, self.kernel_size, self.stride, self.padding)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad_output):
        x, y = self.saved_arrays
        return (kernels.max_pool2d_grad(x, grad_output, self.kernel_size, self.stride, self.padding, output=y),)


class AvgPool2D(Function):
    """Average pooling; backward shares each window's gradient equally among its cells."""

    def __init__(self, kernel_size, stride=2, padding="VALID"):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        self.input_shape = x.shape
        return kernels.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def backward(self, grad_output):
        return (kernels.avg_pool2d_grad(grad_output, self.input_shape, self.kernel_size, self.stride,
                                        self.padding),)


class GlobalAvgPool2D(Function):
    """Mean over H and W."""

    def __init__(self, keepdims=False):
        self.keepdims = keepdims

    def forward(self, x):
        self.input_shape = x.shape
        return kernels.global_avg_pool2d(x, self.keepdims)

    def backward(self, grad_output):
        return (kernels.global_avg_pool2d_grad(grad_output, self.input_shape),)


def max_pool2d(inputs, kernel_size, stride=2, padding="VALID"):
    """Max pooling, as ``slim.max_pool2d`` (defaults ``stride=2``, ``padding="VALID"``).

    Args:
        inputs: ``[N, H, W, C]``.
        kernel_size, stride: an int or a pair ``(along H, along W)``.
        padding: ``"VALID"`` or ``"SAME"`` (padding never wins the max).

    Returns:
        A Tensor ``[N, OH, OW, C]``.
    """
    return MaxPool2D(kernel_size, stride, padding)(inputs)


def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID"):
    """Average pooling, as ``slim.avg_pool2d``; SAME divides by the cells inside the input (TF's rule).

    Args:
        inputs: ``[N, H, W, C]``.
        kernel_size, stride: an int or a pair; padding: ``"VALID"`` or ``"SAME"``.

    Returns:
        A Tensor ``[N, OH, OW, C]``.
    """
    return AvgPool2D(kernel_size, stride, padding)(inputs)


def global_avg_pool2d(inputs, keepdims=False):
    """Mean over H and W: ``[N, H, W, C] -> [N, C]`` (``[N, 1, 1, C]`` with ``keepdims=True``)."""
    return GlobalAvgPool2D(keepdims)(inputs)


# --- the op table -------------------------------------------------------------------------

def _images(rng, min_size=1, max_size=6):
    return tuple(int(v) for v in rng.integers([1, min_size, min_size, 1], [3, max_size + 1, max_size + 1, 3]))


def _pool_kwargs(rng, inputs):
    """A random window, stride and padding; VALID only where the window fits."""
    kernel_size = tuple(int(v) for v in rng.integers(1, 4, size=2))
    padding = "VALID" if rng.random() < 0.5 and all(k <= n for k, n in zip(kernel_size, inputs[0].shape[1:3])) \
        else "SAME"
    return {"kernel_size": kernel_size, "stride": tuple(int(v) for v in rng.integers(1, 4, size=2)),
            "padding": padding}


register("nn.max_pool2d", max_pool2d, lambda rng: [distinct(rng, _images(rng))], make_kwargs=_pool_kwargs,
         domain="distinct values (no ties inside a window)")
register("nn.avg_pool2d", avg_pool2d, lambda rng: [rng.standard_normal(_images(rng))], make_kwargs=_pool_kwargs)
register("nn.global_avg_pool2d", global_avg_pool2d, lambda rng: [rng.standard_normal(_images(rng))],
         make_kwargs=lambda rng, inputs: {"keepdims": bool(rng.random() < 0.5)})
