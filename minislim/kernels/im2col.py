"""im2col: turn a convolution into one matrix product, by copying windows into columns.

A convolution computes, for every output pixel ``(n, oh, ow)`` and output channel ``oc``,
the dot product of one window of the input (``KH x KW x C`` numbers) with one filter
(the same ``KH x KW x C`` numbers of ``filters[:, :, :, oc]``). If we lay every window
out as one row of a matrix, the columns matrix::

    columns[n, oh, ow, kh, kw, c] = padded[n, oh * SH + kh * rate, ow * SW + kw * rate, c]

reshaped to ``[N * OH * OW, KH * KW * C]``, then the whole convolution is one matrix
product ``columns @ filters.reshape(KH * KW * C, OC)``, which BLAS does at full speed.

The copy is a single ``np.copyto`` from a *strided view*: NumPy can describe the
six-dimensional array of windows without copying anything, just by choosing strides
(``as_strided``), because stepping ``oh`` by one moves ``SH`` rows in the padded input,
and stepping ``kh`` by one moves ``rate`` rows. Only the copy into the columns buffer
touches memory.

>>> import numpy as np
>>> x = np.arange(9.0).reshape(1, 3, 3, 1)          # one 3x3 image, one channel
>>> cols = im2col(x, kernel=(2, 2), stride=(1, 1), rate=(1, 1), pads=((0, 0), (0, 0)), out_hw=(2, 2))
>>> cols.shape                                         # (N, OH, OW, KH, KW, C)
(1, 2, 2, 2, 2, 1)
>>> cols.reshape(4, 4)                                  # one row per output pixel
array([[0., 1., 3., 4.],
       [1., 2., 4., 5.],
       [3., 4., 6., 7.],
       [4., 5., 7., 8.]])

Big buffers are reused between calls through a :class:`Workspace` (allocating fresh
ones costs page faults at every step: 8 ms vs 14 ms for a 32x32x32 layer at batch 64).
"""
from __future__ import annotations

import itertools
from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import as_strided


class Workspace:
    """Buffers that the kernels reuse from one call to the next.

    Two kinds of buffer, both keyed by what they are for, their shape and dtype:

    * **scratch** buffers (:meth:`scratch`) live in the workspace and are used only inside
      one kernel call (a padded copy of the input, the columns of a backward pass). A
      buffer created with ``fill`` is filled once; the kernels write only its interior, so
      a padded buffer's border stays zero without being zeroed again.
    * **leased** buffers (:meth:`lease`) are handed to the caller, who keeps them past the
      call (a convolution keeps its columns for the backward pass) and returns them with
      :meth:`give_back` when done. The workspace holds no reference to a leased buffer, so
      one that is never given back is simply garbage-collected: nothing leaks.

    The workspace holds at most ``max_bytes``; beyond that the least recently used
    buffers are dropped. It is not thread-safe: kernels run on one thread.

    >>> ws = Workspace(max_bytes=1 << 20)
    >>> a = ws.scratch("demo", (2, 3), np.float32)
    >>> a is ws.scratch("demo", (2, 3), np.float32)     # the same buffer again
    True
    >>> b = ws.lease((4,), np.float64); ws.give_back(b)
    >>> ws.lease((4,), np.float64) is b                  # reused once given back
    True
    >>> ws.clear(); ws.nbytes
    0
    """

    def __init__(self, max_bytes: int = 512 * 2**20):
        self.max_bytes = int(max_bytes)
        self._held: OrderedDict = OrderedDict()  # key -> array: scratch and given-back buffers
        self._tickets = itertools.count()  # tells apart given-back buffers of one shape

    @property
    def nbytes(self) -> int:
        """Bytes held by the workspace now (scratch buffers and given-back leases)."""
        return sum(array.nbytes for array in self._held.values())

    def scratch(self, purpose, shape: tuple, dtype, fill=None) -> np.ndarray:
        """A buffer for use inside one kernel call (its contents are whatever was left in it).

        Args:
            purpose: any hashable that tells buffers of the same shape apart (include
                whatever decides which elements the caller writes, e.g. the padding).
            shape, dtype: of the buffer.
            fill: if given, a new buffer starts filled with this value.
        """
        key = ("scratch", purpose, tuple(shape), np.dtype(dtype).str, fill)
        array = self._held.pop(key, None)
        if array is None:
            array = np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
        self._keep(key, array)
        return array

    def lease(self, shape: tuple, dtype) -> np.ndarray:
        """A buffer the caller owns until it calls :meth:`give_back` (contents undefined)."""
        for key in self._held:
            if key[:3] == ("lease", tuple(shape), np.dtype(dtype).str):
                return self._held.pop(key)
        return np.empty(shape, dtype)

    def give_back(self, array: np.ndarray) -> None:
        """Return a leased buffer; the caller must not use it afterwards."""
        self._keep(("lease", array.shape, array.dtype.str, next(self._tickets)), array)

    def clear(self) -> None:
        """Drop every buffer (leased buffers still in use are not affected)."""
        self._held.clear()

    def _keep(self, key, array: np.ndarray) -> None:
        if array.nbytes > self.max_bytes:
            return
        self._held[key] = array  # most recently used last
        total = self.nbytes
        while total > self.max_bytes:
            _, dropped = self._held.popitem(last=False)
            total -= dropped.nbytes


