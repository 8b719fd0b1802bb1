"""``check``: test a student's ``Function`` and explain what is wrong in plain words.

The checker works in float64 on small inputs and goes step by step, stopping at the first
step that fails (a wrong forward makes any gradient check meaningless):

1. **Forward.** Your forward must run, leave its inputs alone, keep their dtype (float64
   in, float64 out) and match the reference.
2. **Backward, called directly** with a random upstream gradient ``grad_output``: it must
   run, leave ``grad_output``, the inputs, the output and the arrays it saved alone, and
   return a tuple with one gradient per input, each with its input's shape (or a broadcast
   shape that the engine can sum back) and dtype.
3. **Values.** Each gradient is compared with the true one, computed by central
   differences of the reference forward. When they differ, the checker looks for the
   usual mistakes (see :mod:`minislim.exercises.diagnose`) and says which one it found.
   A second, different ``grad_output`` shows whether your backward uses it at all.
4. **Through the engine.** Finally :func:`minislim.testing.gradcheck` runs your op
   through autograd, as a test would; its report is kept in ``result.report``.

>>> import numpy as np
>>> import minislim as slim
>>> class Cube(slim.Function):
...     def forward(self, x):
...         self.save_for_backward(x)
...         return x ** 3
...     def backward(self, grad_output):
...         (x,) = self.saved_arrays
...         return (3 * x ** 2,)          # forgot grad_output
>>> result = check(Cube, reference=lambda x: x ** 3, inputs=[np.array([0.5, -1.0, 2.0])],
...                verbose=False)
>>> result.passed, result.codes
(False, ['ignores_grad_output'])
"""
from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, field

import numpy as np

from minislim.autograd.function import Function
from minislim.autograd.gradcheck import GradcheckReport, gradcheck
from minislim.autograd.tensor import Tensor
from minislim.exercises.diagnose import (Problem, close, diagnose_gradient, fmt, fmt_index, match_variant,
                                         numeric_jacobian)
from minislim.exercises.mistakes import exercise_variants, generic_variants
from minislim.exercises.registry import get
from minislim.exercises.shapes import diagnose_shape
from minislim.kernels.reduce import sum_to

#: forward outputs must match the reference within these tolerances (float64)
FORWARD_RTOL, FORWARD_ATOL = 1e-6, 1e-9

#: problems for which the exercise's hint (about the derivative) would not help
NOT_ABOUT_THE_MATHS = {"forward_not_written", "backward_not_written", "forward_modifies_input",
                       "modifies_grad_output", "backward_modifies_input", "backward_modifies_saved",
                       "forward_wrong_dtype", "backward_wrong_dtype", "returns_list", "not_an_array",
                       "wrong_count", "backward_error", "forward_error", "init_error", "missing_gradient",
                       "engine_mismatch", "not_written", "error"}


def hints_for(problems: list, hint: str, hints: dict) -> list:
    """``[(label, text)]``: the hints worth showing for ``problems``, each once.

    Only maths problems get a hint; a problem about input ``b`` gets ``hints["b"]`` (else the
    general ``hint``), a problem with the forward gets ``hints["forward"]`` only.
    """
    shown = []
    for problem in problems:
        if problem.code in NOT_ABOUT_THE_MATHS:
            continue
        if problem.code.startswith("forward_"):
            label, text = "forward", hints.get("forward", "")
        elif problem.input_name is not None and problem.input_name in hints:
            label, text = problem.input_name, hints[problem.input_name]
        else:
            label, text = None, hint
        if text and (label, text) not in shown:
            shown.append((label, text))
    return shown


