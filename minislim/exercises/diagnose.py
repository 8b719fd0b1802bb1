"""Turn "your gradient is wrong" into words a student can act on.

Given the gradient a student's backward returned (``analytic``) and the true one
(``true``, from central differences of the reference forward), :func:`diagnose_gradient`
looks for the usual mistakes, most specific first:

=======================  ===============================================================
code                     what it means
=======================  ===============================================================
``zeros``                the gradient is zero everywhere, the true one is not
``ignores_grad_output``  the same gradient comes back whatever the upstream gradient is
``transposed``           the gradient is the transpose of the true one
``sign_flipped``         exactly minus the true gradient, at every element
``scaled``               the true gradient times one constant (2, 1/2, N, 1/N, ...)
``nonzero_where_zero``   right except at elements whose true gradient is exactly zero
``partly_sign_flipped``  right except at a few elements, where the sign is flipped
``partly_wrong``         right except at a few elements
``wrong``                none of the above: the worst element is named
=======================  ===============================================================

>>> import numpy as np
>>> true = np.array([[1.0, -2.0, 0.5]])
>>> found = diagnose_gradient("x", 2 * true, true, 6 * true, 3 * true)
>>> found.code
'scaled'
>>> print(found.message)
your gradient for 'x' is exactly twice the true one at every element: look for a factor of 2 that should not be there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: an element of the analytic gradient is right when |a - t| <= ATOL + RTOL * |t|
#: (float64 central differences with eps=1e-6 are good to about 1e-9 here)
ATOL, RTOL = 1e-7, 1e-5


@dataclass
class Problem:
    """One thing the checker found wrong: a short ``code`` and a plain-words ``message``."""

    code: str
    message: str
    input_name: str | None = None

    def __str__(self) -> str:
        return self.message


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise: is ``a`` the true value ``b`` within the checker's tolerance?"""
    return np.abs(a - b) <= ATOL + RTOL * np.abs(b)


