"""The exercises: ops and layers whose backward pass is left to the student.

Each :class:`Exercise` gives the task in words, a skeleton (a ``Function`` subclass whose
forward is written and whose backward raises ``NotImplementedError``), a NumPy reference
forward, an input generator (float64, away from kinks and ties) and a hint that the
checker shows when a gradient is wrong. Solutions live outside the package, in
``notebooks/solutions/<name>.py``.

>>> from minislim import exercises
>>> exercises.names()[:6]
['sigmoid', 'softmax', 'matmul', 'mse', 'dense', 'max_pool_2x2']
>>> Sigmoid = exercises.get("sigmoid").skeleton_class()
>>> exercises.check(Sigmoid, "sigmoid", verbose=False).codes
['backward_not_written']
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minislim.exercises.checker import check
from minislim.exercises.mistakes import Mistake
from minislim.exercises.registry import add
from minislim.exercises.student_code import run_skeleton, shipped_skeleton


@dataclass
class Exercise:
    """One exercise: what to write, and what the checker compares it with.

    Attributes:
        name: the key for :func:`get` and :func:`~minislim.exercises.check`.
        title: one line.
        task: what the backward must compute, in words and formulas.
        class_name: the class the skeleton defines (and the solution file too).
        input_names: the names of ``forward``'s inputs, in order.
        reference: NumPy function of float64 inputs giving the true forward output.
        make_inputs: ``rng -> list of float64 arrays`` inside the op's domain.
        hint: shown by the checker with a maths problem: one text, or a dict of texts per
            input name (and ``"forward"`` for a forward the student writes), each shown only
            with a problem of that input.
        domain: the constraint the inputs respect (e.g. "no ties in a window").
        init_kwargs: constructor arguments for the class, if any.
        skeleton_code: what the checker says of the untouched skeleton (the student writes
            the forward too when it is ``"forward_not_written"``).
        mistakes: known wrong answers (:class:`~minislim.exercises.mistakes.Mistake`), each
            recognised and named by the checker.
        skeleton: Python source of the ``Function`` subclass to complete, run after
            ``import numpy as np`` and ``import minislim as slim``; default: the shipped
            ``skeletons/<name>.py`` (see :mod:`minislim.exercises.student_code`).
    """

    kind = "function_class"  # the student writes a Function subclass

    name: str
    title: str
    task: str
    class_name: str
    input_names: tuple
    reference: Callable
    make_inputs: Callable
    hint: object
    domain: str = "any real input"
    init_kwargs: dict = field(default_factory=dict)
    mistakes: tuple = ()
    skeleton_code: str = "backward_not_written"
    skeleton: str | None = None

    def __post_init__(self):
        if self.skeleton is None:
            self.skeleton = shipped_skeleton(self.name)

    def check(self, student, **kwargs):
        """``minislim.exercises.check(student, self, **kwargs)``."""
        return check(student, self, **kwargs)

    def skeleton_class(self) -> type:
        """Run the skeleton as a notebook cell and return its (unfinished) class."""
        return run_skeleton(self.name, self.skeleton, self.class_name)

    def describe(self) -> str:
        """The title, the task and the skeleton, ready to print."""
        return f"{self.title}\n\n{self.task}\n\nStart from:\n\n{self.skeleton}"

    def __str__(self) -> str:
        return self.describe()


# --- sigmoid ------------------------------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


add(Exercise(
    name="sigmoid",
    title="Sigmoid: an elementwise op",
    task=("y = sigmoid(x) = 1 / (1 + exp(-x)), elementwise. backward receives grad_output = dL/dy\n"
          "(the shape of y) and returns a 1-tuple (dL/dx,). The forward saved y: the derivative of\n"
          "the sigmoid is simplest in terms of its output."),
    class_name="Sigmoid",
    input_names=("x",),
    reference=_sigmoid,
    make_inputs=lambda rng: [rng.standard_normal((3, 4)) * 2],
    hint="differentiate 1 / (1 + exp(-x)) and write the result with y; then apply the chain rule.",
    mistakes=(
        Mistake("formula_on_input", "x", lambda inputs, y, g: g * inputs[0] * (1 - inputs[0]),
                "your gradient for 'x' is grad_output * x * (1 - x): the derivative written with the "
                "output, y * (1 - y), but evaluated at the input x. Use the saved output y = sigmoid(x)."),
    ),
))


# --- softmax ------------------------------------------------------------------------------

def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


add(Exercise(
    name="softmax",
    title="Softmax: every output depends on every input of its row",
    task=("s = softmax(x) along the last axis: s_i = exp(x_i) / sum_j exp(x_j). Its Jacobian is\n"
          "ds_i/dx_j = s_i (delta_ij - s_j). backward receives g = dL/ds and returns (dL/dx,) with\n"
          "dL/dx_j = sum_i g_i ds_i/dx_j, for every row at once (no Python loop needed)."),
    class_name="Softmax",
    input_names=("x",),
    reference=_softmax,
    make_inputs=lambda rng: [rng.standard_normal((3, 5)) * 2],
    hint=("expand sum_i g_i s_i (delta_ij - s_j) into two terms; the second needs sum(g * s) "
          "along the last axis (keepdims=True keeps it broadcastable against s)."),
    mistakes=(
        Mistake("diagonal_only", "x", lambda inputs, s, g: g * s * (1 - s),
                "your gradient for 'x' is g * s * (1 - s): only the diagonal terms ds_j/dx_j of the "
                "Jacobian, as if softmax were elementwise like the sigmoid. But every s_i of a row "
                "depends on every x_j of the row (through the normaliser), so the off-diagonal terms "
                "-s_i s_j add up to the missing `- s * sum(g * s)` term."),
        Mistake("reduced_wrong_axis", "x",
                lambda inputs, s, g: s * (g - (g * s).sum(axis=0, keepdims=True)),
                "your gradient for 'x' computes sum(g * s) over axis 0 (the rows, across examples) "
                "instead of the last axis: each row is its own softmax, so the sum runs over the "
                "classes of one row (`axis=-1, keepdims=True`)."),
    ),
))


# --- matmul -------------------------------------------------------------------------------

add(Exercise(
    name="matmul",
    title="Matrix product: two inputs",
    task=("c = a @ b with a [M, K], b [K, N], c [M, N]. backward receives grad_output = dL/dc\n"
          "[M, N] and returns (dL/da, dL/db): dL/da has a's shape [M, K] and dL/db has b's\n"
          "shape [K, N]. Each is a matrix product of grad_output with the *other* input;\n"
          "let the shapes tell you which operand to transpose."),
    class_name="MatMul",
    input_names=("a", "b"),
    reference=lambda a, b: a @ b,
    make_inputs=lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((4, 2))],
    hint=("c_mn = sum_k a_mk b_kn, so dL/da_mk = sum_n g_mn b_kn: a product of grad_output and "
          "b with one of them transposed; [M, N] x [N, K] is the only way to get [M, K]."),
))


# --- mean squared error ---------------------------------------------------------------------

add(Exercise(
    name="mse",
    title="Mean squared error: a loss with a scalar output",
    task=("loss = mean((predictions - targets) ** 2) over all elements: a 0-d output.\n"
          "grad_output is then a 0-d array (the upstream gradient of the scalar; 1.0 when the\n"
          "loss is the end of the graph, but not always). Return (dL/dpredictions, dL/dtargets)."),
    class_name="MeanSquaredError",
    input_names=("predictions", "targets"),
    reference=lambda p, t: np.mean((p - t) ** 2),
    make_inputs=lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))],
    hint=("the mean divides by the number of elements, the square brings a factor 2, and "
          "targets enter with a minus sign."),
))


# --- dense layer ----------------------------------------------------------------------------

add(Exercise(
    name="dense",
    title="A dense layer: y = x @ w + b",
    task=("y = x @ w + b with inputs x [N, IN], weights w [IN, OUT], biases b [OUT]; y is [N, OUT].\n"
          "Return (dL/dx, dL/dw, dL/db), each with its input's shape. The bias was added to every\n"
          "row of the batch, so each row contributes to its gradient."),
    class_name="Dense",
    input_names=("x", "w", "b"),
    reference=lambda x, w, b: x @ w + b,
    make_inputs=lambda rng: [rng.standard_normal((5, 3)), rng.standard_normal((3, 2)),
                             rng.standard_normal(2)],
    hint={"x": ("x @ w is a matrix product (see the matmul exercise): dL/dx is grad_output times w "
                "with one of them transposed, [N, OUT] x [OUT, IN]."),
          "w": ("dL/dw_io = sum_n x_ni g_no: a product of x and grad_output, [IN, N] x [N, OUT]; the sum "
                "over the batch is inside the matrix product."),
          "b": "b is broadcast over the N rows, so its gradient adds up grad_output over the batch axis."},
))


# --- 2x2 max pooling ------------------------------------------------------------------------

def _max_pool_2x2(x):
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _distinct_images(rng):
    """[2, 4, 6, 3] values pairwise at least 0.05 apart, so no window has a tie."""
    shape = (2, 4, 6, 3)
    size = int(np.prod(shape))
    return [(rng.permutation(size) * 0.05 - size * 0.025).reshape(shape)]


add(Exercise(
    name="max_pool_2x2",
    title="2x2 max pooling (NHWC, stride 2)",
    task=("inputs [N, H, W, C] with even H and W; each output [N, H/2, W/2, C] is the maximum of\n"
          "a 2x2 window. Only the maximum of each window changes the output, so the gradient of\n"
          "a window goes to its maximum and nowhere else (the inputs here have no ties).\n"
          "Return (dL/dx,), shaped like x."),
    class_name="MaxPool2x2",
    input_names=("x",),
    reference=_max_pool_2x2,
    make_inputs=_distinct_images,
    hint=("compare each window with its maximum (y[:, :, None, :, None, :] broadcasts against the "
          "6-d windows) to get a mask, multiply by grad_output broadcast the same way, and reshape "
          "back to x's shape."),
    domain="values pairwise at least 0.05 apart: no ties inside a window",
))
