"""Slow, obviously-correct versions of the convolution and pooling kernels.

Each function here is a plain loop over output pixels that reads like the definition:
no strides, no im2col, no transposed convolution. The tests compare the fast kernels
with these, and the notebooks use them to explain what the fast ones compute. They share
only the output-size rules (:mod:`minislim.kernels.shapes`) with the fast kernels, and
pad with ``np.pad``.

>>> import numpy as np
>>> from minislim.kernels import conv
>>> rng = np.random.default_rng(0)
>>> x, filters = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((3, 3, 3, 4))
>>> np.allclose(conv2d(x, filters, stride=2), conv.conv2d(x, filters, stride=2))
True
"""
from __future__ import annotations

import numpy as np

from minislim.kernels.shapes import as_pair, resolve_padding


def _setup(x_shape, kernel, stride, padding, rate, scope):
    kernel, stride, rate = (as_pair(v, name, scope) for v, name in
                            ((kernel, "kernel_size"), (stride, "stride"), (rate, "rate")))
    pads, out_hw = resolve_padding(padding, tuple(x_shape[1:3]), kernel, stride, rate, scope)
    return kernel, stride, rate, pads, out_hw


def _window(padded, oh, ow, kernel, stride, rate):
    """Window ``(oh, ow)`` of every image: ``[N, KH, KW, C]``."""
    top, left = oh * stride[0], ow * stride[1]
    return padded[:, top:top + (kernel[0] - 1) * rate[0] + 1:rate[0],
                  left:left + (kernel[1] - 1) * rate[1] + 1:rate[1], :]


def _pad(x, pads, value=0.0):
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def _unpad(padded, pads, shape):
    (top, _), (left, _) = pads
    return padded[:, top:top + shape[1], left:left + shape[2], :]


def conv2d(x, filters, stride=1, padding="SAME", rate=1):
    """``y[:, oh, ow, :] = sum(window(oh, ow) * filters)``, one output pixel at a time."""
    kernel, stride, rate, pads, (oh_size, ow_size) = _setup(x.shape, filters.shape[:2], stride, padding, rate, "conv2d")
    padded = _pad(x, pads)
    y = np.zeros((x.shape[0], oh_size, ow_size, filters.shape[3]), np.result_type(x, filters))
    for oh in range(oh_size):
        for ow in range(ow_size):
            window = _window(padded, oh, ow, kernel, stride, rate)           # [N, KH, KW, C]
            y[:, oh, ow, :] = np.tensordot(window, filters, axes=3)          # [N, OC]
    return y


def conv2d_grad_input(grad_output, filters, input_shape, stride=1, padding="SAME", rate=1):
    """Each output pixel hands ``grad * filters`` back to the cells of its window."""
    kernel, stride, rate, pads, (oh_size, ow_size) = _setup(input_shape, filters.shape[:2], stride, padding, rate,
                                                            "conv2d")
    grad_padded = _pad(np.zeros(input_shape, np.result_type(grad_output, filters)), pads)
    for oh in range(oh_size):
        for ow in range(ow_size):
            window = _window(grad_padded, oh, ow, kernel, stride, rate)      # a view: += writes through
            window += np.tensordot(grad_output[:, oh, ow, :], filters, axes=([1], [3]))
    return _unpad(grad_padded, pads, input_shape)


def conv2d_grad_filter(x, grad_output, filters_shape, stride=1, padding="SAME", rate=1):
    """Each output pixel adds ``window * grad`` to the filters' gradient."""
    kernel, stride, rate, pads, (oh_size, ow_size) = _setup(x.shape, filters_shape[:2], stride, padding, rate, "conv2d")
    padded = _pad(x, pads)
    grad = np.zeros(filters_shape, np.result_type(x, grad_output))
    for oh in range(oh_size):
        for ow in range(ow_size):
            window = _window(padded, oh, ow, kernel, stride, rate)           # [N, KH, KW, C]
            grad += np.tensordot(window, grad_output[:, oh, ow, :], axes=([0], [0]))
    return grad


