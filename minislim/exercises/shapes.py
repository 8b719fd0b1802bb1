"""Explain a gradient of the wrong shape: which sum is missing, or which axis was reduced.

Every gradient must have its input's shape. When it does not, the shape alone usually
tells what happened, given the output's shape (the shape of ``grad_output``):

=======================  ===============================================================
code                     what it means
=======================  ===============================================================
``missing_sum``          the input was broadcast over some axes of the output, and the
                         gradient was not summed over them (``grad_b = grad_output``)
``reduced_wrong_axis``   summed over an axis, but not the one the input was broadcast over
``extra_sum``            summed over an axis although the input was not broadcast at all
``extra_axis``           the right numbers with an extra axis of length 1 (``keepdims``)
``transposed``           the transpose of the true gradient
``wrong_shape``          none of the above
=======================  ===============================================================

>>> problem = diagnose_shape("b", (5, 2), (2,), (5, 2))
>>> problem.code
'missing_sum'
>>> print(problem.message)  # doctest: +NORMALIZE_WHITESPACE
your gradient for 'b' has shape (5, 2) (the shape of grad_output), but 'b' has shape (2,): 'b' was
broadcast over axis 0 of the output (length 5), so each of those 5 slices used the same 'b' and its
gradient is the sum of their contributions: sum over axis 0 (`.sum(axis=0)`).
"""
from __future__ import annotations

from itertools import combinations

from minislim.exercises.diagnose import Problem


def broadcast_axes(small: tuple, big: tuple) -> tuple | None:
    """The axes of ``big`` over which an array of shape ``small`` was broadcast to get ``big``.

    Returns ``(leading, kept)``: the leading axes that ``small`` lacks, and the axes where
    ``small`` has length 1 and ``big`` does not; ``None`` when ``small`` does not broadcast
    to ``big``.
    """
    small, big = tuple(small), tuple(big)
    if len(small) > len(big):
        return None
    lead = len(big) - len(small)
    kept = []
    for k, (s, b) in enumerate(zip(small, big[lead:])):
        if s != b:
            if s != 1:
                return None
            kept.append(lead + k)
    return tuple(range(lead)), tuple(kept)


def _axes(axes) -> str:
    axes = list(axes)
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes))


def _lengths(axes, shape) -> str:
    return ", ".join(str(shape[a]) for a in axes)


def _sum_code(leading, kept) -> str:
    parts = []
    if leading:
        arg = leading[0] if len(leading) == 1 else tuple(leading)
        parts.append(f"`.sum(axis={arg})`")
    if kept:
        arg = kept[0] if len(kept) == 1 else tuple(kept)
        parts.append(f"`.sum(axis={arg}, keepdims=True)`")
    return " then ".join(parts)


def _reductions(shape: tuple, of: tuple):
    """The sets of axes of ``of`` whose removal (or reduction to 1) gives ``shape``."""
    for count in range(1, len(of) + 1):
        for axes in combinations(range(len(of)), count):
            removed = tuple(d for k, d in enumerate(of) if k not in axes)
            kept = tuple(1 if k in axes else d for k, d in enumerate(of))
            if shape in (removed, kept):
                yield axes


def diagnose_shape(name: str, shape: tuple, x_shape: tuple, output_shape: tuple,
                   values_right: bool | None = None) -> Problem:
    """A :class:`Problem` for a gradient of shape ``shape`` for input ``name`` of ``x_shape``.

    Args:
        output_shape: the op's output shape (that of ``grad_output``).
        values_right: for a gradient that only misses a sum, whether summing it would give
            the true values (``None``: unknown).
    """
    shape, x_shape, output_shape = tuple(shape), tuple(x_shape), tuple(output_shape)
    what = " (the shape of grad_output)" if shape == output_shape else ""
    start = f"your gradient for '{name}' has shape {shape}{what}, but '{name}' has shape {x_shape}"
    found = broadcast_axes(x_shape, shape)
    if found is not None:
        leading, kept = found
        summed = [a for a in leading + kept if shape[a] != 1]
        if not summed:
            return Problem("extra_axis", f"{start}: the same numbers with an extra axis of length 1. "
                           f"Drop it (`keepdims=False`, or `.reshape({name}.shape)`).", name)
        count = 1
        for a in summed:
            count *= shape[a]
        message = (f"{start}: '{name}' was broadcast over {_axes(summed)} of the output (length "
                   f"{_lengths(summed, shape)}), so each of those {count} slices used the same '{name}' "
                   f"and its gradient is the sum of their contributions: sum over {_axes(summed)} "
                   f"({_sum_code(leading, kept)}).")
        if values_right is True:
            message += " Summed that way, your values are right."
        elif values_right is False:
            message += " (Even summed that way, your values would still be wrong.)"
        return Problem("missing_sum", message, name)

    x_in_output = broadcast_axes(x_shape, output_shape)
    reduced = next(_reductions(shape, output_shape), None)
    if x_in_output is not None and reduced is not None:
        leading, kept = x_in_output
        needed = [a for a in leading + kept if output_shape[a] != 1]
        looks = (f"{start}: it looks summed over {_axes(reduced)} of grad_output "
                 f"{output_shape} (length {_lengths(reduced, output_shape)})")
        if not needed:
            return Problem("extra_sum", f"{looks}; but '{name}' has the output's shape: it was not "
                           "broadcast, each of its elements has its own gradient, so nothing is "
                           "summed.", name)
        return Problem("reduced_wrong_axis", f"{looks}; but '{name}' was broadcast over "
                       f"{_axes(needed)} (length {_lengths(needed, output_shape)}): sum over that "
                       f"instead ({_sum_code(*x_in_output)}).", name)

    if len(shape) >= 2 and shape[:-2] + (shape[-1], shape[-2]) == x_shape:
        return Problem("transposed", f"your gradient for '{name}' has shape {shape}, the transpose of "
                       f"the input's shape {x_shape}: check the order of the factors in your matrix "
                       "product and which operand is transposed.", name)
    return Problem("wrong_shape", f"your gradient for '{name}' has the wrong shape {shape}: it must have "
                   f"the input's shape {x_shape}.", name)
