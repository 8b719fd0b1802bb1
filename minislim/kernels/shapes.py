"""Output sizes and padding of convolution and pooling: the one statement of the rules.

Every sliding-window kernel (convolution, its transpose, pooling) asks this module two
questions: *how many output rows and columns?* and *how much padding on each side?*
A transposed convolution asks the converse: which ``output_shape`` does the convolution it
transposes map back to its inputs (:func:`transpose_output_shape`,
:func:`checked_transpose_output_shape`, at the end of this module)?

A window of ``KH`` taps, dilated by ``rate``, covers ``KE = (KH - 1) * rate + 1`` rows
(its *effective* height). With stride ``SH`` and padding ``(top, bottom)`` the output has
``OH = (H + top + bottom - KE) // SH + 1`` rows. The three kinds of padding:

* ``"VALID"``: no padding; every window lies inside the input, so ``KE <= H`` is required
  and ``OH = (H - KE) // SH + 1``.
* ``"SAME"`` (TensorFlow's rule): ``OH = ceil(H / SH)``, whatever the kernel, and just
  enough zeros to make that work::

      pad_total = max((OH - 1) * SH + KE - H, 0)
      top = pad_total // 2;  bottom = pad_total - top   # the odd row goes to the bottom

  so SAME padding is asymmetric when ``pad_total`` is odd (PyTorch's ``padding=1`` is
  not the same thing for even inputs with stride 2).
* explicit ``((top, bottom), (left, right))``: the given numbers of zeros.

>>> same_padding(32, kernel=3, stride=1)        # a 3x3 SAME convolution keeps the size
((1, 1), 32)
>>> same_padding(32, kernel=3, stride=2)        # 31 + 3 - 32 = 2 rows of padding, 16 rows out
((0, 1), 16)
>>> resolve_padding("VALID", (5, 7), kernel=(3, 3), stride=(2, 1), rate=(1, 1))
(((0, 0), (0, 0)), (2, 5))
>>> resolve_padding(((1, 0), (2, 2)), (5, 5), kernel=(3, 3), stride=(1, 1), rate=(1, 1))
(((1, 0), (2, 2)), (4, 7))
"""
from __future__ import annotations

import numbers

import numpy as np

#: padding as ((top, bottom), (left, right))
Pads = tuple