def conv2d_transpose(inputs, filters, output_shape, stride=1, padding="SAME"):
    """Transposed convolution: by definition, the input gradient of ``conv2d`` on ``output_shape``."""
    return conv2d_grad_input(inputs, filters, output_shape, stride, padding)


def max_pool2d(x, kernel_size, stride=2, padding="VALID"):
    """The largest cell of each window (padding is ``-inf``, so it never wins)."""
    kernel, stride, _, pads, (oh_size, ow_size) = _setup(x.shape, kernel_size, stride, padding, 1, "max_pool2d")
    padded = _pad(x, pads, -np.inf)
    y = np.zeros((x.shape[0], oh_size, ow_size, x.shape[3]), x.dtype)
    for oh in range(oh_size):
        for ow in range(ow_size):
            y[:, oh, ow, :] = _window(padded, oh, ow, kernel, stride, (1, 1)).max(axis=(1, 2))
    return y


def max_pool2d_grad(x, grad_output, kernel_size, stride=2, padding="VALID"):
    """Each window's gradient goes to ``np.argmax`` of the window flattened in row-major order.

    ``np.argmax`` returns the first maximum, which is the tie rule of :mod:`minislim.kernels.pool`.
    """
    kernel, stride, _, pads, (oh_size, ow_size) = _setup(x.shape, kernel_size, stride, padding, 1, "max_pool2d")
    padded = _pad(x, pads, -np.inf)
    grad_padded = np.zeros(padded.shape, np.result_type(x, grad_output))
    n_size, _, _, c_size = x.shape
    for n in range(n_size):
        for oh in range(oh_size):
            for ow in range(ow_size):
                for c in range(c_size):
                    window = _window(padded, oh, ow, kernel, stride, (1, 1))[n, :, :, c]
                    kh, kw = np.unravel_index(np.argmax(window), window.shape)
                    grad_padded[n, oh * stride[0] + kh, ow * stride[1] + kw, c] += grad_output[n, oh, ow, c]
    return _unpad(grad_padded, pads, x.shape)


def avg_pool2d(x, kernel_size, stride=2, padding="VALID"):
    """The mean of the cells of each window that lie inside the input (found by clipping the window)."""
    kernel, stride, _, pads, (oh_size, ow_size) = _setup(x.shape, kernel_size, stride, padding, 1, "avg_pool2d")
    (top, _), (left, _) = pads
    y = np.zeros((x.shape[0], oh_size, ow_size, x.shape[3]), x.dtype)
    for oh in range(oh_size):
        for ow in range(ow_size):
            h0, w0 = oh * stride[0] - top, ow * stride[1] - left
            cells = x[:, max(h0, 0):h0 + kernel[0], max(w0, 0):w0 + kernel[1], :]
            y[:, oh, ow, :] = cells.mean(axis=(1, 2))
    return y


def avg_pool2d_grad(grad_output, input_shape, kernel_size, stride=2, padding="VALID"):
    """Each window shares its gradient equally among its cells inside the input."""
    kernel, stride, _, pads, (oh_size, ow_size) = _setup(input_shape, kernel_size, stride, padding, 1, "avg_pool2d")
    (top, _), (left, _) = pads
    grad = np.zeros(input_shape, grad_output.dtype)
    for oh in range(oh_size):
        for ow in range(ow_size):
            h0, w0 = oh * stride[0] - top, ow * stride[1] - left
            cells = grad[:, max(h0, 0):h0 + kernel[0], max(w0, 0):w0 + kernel[1], :]
            cells += grad_output[:, oh:oh + 1, ow:ow + 1, :] / (cells.shape[1] * cells.shape[2])
    return grad


def global_avg_pool2d(x):
    """Mean over all H * W cells of each image and channel: ``[N, C]``."""
    n_size, h_size, w_size, c_size = x.shape
    total = np.zeros((n_size, c_size), x.dtype)
    for h in range(h_size):
        for w in range(w_size):
            total += x[:, h, w, :]
    return total / (h_size * w_size)
