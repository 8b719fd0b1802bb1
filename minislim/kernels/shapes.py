"""Output sizes and padding of convolution and pooling: the one statement of the rules.

Every sliding-window kernel (convolution, its transpose, pooling) asks this module two
questions: *how many output rows and columns?* and *how much padding on each side?*

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
