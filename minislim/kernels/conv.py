"""2-D convolution (NHWC): forward, both gradients, and the transposed convolution.

Everything is one matrix product on im2col columns (see :mod:`minislim.kernels.im2col`):

=====================  ===============================================  ==============================
what                   matrix product                                   shapes
=====================  ===============================================  ==============================
forward                ``columns @ filters``                            ``[M, K] @ [K, OC]``
gradient of filters    ``columns.T @ grad_output``                      ``[K, M] @ [M, OC]``
gradient of inputs     ``columns(spread grad_output) @ flipped filters``  ``[N*H*W, KH*KW*OC] @ [.., C]``
=====================  ===============================================  ==============================

with ``M = N * OH * OW`` and ``K = KH * KW * C``.

**The gradient of the inputs is itself a convolution** (a *transposed* convolution).
Input pixel ``h`` received contributions from output rows ``oh`` with
``h + top = oh * SH + kh * rate``. Spread the output gradient out (row ``oh`` goes to row
``oh * SH``, zeros between: this undoes the stride), pad it with ``KE - 1 - top`` zeros
(``KE = (KH - 1) * rate + 1``), and slide the kernel *flipped* in both spatial axes,
with its two channel axes swapped, over it at stride 1: every input pixel then meets
exactly the (output gradient, weight) pairs it fed in the forward pass. That is again
im2col plus one matrix product, with no scattered ``+=`` (no col2im, no ``np.add.at``).

>>> import numpy as np
>>> x = np.ones((1, 4, 4, 1), np.float32)
>>> filters = np.ones((3, 3, 1, 2), np.float32)
>>> y = conv2d(x, filters, padding="SAME")        # 3x3 box sums, zero padding
>>> y.shape, y.dtype, y[0, :, :, 0].tolist()[0]
((1, 4, 4, 2), dtype('float32'), [4.0, 6.0, 6.0, 4.0])
>>> conv2d_grad_input(np.ones_like(y), filters, x.shape)[0, :, :, 0].tolist()[0]
[8.0, 12.0, 12.0, 8.0]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minislim.kernels.im2col import WORKSPACE, Workspace, im2col, windows
from minislim.kernels.shapes import as_pair, check_conv_args, checked_transpose_output_shape, effective_size, resolve_padding


@dataclass(frozen=True)
class ConvGeometry:
    """The sizes of one convolution, worked out once from its arguments."""

    inputs_shape: tuple  # (N, H, W, C)
    kernel: tuple        # (KH, KW)
    out_channels: int    # OC
    stride: tuple        # (SH, SW)
    rate: tuple          # dilation (along H, along W)
    pads: tuple          # ((top, bottom), (left, right))
    out_hw: tuple        # (OH, OW)

    @property
    def columns_shape(self) -> tuple:
        """``(N, OH, OW, KH, KW, C)``: one row of ``KH * KW * C`` numbers per output pixel."""
        n, _, _, c = self.inputs_shape
        return (n, *self.out_hw, *self.kernel, c)

    @property
    def output_shape(self) -> tuple:
        """``(N, OH, OW, OC)``."""
        return (self.inputs_shape[0], *self.out_hw, self.out_channels)


def conv_geometry(inputs_shape: tuple, filters_shape: tuple, stride=1, padding="SAME", rate=1,
                  scope: str = "conv2d") -> ConvGeometry:
    """Check the arguments of a convolution and work out its sizes.

    Args:
        inputs_shape: ``[N, H, W, C]``; filters_shape: ``[KH, KW, C, OC]``.
        stride, rate: an int or a pair; padding: ``"SAME"``, ``"VALID"`` or
            ``((top, bottom), (left, right))``.
        scope: the op's name for error messages.

    Raises:
        ValueError: see :func:`minislim.kernels.shapes.check_conv_args` and
            :func:`~minislim.kernels.shapes.resolve_padding`.
    """
    stride, rate = as_pair(stride, "stride", scope), as_pair(rate, "rate", scope)
    check_conv_args(inputs_shape, filters_shape, stride, rate, scope)
    kernel = tuple(filters_shape[:2])
    pads, out_hw = resolve_padding(padding, tuple(inputs_shape[1:3]), kernel, stride, rate, scope)
    return ConvGeometry(tuple(inputs_shape), kernel, filters_shape[3], stride, rate, pads, out_hw)


def compute_dtype(*arrays) -> np.dtype:
    """The dtype a convolution computes in: the inputs' common float type (float32 stays float32)."""
    return np.result_type(*arrays, np.float32)


