"""Exercises with checkers: write the backward pass of an op, and get told what is wrong.

A student picks an exercise, completes the skeleton's ``backward`` and calls
:func:`check`, which runs the forward against a reference, calls the backward with random
upstream gradients, compares with central differences and explains a mistake in plain
words ("your gradient is exactly twice the true one...", "your backward ignores
grad_output..."). :func:`check` also works without an exercise, for any ``Function``
given a NumPy reference and inputs. See docs/exercises.md.

>>> import numpy as np
>>> import minislim as slim
>>> from minislim import exercises
>>> class Sigmoid(slim.Function):
...     def forward(self, x):
...         y = 1 / (1 + np.exp(-x))
...         self.save_for_backward(y)
...         return y
...     def backward(self, grad_output):
...         (y,) = self.saved_arrays
...         return (-grad_output * y * (1 - y),)      # a stray minus
>>> result = exercises.check(Sigmoid, "sigmoid")
sigmoid: NOT YET. 1 problem found:
  - your gradient for 'x' has its sign flipped: it is exactly minus the true one at every
    element. Look for a subtraction written the wrong way round (a - b instead of b - a) or a
    stray minus sign.
  hint: differentiate 1 / (1 + exp(-x)) and write the result with y; then apply the chain rule.
>>> result.codes
['sign_flipped']
"""
from minislim.exercises.catalog import Exercise
from minislim.exercises.registry import EXERCISES, get, names
from minislim.exercises.checker import CheckResult, check
from minislim.exercises.diagnose import Problem
from minislim.exercises import layers, updates, value_engine, training_chapters, internals_chapters  # noqa: F401  (register their exercises)
from minislim.exercises.functional import FunctionExercise, WrongImplementation
from minislim.exercises.mistakes import Mistake

__all__ = ["check", "CheckResult", "Problem", "Exercise", "EXERCISES", "get", "names", "Mistake",
           "FunctionExercise", "WrongImplementation"]