def numeric_jacobian(fn, arrays: list, i: int, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of ``fn(*arrays)`` with respect to ``arrays[i]``.

    Returns:
        A ``[output size, input size]`` float64 matrix.
    """
    x = np.array(arrays[i], dtype=np.float64)
    args = list(arrays)
    columns = []
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        args[i] = plus
        f_plus = np.asarray(fn(*args), dtype=np.float64)
        args[i] = minus
        f_minus = np.asarray(fn(*args), dtype=np.float64)
        columns.append(((f_plus - f_minus) / (2 * eps)).ravel())
    output_size = columns[0].size if columns else np.asarray(fn(*arrays)).size
    return np.stack(columns, axis=1) if columns else np.zeros((output_size, 0))


def fmt_index(index) -> str:
    index = tuple(int(k) for k in index)
    return str(index[0]) if len(index) == 1 else str(index)


def fmt(value: float) -> str:
    return f"{value:.6g}"


def describe_factor(name: str, factor: float, counts: dict) -> tuple:
    """Return ``(code, message)`` for a gradient that is ``factor`` times the true one."""
    if abs(factor + 1) < 1e-6:
        return "sign_flipped", (f"your gradient for '{name}' has its sign flipped: it is exactly minus "
                                "the true one at every element. Look for a subtraction written the wrong "
                                "way round (a - b instead of b - a) or a stray minus sign.")
    size = abs(factor)
    sign = "" if factor > 0 else ", with the sign flipped"
    whole = round(size)
    inverse = round(1 / size) if size > 0 else 0
    if abs(size - 2) < 1e-6:
        return "scaled", (f"your gradient for '{name}' is exactly twice the true one at every "
                          f"element{sign}: look for a factor of 2 that should not be there.")
    if abs(size - 0.5) < 1e-6:
        return "scaled", (f"your gradient for '{name}' is exactly half the true one at every "
                          f"element{sign}: look for a missing factor of 2 (such as the 2 in "
                          "the derivative of u**2).")
    if whole >= 3 and abs(size - whole) < 1e-6 * whole:
        what = f"exactly {whole} times the true one"
        count, missing = whole, "did you forget to divide by it (a mean, not a sum)?"
    elif inverse >= 3 and abs(1 / size - inverse) < 1e-6 * inverse:
        what = f"exactly 1/{inverse} of the true one"
        count, missing = inverse, "did you divide by it once too often?"
    else:
        return "scaled", (f"your gradient for '{name}' is the true one times a constant, {factor:.6g}, "
                          "at every element: look for a wrong constant factor.")
    message = f"your gradient for '{name}' is {what} at every element{sign}"
    if count in counts:
        message += f": {count} is {counts[count]}; {missing}"
    else:
        message += ": look for a wrong constant factor."
    return "scaled", message


def diagnose_gradient(name: str, analytic: np.ndarray, true: np.ndarray, analytic_again: np.ndarray,
                      true_again: np.ndarray, true_for_ones: np.ndarray | None = None,
                      counts: dict | None = None) -> Problem | None:
    """Explain how ``analytic`` differs from ``true`` (``None`` when it does not).

    Args:
        name: the input's name, for the message.
        analytic, true: the student's and the true gradient for one upstream gradient
            (both with the input's shape).
        analytic_again, true_again: the same for a second, different upstream gradient
            (this is how a backward that ignores ``grad_output`` is recognised).
        true_for_ones: the true gradient for an upstream gradient of all ones (what a
            check seeded with a plain ``sum`` would compare against), when known.
        counts: ``{number: "what it counts"}``, to name a factor such as 12 ("the number
            of elements of 'predictions'").
    """
    counts = counts or {}
    ok = close(analytic, true)
    if np.all(ok):
        return None
    n_wrong, n = int(np.sum(~ok)), ok.size
    peak = float(np.max(np.abs(true))) if true.size else 0.0

    if np.all(np.abs(analytic) <= ATOL):
        where = fmt_index(np.unravel_index(int(np.argmax(np.abs(true))), true.shape))
        message = (f"your gradient for '{name}' is zero everywhere, but the true gradient is not "
                   f"(it is {fmt(true[np.unravel_index(int(np.argmax(np.abs(true))), true.shape)])} "
                   f"at index {where}).")
        if true_for_ones is not None and np.all(np.abs(true_for_ones) <= ATOL):
            message += (" A check that seeds backward with all ones (a plain sum of the outputs) would "
                        "not notice, because the outputs sum to a constant (as softmax's do): every "
                        "output depends on every input of its row, so work through the whole Jacobian.")
        return Problem("zeros", message, name)

    if np.all(close(analytic, analytic_again)) and not np.all(close(true, true_again)):
        message = (f"your backward ignores grad_output: it returns the same gradient for '{name}' "
                   "whatever the upstream gradient is. The chain rule multiplies your local "
                   "derivative by grad_output (dL/dx = dL/dy * dy/dx).")
        if true_for_ones is not None and np.all(close(analytic, true_for_ones)):
            message += (" What you return is right for an upstream gradient of all ones, which is why "
                        "a plain .sum().backward() test would not catch it.")
        return Problem("ignores_grad_output", message, name)

    if analytic.ndim >= 2 and analytic.shape[-1] == analytic.shape[-2]:
        if np.all(close(np.swapaxes(analytic, -1, -2), true)):
            return Problem("transposed", (
                f"your gradient for '{name}' is the transpose of the true one (its shape happens to "
                "be square, so the shape looked right): check the order of the factors in your "
                "matrix products and which operand is transposed."), name)

    significant = np.abs(true) > max(ATOL, 1e-6 * peak)
    if np.any(significant):
        factor = float(np.median(analytic[significant] / true[significant]))
        if abs(factor - 1) > 1e-6 and np.all(close(analytic, factor * true)):
            code, message = describe_factor(name, factor, counts)
            return Problem(code, message, name)

    bad = np.argwhere(~ok)
    first = tuple(bad[0])
    example = (f"e.g. at index {fmt_index(first)} yours is {fmt(analytic[first])} but the true "
               f"gradient is {fmt(true[first])}")
    if n_wrong < n:
        if np.all(np.abs(true[~ok]) <= ATOL):
            return Problem("nonzero_where_zero", (
                f"your gradient for '{name}' is right wherever the true gradient is nonzero, but it "
                f"is nonzero at {n_wrong} of {n} elements where the true gradient is exactly zero "
                f"({example}). Those input elements do not affect the output, so they must get no "
                "gradient."), name)
        if np.all(close(-analytic[~ok], true[~ok])):
            return Problem("partly_sign_flipped", (
                f"the gradient for '{name}' is right except at {n_wrong} of {n} elements, where its "
                f"sign is flipped ({example})."), name)
        return Problem("partly_wrong", (
            f"the gradient for '{name}' is right except at {n_wrong} of {n} elements ({example})."), name)

    excess = np.abs(analytic - true) / (ATOL + RTOL * np.abs(true))
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
    a, t = float(analytic[worst]), float(true[worst])
    relative = abs(a - t) / max(abs(a), abs(t), 1e-300)
    message = (f"your gradient for '{name}' is wrong at every element; the worst is index "
               f"{fmt_index(worst)}: yours is {fmt(a)}, the true gradient is {fmt(t)} (relative error "
               f"{relative:.2g}).")
    spurious = int(np.sum((np.abs(true) <= ATOL) & (np.abs(analytic) > ATOL)))
    if spurious:
        message += (f" It is also nonzero at {spurious} elements where the true gradient is exactly "
                    "zero: those input elements do not affect the output.")
    return Problem("wrong", message, name)


def match_variant(name: str, analytic: np.ndarray, analytic_again: np.ndarray, true: np.ndarray,
                  variants: list, variants_again: list) -> Problem | None:
    """The known mistake (:mod:`minislim.exercises.mistakes`) the student's gradient matches.

    A variant matches when it is not the true gradient and equals the student's gradient
    for both upstream gradients (``variants`` and ``variants_again`` are computed for each).
    """
    for variant, variant_again in zip(variants, variants_again):
        value, value_again = variant.value, variant_again.value
        if value.shape != analytic.shape or np.all(close(value, true)):
            continue
        if np.all(close(analytic, value)) and np.all(close(analytic_again, value_again)):
            return Problem(variant.code, variant.message.replace("{name}", name), name)
    return None