def conv2d(x: np.ndarray, filters: np.ndarray, stride=1, padding="SAME", rate=1,
           columns: np.ndarray | None = None, workspace: Workspace | None = None) -> np.ndarray:
    """Convolution (cross-correlation, as in every deep learning framework).

    ``y[n, oh, ow, oc] = sum over kh, kw, c of
    padded[n, oh * SH + kh * rate, ow * SW + kw * rate, c] * filters[kh, kw, c, oc]``

    Args:
        x: inputs ``[N, H, W, C]``.
        filters: ``[KH, KW, C, OC]``.
        stride, rate: an int or a pair; padding: ``"SAME"``, ``"VALID"`` or
            ``((top, bottom), (left, right))``.
        columns: a buffer of shape ``(N, OH, OW, KH, KW, C)`` to hold the im2col columns
            (keep it to compute the filters' gradient later without copying again).
        workspace: where padded copies come from (default: the shared workspace).

    Returns:
        ``[N, OH, OW, OC]``, in the common dtype of ``x`` and ``filters``.
    """
    geometry = conv_geometry(x.shape, filters.shape, stride, padding, rate)
    dtype = compute_dtype(x, filters)
    n, oh, ow, oc = geometry.output_shape
    kh, kw, c, _ = filters.shape
    columns = im2col(x.astype(dtype, copy=False), geometry.kernel, geometry.stride, geometry.rate,
                     geometry.pads, geometry.out_hw, out=columns, workspace=workspace)
    # explicit sizes, not -1: NumPy cannot infer a -1 when N or OC is 0
    rows = columns.reshape(n * oh * ow, kh * kw * c)                               # [M, K]
    weights = np.ascontiguousarray(filters, dtype=dtype).reshape(kh * kw * c, oc)  # [K, OC]
    return (rows @ weights).reshape(n, oh, ow, oc)


def conv2d_grad_filter(x: np.ndarray, grad_output: np.ndarray, filters_shape: tuple, stride=1,
                       padding="SAME", rate=1, columns: np.ndarray | None = None,
                       workspace: Workspace | None = None) -> np.ndarray:
    """Gradient of :func:`conv2d` with respect to its filters: ``columns.T @ grad_output``.

    Args:
        x: the forward inputs ``[N, H, W, C]`` (only read when ``columns`` is None).
        grad_output: ``[N, OH, OW, OC]``.
        filters_shape: ``[KH, KW, C, OC]``.
        columns: the im2col columns that the forward pass filled, if it kept them.

    Returns:
        ``[KH, KW, C, OC]``.
    """
    geometry = conv_geometry(x.shape, filters_shape, stride, padding, rate)
    _check_grad_output(grad_output, geometry, "conv2d")
    dtype = compute_dtype(x, grad_output)
    if columns is None:
        columns = im2col(x.astype(dtype, copy=False), geometry.kernel, geometry.stride, geometry.rate,
                         geometry.pads, geometry.out_hw, workspace=workspace)
    n, oh, ow, oc = geometry.output_shape
    kh, kw, c, _ = filters_shape
    rows = columns.reshape(n * oh * ow, kh * kw * c)                               # [M, K]
    grads = np.ascontiguousarray(grad_output, dtype=dtype).reshape(n * oh * ow, oc)  # [M, OC]
    return (rows.T @ grads).reshape(filters_shape)                         # [K, OC]


