"""``gradcheck``: compare the gradients autograd computes with finite differences.

How it works, step by step:

1. Every floating-point input is copied to **float64** (float32 central differences lose
   about half of their digits to rounding) and wrapped as a Tensor that requires grad.
2. The output ``y = fn(*inputs)`` is reduced to one number with a **random projection**,
   ``L = sum(y * P)``, ``P`` drawn from a private, seeded ``numpy.random.Generator`` (the
   global NumPy RNG is never touched). A plain ``sum`` would be blind to any error whose
   entries sum to zero along the output, e.g. a softmax backward that returns zeros,
   because softmax outputs always sum to one.
3. The **analytic** gradient of ``L`` is one ``backward`` pass (with ``grad=P``).
4. The **numeric** gradient is a central difference, ``(L(x + eps) - L(x - eps)) / 2 eps``:

   * ``mode="full"`` perturbs every element of every input, one at a time, and so
     checks the whole gradient entry by entry (``2 * size`` forward passes);
   * ``mode="fast"`` perturbs each input once along a random direction ``v`` and compares
     the directional derivative with ``sum(grad * v)`` (two forward passes per input).

5. An element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``. The report
   names the input, the worst element's index, both values and the relative error.

>>> import numpy as np
>>> import minislim as slim
>>> report = slim.testing.gradcheck(lambda x: slim.nn.softmax(x), [np.array([[0.1, 2.0, -1.0]])])
>>> report.ok
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minislim.autograd.grad_mode import enable_grad, no_grad
from minislim.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when a gradient is wrong; ``.report`` holds the details."""

    def __init__(self, report: "GradcheckReport"):
        super().__init__(str(report))
        self.report = report


@dataclass
class InputCheck:
    """The outcome for one input."""

    index: int
    shape: tuple
    ok: bool
    worst_index: tuple | None  # element with the largest error (None in fast mode)
    analytic: float
    numeric: float
    relative_error: float
    missing_gradient: bool = False

    def describe(self, name: str) -> str:
        where = f" at index {self.worst_index}" if self.worst_index is not None else " along a random direction"
        if self.missing_gradient:
            return f"{name} (shape {self.shape}): backward returned no gradient for it, but the numeric gradient is {self.numeric:.6g}"
        status = "ok  " if self.ok else "FAIL"
        return (f"{status} {name} (shape {self.shape}){where}: analytic {self.analytic:.8g}, "
                f"numeric {self.numeric:.8g}, relative error {self.relative_error:.3g}")


@dataclass
class GradcheckReport:
    """What :func:`gradcheck` found, input by input; ``bool(report)`` is ``report.ok``."""

    mode: str
    checks: list = field(default_factory=list)
    names: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "gradcheck passed" if self.ok else "gradcheck FAILED: analytic and numeric gradients differ"
        lines = [f"{head} (mode={self.mode!r})"]
        lines += ["  " + check.describe(name) for check, name in zip(self.checks, self.names)]
        if not self.ok:
            lines.append("  hint: a gradient off by a constant factor points at a missing term or a wrong "
                         "coefficient; a gradient that ignores the upstream gradient is exact only when "
                         "the upstream gradient is all ones, which the random projection rules out.")
        return "\n".join(lines)


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-8, rtol: float = 1e-5,
              mode: str = "full", seed: int = 0, raise_exception: bool = True,
              names=None) -> GradcheckReport:
    """Check the backward pass of ``fn`` against central differences.

    Args:
        fn: a function of Tensors returning one Tensor.
        inputs: a list or tuple of the arguments of ``fn`` (arrays, numbers or Tensors),
            one per argument; floating-point ones are checked (as float64 copies), others
            are passed through unchanged (e.g. integer labels). A single ndarray or Tensor
            is taken as the one argument of ``fn`` (``gradcheck(fn, x)`` is
            ``gradcheck(fn, [x])``), as in PyTorch; anything else is a ``TypeError``.
        eps: the finite-difference step.
        atol, rtol: an element passes when ``|a - n| <= atol + rtol * |n|``.
        mode: ``"full"`` (every element) or ``"fast"`` (one random direction per input).
        seed: seeds the private generator of the projection and the directions.
        raise_exception: raise :class:`GradcheckError` on failure (else return the report).
        names: optional names of the inputs for the report (default ``input 0``, ...).

    Returns:
        A :class:`GradcheckReport`.
    """
    if mode not in ("full", "fast"):
        raise ValueError(f"gradcheck: mode must be 'full' or 'fast', got {mode!r}")
    if isinstance(inputs, (np.ndarray, Tensor)):
        inputs = [inputs]
    elif not isinstance(inputs, (list, tuple)):
        raise TypeError(f"gradcheck: inputs must be a list or tuple of arrays or Tensors, one per argument "
                        f"of fn (e.g. gradcheck(fn, [x])), or a single ndarray or Tensor; "
                        f"got {type(inputs).__name__}")
    rng = np.random.default_rng(seed)
    tensors = [_float64_leaf(x) for x in inputs]
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    names = list(names) if names is not None else [f"input {i}" for i in range(len(tensors))]

    with enable_grad():
        output = _call(fn, tensors)
    projection = rng.standard_normal(output.shape)

    def projected(values_of_input, i):
        """L with input i replaced by ``values_of_input``, no graph recorded."""
        saved = tensors[i].data
        tensors[i].data = values_of_input
        try:
            with no_grad():
                return float(np.sum(_call(fn, tensors).data * projection))
        finally:
            tensors[i].data = saved

    output.backward(projection.astype(output.data.dtype))
    report = GradcheckReport(mode=mode, names=[names[i] for i in checked])
    for i in checked:
        x = tensors[i].data
        analytic = tensors[i].grad
        missing = analytic is None
        if missing:
            analytic = np.zeros_like(x)
        if mode == "full":
            numeric = np.empty_like(x)
            for index in np.ndindex(x.shape):
                plus, minus = x.copy(), x.copy()
                plus[index] += eps
                minus[index] -= eps
                numeric[index] = (projected(plus, i) - projected(minus, i)) / (2 * eps)
            check = _compare(i, x.shape, analytic, numeric, atol, rtol)
        else:
            direction = rng.standard_normal(x.shape)
            numeric = (projected(x + eps * direction, i) - projected(x - eps * direction, i)) / (2 * eps)
            check = _compare(i, x.shape, np.sum(analytic * direction), np.asarray(numeric), atol, rtol)
            check.worst_index = None
        if missing and np.any(np.abs(numeric) > atol):
            check.ok, check.missing_gradient = False, True
        report.checks.append(check)
    if raise_exception and not report.ok:
        raise GradcheckError(report)
    return report