#: the workspace the kernels use unless they are given another one
WORKSPACE = Workspace()


def padded(x: np.ndarray, pads: tuple, fill: float = 0.0, workspace: Workspace | None = None) -> np.ndarray:
    """``x`` [N, H, W, C] with ``pads = ((top, bottom), (left, right))`` rows and columns of ``fill`` around it.

    Returns ``x`` itself when there is no padding, else a scratch buffer of the workspace
    whose border was filled once and whose interior is overwritten with ``x`` here.
    """
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    workspace = WORKSPACE if workspace is None else workspace
    n, h, w, c = x.shape
    buffer = workspace.scratch(("padded", pads), (n, h + top + bottom, w + left + right, c), x.dtype, fill=fill)
    buffer[:, top:top + h, left:left + w, :] = x
    return buffer


def windows(padded_inputs: np.ndarray, kernel: tuple, stride: tuple, rate: tuple, out_hw: tuple) -> np.ndarray:
    """A read-only strided view of every window: shape ``(N, OH, OW, KH, KW, C)``, no copy.

    ``view[n, oh, ow, kh, kw, c] = padded_inputs[n, oh * SH + kh * rate_h, ow * SW + kw * rate_w, c]``.
    """
    n, _, _, c = padded_inputs.shape
    step_n, step_h, step_w, step_c = padded_inputs.strides
    (kh, kw), (sh, sw), (rh, rw), (oh, ow) = kernel, stride, rate, out_hw
    return as_strided(padded_inputs, shape=(n, oh, ow, kh, kw, c),
                      strides=(step_n, sh * step_h, sw * step_w, rh * step_h, rw * step_w, step_c),
                      writeable=False)


def im2col(x: np.ndarray, kernel: tuple, stride: tuple, rate: tuple, pads: tuple, out_hw: tuple,
           out: np.ndarray | None = None, workspace: Workspace | None = None) -> np.ndarray:
    """Copy every window of ``x`` into a columns array.

    Args:
        x: inputs ``[N, H, W, C]``.
        kernel, stride, rate: ``(KH, KW)``, ``(SH, SW)`` and the dilation, each a pair.
        pads: ``((top, bottom), (left, right))``; out_hw: ``(OH, OW)`` (from
            :func:`minislim.kernels.shapes.resolve_padding`).
        out: the buffer to fill, shape ``(N, OH, OW, KH, KW, C)`` (a new one if None).

    Returns:
        ``out``: the columns, C-contiguous, so ``out.reshape(N * OH * OW, KH * KW * C)``
        is a free view and a fine operand for ``@``.
    """
    view = windows(padded(x, pads, workspace=workspace), kernel, stride, rate, out_hw)
    if out is None:
        out = np.empty(view.shape, x.dtype)
    np.copyto(out, view)
    return out