def conv2d_grad_input(grad_output: np.ndarray, filters: np.ndarray, input_shape: tuple, stride=1,
                      padding="SAME", rate=1, memory: np.ndarray | None = None,
                      workspace: Workspace | None = None, scope: str = "conv2d") -> np.ndarray:
    """Gradient of :func:`conv2d` with respect to its inputs, as a transposed convolution.

    Three steps (see the module docstring for why they are right):

    1. *spread*: a zero buffer of ``H + KE_h - 1`` rows and ``W + KE_w - 1`` columns
       receives output-gradient row ``oh`` at row ``oh * SH + (KE_h - 1 - top)`` (likewise
       for columns); rows that would fall outside it belong to windows that lay entirely
       in the padding, and are dropped;
    2. im2col of the spread buffer with the same kernel and rate, stride 1, giving
       ``(N, H, W, KH, KW, OC)`` columns;
    3. one matrix product with the filters flipped in ``KH`` and ``KW`` and transposed to
       ``[KH, KW, OC, C]``.

    Args:
        grad_output: ``[N, OH, OW, OC]``.
        filters: ``[KH, KW, C, OC]``.
        input_shape: the forward inputs' shape ``[N, H, W, C]``.
        memory: memory the caller no longer needs, for the columns of step 2: then
            :func:`grad_input_in_memory` (the fast path) runs steps 2 and 3. Default: a
            workspace buffer for the whole batch.

    Returns:
        ``[N, H, W, C]``.
    """
    workspace = WORKSPACE if workspace is None else workspace
    geometry = conv_geometry(input_shape, filters.shape, stride, padding, rate, scope)
    _check_grad_output(grad_output, geometry, scope)
    dtype = compute_dtype(grad_output, filters)
    if grad_output.size == 0 or 0 in input_shape:  # an empty batch, or no channels: nothing flows back
        return np.zeros(input_shape, dtype)
    spread = spread_grad_output(grad_output, geometry, dtype, workspace)  # 1. [N, H + KE_h - 1, W + KE_w - 1, OC]
    flipped = flipped_filters(filters, dtype)                             # [KH * KW * OC, C]
    if memory is not None:
        return grad_input_in_memory(spread, flipped, geometry, memory, workspace)
    n, h, w, c = input_shape
    kh, kw = geometry.kernel
    oc = grad_output.shape[3]
    # 2. im2col of the spread gradient: stride 1, the forward's dilation, no padding
    columns = workspace.scratch("grad_input_columns", (n, h, w, kh, kw, oc), dtype)
    im2col(spread, (kh, kw), (1, 1), geometry.rate, ((0, 0), (0, 0)), (h, w), out=columns)
    # 3. one matrix product: [N * H * W, KH * KW * OC] @ [KH * KW * OC, C]
    return (columns.reshape(n * h * w, kh * kw * oc) @ flipped).reshape(n, h, w, c)


def spread_grad_output(grad_output: np.ndarray, geometry: ConvGeometry, dtype,
                       workspace: Workspace) -> np.ndarray:
    """Step 1 of :func:`conv2d_grad_input`: the output gradient spread over a zero buffer.

    Returns ``[N, H + KE_h - 1, W + KE_w - 1, OC]``, a workspace buffer whose zeros are
    written once, ever (later calls overwrite only the rows and columns that receive values).
    """
    n, h, w, _ = geometry.inputs_shape
    span_h, span_w = (effective_size(k, r) for k, r in zip(geometry.kernel, geometry.rate))
    (top, _), (left, _) = geometry.pads
    shape = (n, h + span_h - 1, w + span_w - 1, grad_output.shape[3])
    spread = workspace.scratch(("spread", geometry), shape, dtype, fill=0)
    to_rows, from_rows = _spread_slices(span_h - 1 - top, geometry.stride[0], geometry.out_hw[0], shape[1])
    to_cols, from_cols = _spread_slices(span_w - 1 - left, geometry.stride[1], geometry.out_hw[1], shape[2])
    spread[:, to_rows, to_cols, :] = grad_output[:, from_rows, from_cols, :]
    return spread


def flipped_filters(filters: np.ndarray, dtype) -> np.ndarray:
    """``[KH, KW, C, OC]`` flipped in KH and KW, channels swapped: ``[KH * KW * OC, C]`` (step 3's operand)."""
    c = filters.shape[2]
    return np.ascontiguousarray(filters[::-1, ::-1].transpose(0, 1, 3, 2), dtype=dtype).reshape(-1, c)


# --- the fast path: steps 2 and 3 in memory the caller gives -----------------------------------