@dataclass
class CheckResult:
    """What :func:`check` found. ``bool(result)`` is ``result.passed``.

    Attributes:
        name: the exercise (or the class) that was checked.
        problems: the :class:`~minislim.exercises.diagnose.Problem` list, empty on success.
        warnings: remarks that do not fail the check (e.g. float32 became float64).
        report: :func:`~minislim.testing.gradcheck`'s report of the run through the engine,
            or ``None`` when the op could not be run that far.
        hint: the exercise's general hint, shown when a gradient is wrong.
        hints: hints per input name (and ``"forward"``), shown only for a maths problem
            with that input (or with the forward).
        summary: the verdict's first line when the check passed (plain-function exercises).
    """

    name: str
    input_names: list
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    report: GradcheckReport | None = None
    hint: str = ""
    hints: dict = field(default_factory=dict)
    summary: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> list:
        """The codes of the problems found, e.g. ``['scaled']``."""
        return [problem.code for problem in self.problems]

    @property
    def max_relative_error(self) -> float | None:
        """The largest relative error gradcheck saw (``None`` without a report)."""
        if self.report is None or not self.report.checks:
            return None
        return max(check.relative_error for check in self.report.checks)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, passed={self.passed}, codes={self.codes})"

    def __str__(self) -> str:
        def para(text: str, first: str, rest: str) -> str:
            return textwrap.fill(text, width=92, initial_indent=first, subsequent_indent=rest,
                                 break_on_hyphens=False)

        if self.passed and self.summary:
            lines = [para(self.summary, "", "  ")]
        elif self.passed:
            error = self.max_relative_error
            figure = f", largest relative error {error:.1g}" if error is not None else ""
            lines = [para(f"{self.name}: PASSED. Your forward matches the reference and your backward "
                          f"matches the numerical gradient for every input "
                          f"({', '.join(self.input_names)}){figure}.", "", "  ")]
        else:
            count = len(self.problems)
            lines = [f"{self.name}: NOT YET. {count} problem{'s' if count > 1 else ''} found:"]
            lines += [para(problem.message, "  - ", "    ") for problem in self.problems]
            for label, text in hints_for(self.problems, self.hint, self.hints):
                what = "hint" if label is None else f"hint for the {label}" if label == "forward" \
                    else f"hint for '{label}'"
                lines.append(para(f"{what}: {text}", "  ", "    "))
        lines += [para(f"note: {warning}", "  ", "    ") for warning in self.warnings]
        return "\n".join(lines)


class _Stop(Exception):
    """Raised inside :func:`check` once a problem makes the later steps meaningless."""


