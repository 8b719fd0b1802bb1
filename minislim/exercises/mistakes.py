"""Known wrong answers: a mistake is recognised by computing it and comparing.

A generic "your gradient is wrong at every element" does not help a student who kept only
the diagonal of softmax's Jacobian, summed over the wrong axis, or wrote tanh's derivative
with the input where the output belongs. Each of these is a *computable* wrong gradient:
the checker evaluates it on the same inputs and upstream gradients as the student's
backward, and when the student's result matches it (for two different upstream gradients)
it names the mistake.

Two kinds of known variants:

* **Generic ones**, computed for any op from the numerical Jacobian ``J``
  (``[output size, input size]``) of the reference forward (:func:`generic_variants`):

  - ``diagonal_only``: ``grad_output * diag(J)``, as if each output depended only on the
    input at the same position (softmax, normalisations);
  - ``formula_on_output``: for an elementwise op, the derivative evaluated at the output
    ``y`` instead of the input ``x`` (``grad_output * f'(y)``).

* **An exercise's own**, listed in its ``mistakes`` (:class:`Mistake`): "the derivative
  written with y but applied to x" (tanh's ``1 - x**2``), "the mean over axis 1 instead
  of 0" in batch norm, ...

>>> import numpy as np
>>> x = np.array([[0.5, -1.0, 2.0]])
>>> g = np.ones_like(x)
>>> [v.code for v in generic_variants(np.tanh, [x], 0, np.diag(1 - np.tanh(x).ravel() ** 2), g)]
['formula_on_output']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Mistake:
    """A known wrong answer for one input of an exercise.

    Attributes:
        code: the problem code the checker reports (e.g. ``"formula_on_input"``).
        input_name: the input whose gradient this mistake gets wrong.
        gradient: ``(inputs, output, grad_output) -> wrong gradient``: NumPy arrays in, an
            array of the input's shape out (what a backward with this mistake returns).
        message: what the checker says, in plain words.
    """

    code: str
    input_name: str
    gradient: Callable
    message: str


@dataclass
class Variant:
    """One computed wrong gradient, ready to compare with a student's."""

    code: str
    message: str
    value: np.ndarray


def off_diagonal(jacobian: np.ndarray) -> float:
    """The largest magnitude off the diagonal of a square Jacobian (0 for an elementwise op)."""
    return float(np.max(np.abs(jacobian - np.diag(np.diag(jacobian))))) if jacobian.size else 0.0


def generic_variants(reference: Callable, arrays: list, i: int, jacobian: np.ndarray,
                     grad_output: np.ndarray, eps: float = 1e-6) -> list:
    """The generic wrong gradients for input ``i`` and one upstream gradient (see the module doc).

    Only ops whose output has input ``i``'s shape have them; ``jacobian`` is the numerical
    Jacobian of ``reference`` with respect to ``arrays[i]``.
    """
    x = arrays[i]
    if jacobian.shape != (x.size, x.size) or grad_output.shape != x.shape:
        return []
    name = "{name}"
    diagonal = np.diag(jacobian).reshape(x.shape)
    if off_diagonal(jacobian) > 1e-6 * max(1.0, float(np.max(np.abs(jacobian)))):
        return [Variant("diagonal_only", (
            f"your gradient for '{name}' keeps only the diagonal of the Jacobian, grad_output * "
            "dy_k/dx_k, as if each output depended only on the input at its own position. But each "
            "output also depends on the other inputs it is computed with (a softmax's row, a "
            "normalisation's batch), so dL/dx_j = sum_k g_k dy_k/dx_j has more terms: the "
            "off-diagonal ones, which usually come out as a sum (or mean) over those positions."),
            grad_output * diagonal)]
    if len(arrays) != 1:
        return []
    with np.errstate(all="ignore"):
        y = np.asarray(reference(x), dtype=np.float64)
        at_output = (np.asarray(reference(y + eps), dtype=np.float64)
                     - np.asarray(reference(y - eps), dtype=np.float64)) / (2 * eps)
    if not np.all(np.isfinite(at_output)) or np.allclose(at_output, diagonal, rtol=1e-4, atol=1e-7):
        return []
    return [Variant("formula_on_output", (
        f"your gradient for '{name}' is grad_output times the derivative evaluated at the output y "
        "instead of at the input x: the formula f'(x) was applied to the saved output. Either "
        "evaluate it at the input, or rewrite the derivative in terms of y (as tanh' = 1 - y**2)."),
        grad_output * at_output)]


def exercise_variants(mistakes, name: str, arrays: list, output: np.ndarray,
                      grad_output: np.ndarray) -> list:
    """The exercise's own wrong gradients for the input called ``name`` and one upstream gradient."""
    variants = []
    for mistake in mistakes:
        if mistake.input_name != name:
            continue
        with np.errstate(all="ignore"):
            value = np.asarray(mistake.gradient([a.copy() for a in arrays], output.copy(),
                                                grad_output.copy()), dtype=np.float64)
        variants.append(Variant(mistake.code, mistake.message, value))
    return variants