def grad_input_in_memory(spread: np.ndarray, flipped: np.ndarray, geometry: ConvGeometry,
                         memory: np.ndarray, workspace: Workspace) -> np.ndarray:
    """Steps 2 and 3 of :func:`conv2d_grad_input`, with the columns written into ``memory``.

    ``Conv2D`` passes its forward's im2col columns, no longer needed once the filters'
    gradient is computed: the backward pass then allocates no columns of its own. When the
    columns of the whole batch do not fit in ``memory``, steps 2 and 3 run on slices of the
    batch that do (one slice per ``memory``-full of images). ``memory`` of another dtype, not
    C-contiguous, or smaller than one image's columns is not used (a workspace buffer is).

    Args:
        spread: step 1's buffer ``[N, H + KE_h - 1, W + KE_w - 1, OC]``.
        flipped: ``[KH * KW * OC, C]`` (:func:`flipped_filters`).
        geometry: the forward convolution's.
        memory: any array; only its memory is used, and its values are overwritten.

    Returns:
        ``[N, H, W, C]``.
    """
    n, h, w, c = geometry.inputs_shape
    kh, kw = geometry.kernel
    oc = spread.shape[3]
    dtype = spread.dtype
    per_image = h * w * kh * kw * oc  # numbers in one image's columns
    if memory.dtype != dtype or not memory.flags.c_contiguous or memory.size < per_image:
        memory = workspace.scratch("grad_input_columns", (n * per_image,), dtype)
    images_per_slice = min(n, memory.size // per_image)
    grad_inputs = np.empty((n, h, w, c), dtype)
    for start in range(0, n, images_per_slice):
        stop = min(start + images_per_slice, n)
        columns = memory.reshape(-1)[:(stop - start) * per_image].reshape(stop - start, h, w, kh, kw, oc)
        np.copyto(columns, windows(spread[start:stop], (kh, kw), (1, 1), geometry.rate, (h, w)))
        np.matmul(columns.reshape(-1, kh * kw * oc), flipped, out=grad_inputs[start:stop].reshape(-1, c))
    return grad_inputs


def _check_grad_output(grad_output: np.ndarray, geometry: ConvGeometry, scope: str) -> None:
    if tuple(grad_output.shape) != geometry.output_shape:
        what = "inputs" if scope == "conv2d_transpose" else "output gradient"
        raise ValueError(f"{scope}: the {what} must have shape {geometry.output_shape}, got {tuple(grad_output.shape)}")


def _spread_slices(offset: int, stride: int, out_size: int, length: int) -> tuple:
    """Where output rows ``oh`` land when spread: ``offset + oh * stride``, kept inside ``[0, length)``.

    Returns ``(slice into the spread buffer, slice into the output gradient)``.
    """
    first = max(0, -(offset // stride))                        # smallest oh with a row >= 0
    stop = min(out_size, -((offset - length) // stride))       # oh with offset + oh * stride < length
    if stop <= first:
        return slice(0, 0), slice(0, 0)
    return slice(offset + first * stride, offset + (stop - 1) * stride + 1, stride), slice(first, stop)


def conv2d_transpose(inputs: np.ndarray, filters: np.ndarray, output_shape: tuple | None = None, stride=1,
                     padding="SAME", workspace: Workspace | None = None) -> np.ndarray:
    """Transposed convolution ("deconvolution"), with TensorFlow's conventions.

    It is the gradient of ``conv2d(z, filters, stride, padding)`` with respect to ``z``,
    where ``z`` has shape ``output_shape``: so ``filters`` is ``[KH, KW, OC, C]`` (the
    convolution it transposes maps OC channels to C) and ``output_shape`` must be a shape
    that this convolution maps to the shape of ``inputs``.

    Args:
        inputs: ``[N, H, W, C]``.
        filters: ``[KH, KW, OC, C]``.
        output_shape: ``[N, OH, OW, OC]`` (or just ``(OH, OW)``): a list, tuple or 1-D
            array of ints; default from
            :func:`~minislim.kernels.shapes.transpose_output_shape`.

    Returns:
        ``[N, OH, OW, OC]``.

    Raises:
        TypeError: an ``output_shape`` that is not a sequence of ints.
        ValueError: bad ranks, a channel mismatch, or an ``output_shape`` that the
            convolution would not map to ``inputs``' shape.
    """
    output_shape = checked_transpose_output_shape(inputs.shape, filters.shape, output_shape, stride, padding)
    return conv2d_grad_input(inputs, filters, output_shape, stride, padding, workspace=workspace,
                             scope="conv2d_transpose")