def check(student, exercise=None, *, reference=None, inputs=None, input_names=None,
          init_kwargs=None, hint: str = "", seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check a student's ``Function`` subclass and explain any mistake in plain words.

    Args:
        student: your ``Function`` subclass (e.g. ``Sigmoid``); an instance is accepted too.
        exercise: an exercise name (``"sigmoid"``; see :func:`minislim.exercises.names`) or
            an :class:`~minislim.exercises.Exercise`. Without it, give ``reference`` and
            ``inputs``.
        reference: a NumPy function of the input arrays computing the true forward.
        inputs: a list of input arrays, or a function ``rng -> list of arrays``.
        input_names: names of the inputs for the messages (default: the parameter names of
            your ``forward``).
        init_kwargs: keyword arguments for the constructor (e.g. ``{"axis": 0}``).
        hint: shown when a gradient is wrong (an exercise brings its own).
        seed: seeds the inputs (when drawn) and the random upstream gradients.
        verbose: print the verdict.

    Returns:
        A :class:`CheckResult`; it never raises for a mistake in the student's code.

    Raises:
        TypeError: ``student`` is not a ``Function`` subclass, or neither ``exercise`` nor
            ``reference`` and ``inputs`` were given.
    """
    if isinstance(exercise, str):
        exercise = get(exercise)
    if getattr(exercise, "kind", "function_class") != "function_class":
        return exercise.check(student, seed=seed, verbose=verbose)  # a plain-function exercise
    cls = student if isinstance(student, type) else type(student) if isinstance(student, Function) else None
    if cls is None or not issubclass(cls, Function):
        raise TypeError(f"check: expected your Function subclass (e.g. check(Sigmoid, 'sigmoid')), "
                        f"got {student!r}")
    hints, mistakes = {}, ()
    if exercise is not None:
        name, reference, make_inputs = exercise.name, exercise.reference, exercise.make_inputs
        input_names = list(exercise.input_names)
        init_kwargs = dict(exercise.init_kwargs) if init_kwargs is None else init_kwargs
        if isinstance(exercise.hint, dict):
            hints = dict(exercise.hint)
        else:
            hint = hint or exercise.hint
        mistakes = tuple(exercise.mistakes)
    else:
        if reference is None or inputs is None:
            raise TypeError("check: give an exercise name (e.g. check(Sigmoid, 'sigmoid')) or both "
                            "reference= and inputs=")
        name, make_inputs = cls.__name__, inputs if callable(inputs) else (lambda rng: list(inputs))
    init_kwargs = dict(init_kwargs or {})

    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) for a in make_inputs(rng)]
    input_names = list(input_names) if input_names else _forward_parameter_names(cls, len(arrays))
    result = CheckResult(name=name, input_names=input_names, hint=hint, hints=hints)
    run = _Run(cls, init_kwargs, arrays, input_names, reference, result)
    run.mistakes = mistakes
    try:
        run.check_forward()
        run.check_backward(rng)
    except _Stop:
        pass
    run.run_gradcheck()
    if verbose:
        print(result)
    return result


def _forward_parameter_names(cls, count: int) -> list:
    try:
        parameters = list(inspect.signature(cls.forward).parameters.values())[1:]
        names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    if len(names) != count:
        names = ["x"] if count == 1 else [f"input {i}" for i in range(count)]
    return names


class _Run:
    """The state of one :func:`check` call, step by step."""

    def __init__(self, cls, init_kwargs, arrays, names, reference, result):
        self.cls, self.init_kwargs, self.arrays = cls, init_kwargs, arrays
        self.names, self.reference, self.result = names, reference, result
        self.forward_ok = False
        self.mistakes = ()

    def fail(self, code: str, message: str, input_name=None, stop: bool = True) -> None:
        if not any(p.code == code and p.message == message for p in self.result.problems):
            self.result.problems.append(Problem(code, message, input_name))
        if stop:
            raise _Stop

    def shapes(self) -> str:
        return ", ".join(f"{n} {a.shape}" for n, a in zip(self.names, self.arrays))

    def new_op(self) -> Function:
        try:
            return self.cls(**self.init_kwargs)
        except Exception as error:
            self.fail("init_error", f"could not create your Function: {self.cls.__name__}"
                      f"(**{self.init_kwargs}) raised {type(error).__name__}: {error}")

    def forward(self, arrays):
        """A fresh op called on Tensors (so ``needs_input_grad`` is set), and its output."""
        op = self.new_op()
        tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        try:
            with np.errstate(all="ignore"):  # an overflow shows as a wrong value, explained below
                out = op(*tensors)
        except NotImplementedError:
            self.fail("forward_not_written", "your forward is not written yet (it raised "
                      "NotImplementedError).")
        except Exception as error:
            self.fail("forward_error", f"your forward raised {type(error).__name__}: {error} "
                      f"(the inputs have shapes {self.shapes()}).")
        return op, tensors, out.data

    # --- step 1 -------------------------------------------------------------------------

    def check_forward(self) -> None:
        _, tensors, out = self.forward(self.arrays)
        for name, tensor, original in zip(self.names, tensors, self.arrays):
            if not np.array_equal(tensor.data, original):
                self.fail("forward_modifies_input", f"your forward changed its input '{name}' in "
                          "place; compute new arrays instead (e.g. `x * 2`, not `x *= 2`).", name)
        expected = np.asarray(self.reference(*[a.copy() for a in self.arrays]), dtype=np.float64)
        if not np.issubdtype(out.dtype, np.number):
            what = "None (is its `return` missing?)" if out.ndim == 0 and out.item() is None else \
                f"an array of {out.dtype} values"
            self.fail("forward_not_numbers", f"your forward returned {what}; it must return the output, "
                      "an array of numbers.")
        if out.dtype != np.float64:
            # float32 rounding (about 1e-7) swamps the float64 numeric gradient: keep checking,
            # but the op cannot pass
            self.fail("forward_wrong_dtype", f"your forward returns {out.dtype} for float64 inputs; "
                      "keep the input's dtype (e.g. `.astype(x.dtype)`, not `.astype(np.float32)`): "
                      "minislim keeps float64 as float64, and the float64 gradient check needs its "
                      "precision.", stop=False)
        if out.shape != expected.shape:
            self.fail("forward_wrong_shape", f"your forward output has shape {out.shape}, but the "
                      f"reference output has shape {expected.shape}.")
        with np.errstate(invalid="ignore"):
            ok = np.abs(out - expected) <= FORWARD_ATOL + FORWARD_RTOL * np.abs(expected)
        if not np.all(ok):
            index = tuple(np.argwhere(~ok)[0])
            self.fail("forward_mismatch", f"your forward output differs from the reference at "
                      f"{int(np.sum(~ok))} of {ok.size} elements: e.g. at index {fmt_index(index)} "
                      f"yours is {fmt(out[index])}, the reference gives {fmt(expected[index])}.")
        self.forward_ok = True
        self.output_shape = out.shape
        self.expected = expected
        try:
            out32 = np.asarray(self.new_op().forward(*[a.astype(np.float32) for a in self.arrays]))
        except Exception:  # noqa: BLE001 - only a remark; the float64 run decides
            return
        if out32.dtype != np.float32:
            self.result.warnings.append(
                f"your forward turned float32 inputs into {out32.dtype}; minislim keeps float32 "
                "(a float64 constant array or np.float64(...) promotes, Python numbers do not).")

    # --- steps 2 and 3 ------------------------------------------------------------------

    def backward(self, upstream: np.ndarray) -> tuple:
        op, tensors, out = self.forward(self.arrays)
        saved = tuple(op.saved_arrays)
        saved_copies = [a.copy() if isinstance(a, np.ndarray) else None for a in saved]
        given = upstream.copy()
        try:
            grads = op.backward(given)
        except NotImplementedError:
            self.fail("backward_not_written", "your backward is not written yet (it raised "
                      "NotImplementedError): replace the `raise NotImplementedError` with your code.")
        except Exception as error:
            self.fail("backward_error", f"your backward raised {type(error).__name__}: {error}. "
                      f"For reference: grad_output has shape {upstream.shape}; the inputs have "
                      f"shapes {self.shapes()}.")
        if not np.array_equal(given, upstream):
            self.fail("modifies_grad_output", "your backward changed grad_output in place (e.g. "
                      "`grad_output *= ...`); the engine may hand the same array to several ops, so "
                      "compute a new array instead (`grad_output * ...`).", stop=False)
        self.check_nothing_changed(tensors, out, saved, saved_copies)
        if isinstance(grads, list):
            self.fail("returns_list", "your backward returned a list; return a tuple, e.g. "
                      "`return (grad_x,)` or `return grad_a, grad_b`.", stop=False)
            grads = tuple(grads)
        return grads if isinstance(grads, tuple) else (grads,)

    def check_nothing_changed(self, tensors, out, saved, saved_copies) -> None:
        """After backward, the inputs, the output and the saved arrays must be as forward left them."""
        changed_inputs = False
        for name, tensor, original in zip(self.names, tensors, self.arrays):
            if not np.array_equal(tensor.data, original, equal_nan=True):
                changed_inputs = True
                through = next((f" (through saved_arrays[{k}], which is '{name}' or a view of it)"
                                for k, a in enumerate(saved)
                                if isinstance(a, np.ndarray) and np.may_share_memory(a, tensor.data)), "")
                self.fail("backward_modifies_input", f"your backward changed its input '{name}' in "
                          f"place{through}: after `loss.backward()` the caller's tensor '{name}' holds "
                          "different values. Compute a new array instead (e.g. `x - g`, not `x -= g`).",
                          name, stop=False)
        if changed_inputs:  # a saved view of an input changed with it: already said
            return
        for k, (array, copy) in enumerate(zip(saved, saved_copies)):
            if copy is None or np.array_equal(array, copy, equal_nan=True):
                continue
            if np.may_share_memory(array, out):
                what = (f"your forward's output, saved as saved_arrays[{k}]: after `loss.backward()` "
                        "the caller's output tensor holds different values")
            else:
                what = (f"saved_arrays[{k}]: a second backward through the same graph "
                        "(`loss.backward(retain_graph=True)`) would read the changed values")
            self.fail("backward_modifies_saved", f"your backward changed {what} in place. Compute a "
                      "new array instead (e.g. `y * g`, not `y *= g`).", stop=False)

    def check_backward(self, rng) -> None:
        upstream = np.asarray(rng.standard_normal(self.output_shape))
        upstream_again = np.asarray(rng.standard_normal(self.output_shape))
        grads = self.backward(upstream)
        n = len(self.arrays)
        if len(grads) != n:
            names = ", ".join(self.names)
            self.fail("wrong_count", f"your backward returned {len(grads)} gradient"
                      f"{'s' if len(grads) != 1 else ''} but the op has {n} input{'s' if n != 1 else ''} "
                      f"({names}): return one per input, in the order forward takes them"
                      + (f", e.g. `return grad_{self.names[0]}, grad_{self.names[1]}`." if n == 2 else "."))
        grads_again = self.backward(upstream_again)
        ones = np.ones(self.output_shape)
        counts = self.counts()
        for i, (name, x) in enumerate(zip(self.names, self.arrays)):
            jacobian = numeric_jacobian(self.reference, self.arrays, i)

            def true_for(g, jacobian=jacobian, x=x):
                return (jacobian.T @ np.ravel(g)).reshape(x.shape)

            true = true_for(upstream)
            analytic = self.fit(name, x, grads[i], true)
            if analytic is None:
                continue
            again = grads_again[i] if len(grads_again) == n else None
            again = self.fit(name, x, again, None, quiet=True)
            if again is None:
                again = np.full(x.shape, np.nan)
            problem = None
            if not np.all(close(analytic, true)):  # known wrong answers first, then the generic words
                variants = [self.variants(name, i, jacobian, g) for g in (upstream, upstream_again)]
                problem = match_variant(name, analytic, again, true, *variants)
            if problem is None:
                problem = diagnose_gradient(name, analytic, true, again, true_for(upstream_again),
                                            true_for(ones), counts)
            if problem is not None:
                self.result.problems.append(problem)

    def fit(self, name, x, grad, true, quiet: bool = False):
        """``grad`` as a float64 array of ``x``'s shape, or ``None`` after reporting why not."""
        if grad is None:
            if not quiet and np.any(np.abs(true) > 1e-7):
                self.fail("missing_gradient", f"your backward returned None for '{name}', but the "
                          f"output depends on '{name}': return its gradient.", name, stop=False)
            return None
        if isinstance(grad, Tensor):
            if not quiet:
                self.fail("not_an_array", f"you returned a Tensor as the gradient for '{name}'; backward "
                          "works on plain ndarrays: compute it with NumPy from grad_output and the saved "
                          "arrays.", name, stop=False)
            return None
        if not quiet and isinstance(grad, np.ndarray) and grad.dtype.kind == "f" and grad.dtype != x.dtype:
            self.fail("backward_wrong_dtype", f"your backward returns a {grad.dtype} gradient for "
                      f"'{name}', whose input is {x.dtype}; keep the input's dtype (e.g. "
                      "`.astype(x.dtype)`, not `.astype(np.float32)`): the engine would cast it back, "
                      "but the precision is lost.", name, stop=False)
        try:
            grad = np.asarray(grad, dtype=np.float64)
        except (TypeError, ValueError):
            if not quiet:
                self.fail("not_an_array", f"the gradient you returned for '{name}' is not an array "
                          f"of numbers (got {type(grad).__name__}).", name, stop=False)
            return None
        if grad.shape == x.shape:
            return grad
        if quiet:
            return None
        # the engine would sum a broadcast shape back, but the task is the input's shape: a
        # missing sum is a real mistake (it hides what the gradient of a broadcast input is)
        try:
            values_right = bool(np.all(close(sum_to(grad, x.shape), true)))
        except ValueError:
            values_right = None
        problem = diagnose_shape(name, grad.shape, x.shape, self.output_shape, values_right)
        self.fail(problem.code, problem.message, name, stop=False)
        return None

    def variants(self, name, i, jacobian, upstream) -> list:
        """The known wrong gradients for input ``i`` (the exercise's own, then generic ones)."""
        found = exercise_variants(self.mistakes, name, self.arrays, self.expected, upstream)
        return found + generic_variants(self.reference, self.arrays, i, jacobian, upstream)

    def counts(self) -> dict:
        """Numbers worth naming when a gradient is off by a factor: sizes, then axis lengths."""
        counts = {}
        for name, x in zip(self.names, self.arrays):
            counts.setdefault(x.size, f"the number of elements of '{name}'")
        size = int(np.prod(self.output_shape, dtype=int))
        counts.setdefault(size, "the number of output elements")
        for name, x in zip(self.names, self.arrays):
            for axis, length in enumerate(x.shape):
                counts.setdefault(length, f"the length of axis {axis} of '{name}'")
        return counts

    # --- step 4 -------------------------------------------------------------------------

    def run_gradcheck(self) -> None:
        if not self.forward_ok:
            return
        try:
            report = gradcheck(lambda *tensors: self.cls(**self.init_kwargs)(*tensors), self.arrays,
                               raise_exception=False, names=self.names)
        except Exception as error:
            if self.result.passed:  # pragma: no cover - direct calls passed, engine raised
                self.fail("engine_mismatch", f"calling your op through the autograd engine raised "
                          f"{type(error).__name__}: {error}", stop=False)
            return
        self.result.report = report
        if self.result.passed and not report.ok:
            self.fail("engine_mismatch", "your backward gives the right gradient when called once, "
                      "but not when run through the autograd engine (gradcheck's report is in "
                      "result.report). Does it depend on state left over from an earlier call (a "
                      "class attribute, a global, something kept on self)?", stop=False)
