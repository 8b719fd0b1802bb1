"""Exercises whose answer is a plain function (or a class), not a ``Function``'s backward.

im2col, an optimizer's update, a training loop, the ops of notebook 01's scalar ``Value``
engine: the student writes an *implementation*, and the checker runs it beside a correct
one on a few cases and compares what comes out (:class:`FunctionExercise`). The same
harness runs the exercise's known wrong implementations (:class:`WrongImplementation`):
when the student's results match one of them on every case, the checker names the
mistake instead of printing numbers.

>>> import numpy as np
>>> from minislim import exercises
>>> def sgd_update(w, g, lr):
...     return w + lr * g                     # uphill
>>> exercises.check(sgd_update, "sgd_update", verbose=False).codes
['ascent']
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minislim.exercises.checker import CheckResult
from minislim.exercises.diagnose import Problem, close, describe_factor, fmt, fmt_index
from minislim.exercises.student_code import run_skeleton, shipped_skeleton


@dataclass
class WrongImplementation:
    """A known mistake: an implementation with it, and what the checker then says."""

    code: str
    implementation: Callable
    message: str


@dataclass
class FunctionExercise:
    """An exercise whose answer is an implementation run by :attr:`run`.

    Attributes:
        name, title, task: as for :class:`~minislim.exercises.Exercise`.
        function_name: what the skeleton defines (a function or a class).
        reference: a correct implementation.
        run: ``(implementation, case) -> {output name: array}``: runs one implementation
            on one case and collects what it produced.
        make_cases: ``rng -> [(label, case), ...]``.
        hint: one text, or texts per case label or output name (shown only with a wrong
            result there).
        mistakes: known wrong implementations.
        skeleton_namespace: names a skeleton given as a string expects besides ``np`` and
            ``slim`` (e.g. the notebook's ``Value`` class it extends).
        skeleton: its source, run after ``import numpy as np`` and ``import minislim as
            slim``; default: the shipped ``skeletons/<name>.py``.
    """

    name: str
    title: str
    task: str
    function_name: str
    reference: Callable
    run: Callable
    make_cases: Callable
    hint: object = ""
    mistakes: tuple = ()
    skeleton_code: str = "not_written"
    input_names: tuple = ()
    init_kwargs: dict = field(default_factory=dict)
    skeleton_namespace: dict = field(default_factory=dict)
    skeleton: str | None = None

    def __post_init__(self):
        if self.skeleton is None:
            self.skeleton = shipped_skeleton(self.name)

    kind = "function"

    @property
    def class_name(self) -> str:
        """What the skeleton and the solution define (as :attr:`Exercise.class_name`)."""
        return self.function_name

    def skeleton_class(self):
        """Run the skeleton as a notebook cell and return what it defines (still unfinished)."""
        return run_skeleton(self.name, self.skeleton, self.function_name, self.skeleton_namespace)

    def describe(self) -> str:
        return f"{self.title}\n\n{self.task}\n\nStart from:\n\n{self.skeleton}"

    def __str__(self) -> str:
        return self.describe()

    def check(self, student, seed: int = 0, verbose: bool = True) -> CheckResult:
        """Run ``student`` on every case beside the reference and explain a difference."""
        result = check_implementation(student, self, seed)
        if verbose:
            print(result)
        return result


def _outputs(exercise, implementation, case) -> dict:
    produced = exercise.run(implementation, case)
    return {key: np.asarray(value, dtype=np.float64) for key, value in produced.items()}


def _same(got: dict, expected: dict) -> bool:
    return all(key in got and got[key].shape == value.shape and np.all(close(got[key], value))
               for key, value in expected.items())


def check_implementation(student, exercise: FunctionExercise, seed: int = 0) -> CheckResult:
    """What :meth:`FunctionExercise.check` returns (see the module docstring)."""
    hints = exercise.hint if isinstance(exercise.hint, dict) else {}
    result = CheckResult(name=exercise.name, input_names=list(exercise.input_names),
                         hint="" if hints else exercise.hint, hints=dict(hints))
    name = getattr(student, "__name__", type(student).__name__)
    cases = exercise.make_cases(np.random.default_rng(seed))
    runs = []
    for label, case in cases:
        expected = _outputs(exercise, exercise.reference, case)
        try:
            got = exercise.run(student, case)
        except NotImplementedError:
            result.problems.append(Problem("not_written", f"your {name} is not written yet (it raised "
                                           "NotImplementedError): replace the `raise NotImplementedError` "
                                           "with your code."))
            return result
        except Exception as error:
            result.problems.append(Problem("error", f"your {name} raised {type(error).__name__}: {error} "
                                           f"(case {label!r})."))
            return result
        try:
            got = {key: np.asarray(value, dtype=np.float64) for key, value in got.items()}
        except (TypeError, ValueError):
            bad = next(k for k, v in got.items() if not _numeric(v))
            result.problems.append(Problem("not_an_array", f"in case {label!r}, your {bad} is not an "
                                           "array of numbers (did you keep Values or Tensors instead of "
                                           "their numbers, e.g. loss instead of float(loss.data)?).", label))
            return result
        runs.append((label, case, got, expected))

    if all(_same(got, expected) for _, _, got, expected in runs):
        result.summary = (f"{exercise.name}: PASSED. Your {name} gives the reference's results on "
                          f"all {len(runs)} cases ({', '.join(label for label, *_ in runs)}).")
        return result
    for mistake in exercise.mistakes:
        if _matches(exercise, mistake.implementation, runs):
            failed = [label for label, _, got, expected in runs if not _same(got, expected)]
            where = "" if len(failed) == len(runs) else f"in case{'s' if len(failed) > 1 else ''} " \
                + ", ".join(repr(label) for label in failed) + ": "
            result.problems.append(Problem(mistake.code, where + mistake.message,
                                           _where(failed[0], None, hints)))
            return result
    for label, _, got, expected in runs:
        if not _same(got, expected):
            result.problems.append(_describe(label, got, expected, hints))
            break
    return result


def _where(label: str, key, hints: dict):
    """The hint key for a problem in case ``label`` with output ``key``: the output, or the
    case's first word (``"relu"`` for the case ``"relu at 0.8"``), or the label."""
    first = label.split()[0].rstrip(",")
    return key if key in hints else first if first in hints else label


def _numeric(value) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _matches(exercise, implementation, runs) -> bool:
    """Does the wrong implementation give the student's results on every case they got wrong?

    (A mistake may touch several parts, e.g. three ops, of which the student got one wrong:
    the cases the student got right are not compared.)
    """
    for _, case, got, expected in runs:
        if _same(got, expected):
            continue
        try:
            wrong = _outputs(exercise, implementation, case)
        except Exception:  # noqa: BLE001 - a mistake that crashes on this case is not the student's
            return False
        if not _same(got, wrong):
            return False
    return any(not _same(got, expected) for _, _, got, expected in runs)


def _describe(label: str, got: dict, expected: dict, hints: dict) -> Problem:
    """A plain-words problem for the first output of case ``label`` that differs."""
    for key, want in expected.items():
        have = got.get(key)
        where = _where(label, key, hints)
        if have is None:
            return Problem("missing_output", f"in case {label!r}, your result has no {key!r}.", where)
        if have.shape != want.shape:
            return Problem("wrong_shape", f"in case {label!r}, your result {key!r} has shape "
                           f"{have.shape}; it must have shape {want.shape}.", where)
        ok = close(have, want)
        if np.all(ok):
            continue
        significant = np.abs(want) > 1e-7
        if np.sum(significant) >= 3:  # a factor between two single numbers says nothing
            factor = float(np.median(have[significant] / want[significant]))
            if abs(factor - 1) > 1e-6 and np.all(close(have, factor * want)):
                _, message = describe_factor(key, factor, {})
                message = message.replace("your gradient for", f"in case {label!r}, your result for")
                return Problem("scaled" if factor != -1 else "sign_flipped", message, where)
        index = tuple(np.argwhere(~ok)[0])
        at = f" at index {fmt_index(index)}" if have.ndim else ""
        return Problem("wrong", textwrap.dedent(f"""\
            in case {label!r}, your result {key!r} differs from the reference at {int(np.sum(~ok))} of {ok.size}
            elements: e.g.{at} yours is {fmt(have[index])}, the reference gives {fmt(want[index])}.
            """).replace("\n", " ").strip(), where)
    return Problem("wrong", f"in case {label!r}, your result differs from the reference.", where)