def as_pair(value, name: str, scope: str) -> tuple:
    """Normalise an int-or-pair argument (``stride=2`` or ``stride=(2, 1)``) to a pair of ints.

    Args:
        value: a positive int, or a pair of positive ints ``(along H, along W)``.
        name: the argument's name, for the error message (``"stride"``).
        scope: the op's name, for the error message (``"conv2d"``).

    Raises:
        ValueError: when ``value`` is not one or two positive integers.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2
          and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{scope}: {name} must be an int or a pair of ints (along H, along W), got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{scope}: {name} must be positive, got {name}={value!r}")
    return pair


def effective_size(kernel: int, rate: int) -> int:
    """Rows covered by ``kernel`` taps spaced ``rate`` apart: ``(kernel - 1) * rate + 1``."""
    return (kernel - 1) * rate + 1


def same_padding(size: int, kernel: int, stride: int, rate: int = 1) -> tuple:
    """TF's SAME rule along one axis.

    Args:
        size: the input length ``H``.
        kernel, stride, rate: ``KH``, ``SH`` and the dilation along that axis.

    Returns:
        ``((before, after), out_size)`` with ``out_size = ceil(size / stride)`` and the odd
        padding element, if any, after (bottom or right).
    """
    out_size = -(-size // stride)  # ceil(size / stride)
    total = max((out_size - 1) * stride + effective_size(kernel, rate) - size, 0)
    return (total // 2, total - total // 2), out_size


def resolve_padding(padding, in_hw: tuple, kernel: tuple, stride: tuple, rate: tuple = (1, 1),
                    scope: str = "conv2d") -> tuple:
    """Turn a padding argument into explicit pads and the output size.

    Args:
        padding: ``"SAME"``, ``"VALID"`` (either case) or ``((top, bottom), (left, right))``.
        in_hw: the input's ``(H, W)``.
        kernel: ``(KH, KW)``; stride: ``(SH, SW)``; rate: the dilation ``(along H, along W)``.
        scope: the op's name for error messages.

    Returns:
        ``(((top, bottom), (left, right)), (OH, OW))``.

    Raises:
        ValueError: an unknown padding, negative explicit padding, or a (dilated) kernel
            larger than the (padded) input.
    """
    kinds = ("SAME", "VALID")
    if isinstance(padding, str):
        if padding.upper() not in kinds:
            raise ValueError(f"{scope}: padding must be 'SAME', 'VALID' or ((top, bottom), (left, right)), "
                             f"got {padding!r}")
        if padding.upper() == "SAME":
            (pads_h, oh), (pads_w, ow) = (same_padding(n, k, s, r) for n, k, s, r in zip(in_hw, kernel, stride, rate))
            return (pads_h, pads_w), (oh, ow)
        pads = ((0, 0), (0, 0))
    else:
        pads = explicit_pads(padding, scope)
    out_hw = []
    for axis, (n, k, s, r, (before, after)) in enumerate(zip(in_hw, kernel, stride, rate, pads)):
        span = effective_size(k, r)
        if n + before + after < span:
            what = "input" if pads == ((0, 0), (0, 0)) else "padded input"
            raise ValueError(
                f"{scope}: padding={padding!r} needs the kernel to fit in the {what}, but along "
                f"{'HW'[axis]} the {'dilated ' if r > 1 else ''}kernel spans {span} "
                f"(kernel={tuple(kernel)}, rate={tuple(rate)}) and the {what} has {n + before + after} "
                f"(input H, W = {tuple(in_hw)}, pads = {pads})")
        out_hw.append((n + before + after - span) // s + 1)
    return pads, tuple(out_hw)


def explicit_pads(padding, scope: str = "conv2d") -> Pads:
    """Check and normalise ``((top, bottom), (left, right))`` to a tuple of int pairs."""
    try:
        (top, bottom), (left, right) = padding
        pads = ((int(top), int(bottom)), (int(left), int(right)))
        exact = pads == ((top, bottom), (left, right))
    except (TypeError, ValueError):
        exact = False
    if not exact:
        raise ValueError(f"{scope}: padding must be 'SAME', 'VALID' or ((top, bottom), (left, right)) "
                         f"of ints, got {padding!r}")
    if min(min(p) for p in pads) < 0:
        raise ValueError(f"{scope}: explicit padding must not be negative, got {padding!r}")
    return pads


def check_nhwc(array: np.ndarray, name: str, scope: str) -> None:
    """Raise ValueError unless ``array`` is rank 4 (``[N, H, W, C]``)."""
    if array.ndim != 4:
        raise ValueError(f"{scope}: {name} must be [N, H, W, C] (rank 4), got shape {array.shape}")


def check_conv_args(inputs_shape: tuple, filters_shape: tuple, stride: tuple, rate: tuple,
                    scope: str = "conv2d", filters_layout: str = "[KH, KW, C, OC]") -> None:
    """The argument checks every convolution shares.

    ``inputs_shape`` is ``[N, H, W, C]``; ``filters_shape`` is ``[KH, KW, C, OC]`` (for a
    transposed convolution ``[KH, KW, OC, C]``, in which case pass ``filters_layout``).

    Raises:
        ValueError: wrong ranks, a channel mismatch, or ``rate > 1`` with ``stride > 1``
            (TensorFlow rejects that combination too).
    """
    if len(inputs_shape) != 4:
        raise ValueError(f"{scope}: inputs must be [N, H, W, C] (rank 4), got shape {tuple(inputs_shape)}")
    if len(filters_shape) != 4:
        raise ValueError(f"{scope}: filters must be {filters_layout} (rank 4), got shape {tuple(filters_shape)}")
    in_channels_axis = 2 if filters_layout == "[KH, KW, C, OC]" else 3
    if inputs_shape[3] != filters_shape[in_channels_axis]:
        raise ValueError(
            f"{scope}: inputs have {inputs_shape[3]} channels (shape {tuple(inputs_shape)}) but filters "
            f"{filters_layout} expect {filters_shape[in_channels_axis]} (shape {tuple(filters_shape)})")
    if min(filters_shape[:2]) < 1:
        raise ValueError(f"{scope}: the kernel size must be positive, got filters shape {tuple(filters_shape)}")
    if max(rate) > 1 and max(stride) > 1:
        raise ValueError(f"{scope}: rate > 1 cannot be combined with stride > 1 (as in TensorFlow), "
                         f"got stride={stride}, rate={rate}")


# --- the output_shape of a transposed convolution ---------------------------------------------

def transpose_output_shape(inputs_shape: tuple, filters_shape: tuple, stride=1, padding="SAME") -> tuple:
    """The default ``output_shape`` of :func:`~minislim.kernels.conv.conv2d_transpose` (TF-Slim's rule).

    SAME: ``H * SH``; VALID: ``H * SH + max(KH - SH, 0)``; explicit: ``(H - 1) * SH + KH - top - bottom``.

    >>> transpose_output_shape((8, 4, 4, 16), (3, 3, 32, 16), stride=2)
    (8, 8, 8, 32)
    >>> transpose_output_shape((8, 4, 4, 16), (3, 3, 32, 16), stride=2, padding="VALID")
    (8, 9, 9, 32)
    """
    stride = as_pair(stride, "stride", "conv2d_transpose")
    n, h, w, _ = inputs_shape
    kernel = tuple(filters_shape[:2])
    if isinstance(padding, str) and padding.upper() == "SAME":
        out_hw = [size * s for size, s in zip((h, w), stride)]
    elif isinstance(padding, str) and padding.upper() == "VALID":
        out_hw = [size * s + max(k - s, 0) for size, k, s in zip((h, w), kernel, stride)]
    else:
        pads = explicit_pads(padding, "conv2d_transpose")
        out_hw = [(size - 1) * s + k - sum(p) for size, k, s, p in zip((h, w), kernel, stride, pads)]
    return (n, *out_hw, filters_shape[2])


def checked_transpose_output_shape(inputs_shape: tuple, filters_shape: tuple, output_shape, stride,
                                   padding) -> tuple:
    """Validate (or default) the ``output_shape`` of :func:`~minislim.kernels.conv.conv2d_transpose`.

    Returns it as ``[N, OH, OW, OC]``: the convolution that ``conv2d_transpose`` transposes
    (same filters, stride and padding) must map it back to ``inputs``' H and W.

    Raises:
        TypeError: not a sequence of ints. ValueError: bad ranks, a channel mismatch, or an
            ``output_shape`` that does not map back to ``inputs``.
    """
    scope = "conv2d_transpose"
    stride = as_pair(stride, "stride", scope)
    check_conv_args(inputs_shape, filters_shape, stride, (1, 1), scope, filters_layout="[KH, KW, OC, C]")
    if output_shape is None:
        output_shape = transpose_output_shape(inputs_shape, filters_shape, stride, padding)
        if min(output_shape[1:3]) < 1:
            raise ValueError(f"{scope}: padding={padding!r} leaves no output: with inputs {tuple(inputs_shape)}, "
                             f"filters {tuple(filters_shape)} and stride={stride} the output would have "
                             f"H, W = {tuple(output_shape[1:3])}")
        return output_shape
    output_shape = _integer_shape(output_shape, "output_shape", scope)
    if len(output_shape) == 2:
        output_shape = (inputs_shape[0], *output_shape, filters_shape[2])
    if output_shape[0] != inputs_shape[0] or output_shape[3] != filters_shape[2]:
        raise ValueError(f"{scope}: output_shape must be [N, OH, OW, OC] = [{inputs_shape[0]}, OH, OW, "
                         f"{filters_shape[2]}] for inputs {tuple(inputs_shape)} and filters {tuple(filters_shape)}, "
                         f"got {output_shape}")
    _, out_hw = resolve_padding(padding, tuple(output_shape[1:3]), tuple(filters_shape[:2]), stride, (1, 1), scope)
    if out_hw != tuple(inputs_shape[1:3]):
        raise ValueError(f"{scope}: output_shape {output_shape} does not fit: a convolution with stride={stride} "
                         f"and padding={padding!r} maps it to H, W = {out_hw}, but inputs have "
                         f"H, W = {tuple(inputs_shape[1:3])} (shape {tuple(inputs_shape)})")
    return output_shape


def _integer_shape(value, name: str, scope: str) -> tuple:
    """``value`` as a tuple of ints, if it is a list, tuple or 1-D array of 2 or 4 sizes.

    Only true integers count (Python or NumPy ints, not bools, floats or strings), so
    ``"88"`` or ``(8.9, 8.2)`` is an error, not a shape read digit by digit or truncated.
    """
    sequence = isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim == 1)
    if not sequence or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{scope}: {name} must be a list, tuple or 1-D array of ints, (OH, OW) or "
                        f"(N, OH, OW, OC), got {type(value).__name__} {value!r}")
    if len(value) not in (2, 4):
        raise ValueError(f"{scope}: {name} must have 2 sizes (OH, OW) or 4 (N, OH, OW, OC), "
                         f"got {len(value)}: {value!r}")
    if min(value) < 0:
        raise ValueError(f"{scope}: {name} must not hold negative sizes, got {value!r}")
    return tuple(int(v) for v in value)