def _float64_leaf(value) -> Tensor:
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    if data.dtype.kind == "f":
        return Tensor(np.array(data, dtype=np.float64), requires_grad=True)
    return Tensor(data)


def _call(fn, tensors) -> Tensor:
    output = fn(*tensors)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    return output


def _compare(i, shape, analytic, numeric, atol, rtol) -> InputCheck:
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    excess = np.abs(analytic - numeric) / (atol + rtol * np.abs(numeric))
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
    a, n = float(analytic[worst]), float(numeric[worst])
    relative = abs(a - n) / max(abs(a), abs(n), 1e-300)
    return InputCheck(index=i, shape=tuple(shape), ok=bool(np.all(excess <= 1.0)),
                      worst_index=tuple(int(k) for k in worst), analytic=a, numeric=n,
                      relative_error=relative)


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-7, rtol: float = 1e-5,
                  mode: str = "full", seed: int = 0, raise_exception: bool = True) -> GradcheckReport:
    """Check second derivatives: gradcheck of the *gradient* of ``fn``.

    The first-order gradients ``g(x, v) = grad(fn(x), x, grad_outputs=v, create_graph=True)``
    are a function of the inputs ``x`` and of the upstream gradient ``v`` (drawn at random
    when not given); this runs :func:`gradcheck` on that function, its gradients joined
    into one number with fixed random weights. So the backward of every op's backward
    (what ``create_graph=True`` records) is compared with central differences of the first-order gradients, both with
    respect to the inputs (the Hessian part) and to ``v`` (the backward's linearity).

    Args:
        fn, inputs, eps, atol, rtol, mode, seed, raise_exception: as for :func:`gradcheck`.
        grad_outputs: the upstream gradient ``v`` (default: standard normal, seeded).

    Returns:
        A :class:`GradcheckReport`; its inputs are those of ``fn``, then ``grad_outputs``.
    """
    from minislim.autograd.engine import grad  # the engine imports nothing from here

    if isinstance(inputs, (np.ndarray, Tensor)):
        inputs = [inputs]
    inputs = list(inputs)
    float_positions = [i for i, x in enumerate(inputs)
                       if np.asarray(x.data if isinstance(x, Tensor) else x).dtype.kind == "f"]
    if grad_outputs is None:
        with enable_grad():
            shape = _call(fn, [_float64_leaf(x) for x in inputs]).shape
        grad_outputs = np.random.default_rng(seed + 1).standard_normal(shape)

    # The gradients are reduced to one number with fixed random weights R (as gradcheck
    # does with its output): d/dx sum(g * R) is a Hessian-vector product, checked entry by entry.
    weights_rng = np.random.default_rng(seed + 2)
    weights = {}

    def first_order_gradients(*args):
        xs, v = list(args[:-1]), args[-1]
        with enable_grad():
            output = _call(fn, xs)
            targets = [xs[i] for i in float_positions]
            grads = grad(output, targets, grad_outputs=v, create_graph=True)
            total = None
            for i, g in zip(float_positions, grads):
                if i not in weights:
                    weights[i] = weights_rng.standard_normal(g.shape)
                term = (g * weights[i]).sum()
                total = term if total is None else total + term
        return total

    names = [f"input {i}" for i in range(len(inputs))] + ["grad_outputs"]
    return gradcheck(first_order_gradients, inputs + [np.asarray(grad_outputs, dtype=np.float64)], eps=eps,
                     atol=atol, rtol=rtol, mode=mode, seed=seed, raise_exception=raise_exception, names=names)
