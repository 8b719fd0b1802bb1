"""Notebook 01's exercises on the thirty-line scalar autograd: new ops and a training loop.

``value_ops``: the student's ``Value`` subclass gets ``__pow__`` (a number exponent),
``exp`` and ``relu``, each with its ``_backward`` closure. The checker builds one small
expression per op with the student's class (each uses its input twice, so a closure that
assigns ``self.grad = ...`` instead of adding is caught) and compares the value and the
gradients with :class:`ReferenceValue`.

``value_training_loop``: ``train(params, loss_fn, steps, lr)``, plain gradient descent
on Values (zero the gradients, forward, backward, update), compared with the reference
loop on a tiny least-squares problem.

>>> from minislim import exercises
>>> exercises.check(ReferenceValue, "value_ops", verbose=False).passed
True
"""
from __future__ import annotations

import math

import numpy as np

from minislim.exercises.functional import FunctionExercise, WrongImplementation
from minislim.exercises.registry import add


class BaseValue:
    """Notebook 01's ``Value`` as the notebook writes it: +, *, tanh and backward."""

    def __init__(self, data, parents=()):
        self.data, self.grad, self.parents = data, 0.0, parents
        self._backward = lambda: None

    def _new(self, data, parents):
        return type(self)(data, parents)

    def __add__(self, other):
        out = self._new(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        out = self._new(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        out = self._new(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class ReferenceValue(BaseValue):
    """:class:`BaseValue` with the exercise's three ops written."""

    def __pow__(self, n):
        out = self._new(self.data ** n, (self,))

        def _backward():
            self.grad += self.pow_local(n) * out.grad
        out._backward = _backward
        return out

    def pow_local(self, n):
        return n * self.data ** (n - 1)

    def exp(self):
        out = self._new(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = self._new(max(self.data, 0.0), (self,))

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out


# --- value_ops ------------------------------------------------------------------------------

def _expression(V, op, a, b):
    """One small expression per op; the input ``x`` is used twice in each."""
    x, z = V(a), V(b)
    if op == "pow":
        y = x ** 3 + x ** -0.5
    elif op == "exp":
        y = x.exp() * x
    else:  # relu: one positive input, one negative
        y = x.relu() * x + z.relu() * x
    y.backward()
    return {"value": y.data, "dy/dx": x.grad, "dy/dz": z.grad}


def _run_ops(V, case):
    op, a, b = case
    return _expression(V, op, a, b)


def _ops_cases(rng):
    return [(f"{op} at {a}", (op, a, b)) for op, a, b in (("pow", 1.7, 0.0), ("exp", 0.4, 0.0), ("relu", 0.8, -0.6),
                                                ("pow", 0.6, 0.0), ("exp", -1.1, 0.0), ("relu", -0.3, 0.9))]


class _PowNoMinusOne(ReferenceValue):
    def pow_local(self, n):
        return n * self.data ** n


class _ExpAtInput(ReferenceValue):
    def exp(self):
        out = self._new(math.exp(self.data), (self,))

        def _backward():
            self.grad += self.data * out.grad
        out._backward = _backward
        return out


class _ReluAlwaysOpen(ReferenceValue):
    def relu(self):
        out = self._new(max(self.data, 0.0), (self,))

        def _backward():
            self.grad += out.grad
        out._backward = _backward
        return out


class _Overwrites(ReferenceValue):
    """Every new op assigns its gradient instead of adding it."""

    def __pow__(self, n):
        out = self._new(self.data ** n, (self,))

        def _backward():
            self.grad = n * self.data ** (n - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = self._new(math.exp(self.data), (self,))

        def _backward():
            self.grad = out.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = self._new(max(self.data, 0.0), (self,))

        def _backward():
            self.grad = (self.data > 0) * out.grad
        out._backward = _backward
        return out


class _ForgetsOutGrad(ReferenceValue):
    def __pow__(self, n):
        out = self._new(self.data ** n, (self,))

        def _backward():
            self.grad += n * self.data ** (n - 1)
        out._backward = _backward
        return out

    def exp(self):
        out = self._new(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data
        out._backward = _backward
        return out

    def relu(self):
        out = self._new(max(self.data, 0.0), (self,))

        def _backward():
            self.grad += float(self.data > 0)
        out._backward = _backward
        return out


add(FunctionExercise(
    name="value_ops",
    title="Three new ops for the scalar Value engine: x ** n, exp, relu",
    task=("Subclass notebook 01's Value and add __pow__(self, n) for a number n, exp(self) and\n"
          "relu(self). Each creates its output Value (with the inputs as parents) and a\n"
          "_backward closure that adds (+=) the local derivative times out.grad to self.grad."),
    function_name="MyValue",
    reference=ReferenceValue,
    run=_run_ops,
    make_cases=_ops_cases,
    input_names=("pow", "exp", "relu"),
    hint={"pow": "d(x**n)/dx = n * x**(n - 1).",
          "exp": "d exp(x)/dx = exp(x), which is out.data.",
          "relu": "relu'(x) is 1 where x > 0 and 0 elsewhere: the gradient passes only through open units."},
    mistakes=(
        WrongImplementation("overwrites_grad", _Overwrites,
                            "your closures assign `self.grad = ...` instead of adding to it: in each test "
                            "expression x is used twice, and the second use overwrote the gradient of the "
                            "first. Gradients that reach a node by several paths add up (+=)."),
        WrongImplementation("ignores_grad_output", _ForgetsOutGrad,
                            "your closures add the local derivative without multiplying by out.grad: the "
                            "chain rule is self.grad += (local derivative) * out.grad."),
        WrongImplementation("pow_exponent", _PowNoMinusOne,
                            "your x ** n gives n * x**n as its derivative: the power drops by one, "
                            "n * x**(n - 1)."),
        WrongImplementation("formula_on_input", _ExpAtInput,
                            "your exp's closure uses self.data (the input x) as the derivative; the "
                            "derivative of exp is exp(x) itself, which is out.data."),
        WrongImplementation("relu_always_open", _ReluAlwaysOpen,
                            "your relu passes the gradient through for negative inputs too: where x <= 0 "
                            "the output is the constant 0, so the gradient there is 0."),
    ),
))


# --- value_training_loop ------------------------------------------------------------------------

_X = [(0.5, -1.0), (1.5, 0.3), (-0.7, 0.8), (0.2, 1.2)]
_T = [1.0, 2.0, -0.5, 0.7]


def _least_squares(V):
    """Three parameters and a loss_fn: the mean squared error of w . x + b on four points."""
    params = [V(0.1), V(-0.2), V(0.0)]

    def loss_fn():
        total = V(0.0)
        for (x0, x1), t in zip(_X, _T):
            r = params[0] * V(x0) + params[1] * V(x1) + params[2] + V(-t)
            total = total + r * r
        return total * V(1 / len(_X))
    return params, loss_fn


def _run_loop(train, case):
    steps, lr = case
    params, loss_fn = _least_squares(ReferenceValue)
    losses = train(params, loss_fn, steps, lr)
    return {"losses": [float(v) for v in losses] if _all_numbers(losses) else losses,
            "parameters": [p.data for p in params]}


def _all_numbers(values) -> bool:
    return all(isinstance(v, (int, float, np.floating, np.integer)) for v in values)


def _train(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = 0.0
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


def _train_no_zero(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


def _train_uphill(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = 0.0
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data += lr * p.grad
        losses.append(loss.data)
    return losses


def _train_update_first(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        for p in params:
            p.data -= lr * p.grad
        for p in params:
            p.grad = 0.0
        loss = loss_fn()
        loss.backward()
        losses.append(loss.data)
    return losses


add(FunctionExercise(
    name="value_training_loop",
    title="A training loop on Values: zero, forward, backward, update",
    task=("train(params, loss_fn, steps, lr): for each step, set every parameter's grad to 0,\n"
          "compute loss = loss_fn(), call loss.backward(), move every parameter downhill\n"
          "(p.data -= lr * p.grad), and record loss.data. Return the list of losses."),
    function_name="train",
    reference=_train,
    run=_run_loop,
    make_cases=lambda rng: [("5 steps, lr 0.1", (5, 0.1)), ("3 steps, lr 0.3", (3, 0.3))],
    hint="each step starts from zero gradients, and moves against the gradient.",
    mistakes=(
        WrongImplementation("grads_accumulate", _train_no_zero,
                            "your loop never sets the gradients back to 0: backward *adds* to p.grad, so "
                            "from the second step on each update uses the sum of all the gradients so far. "
                            "Zero every p.grad before each backward (zero_grad)."),
        WrongImplementation("ascent", _train_uphill,
                            "your loop moves the parameters *up* the gradient (p.data += lr * p.grad), so "
                            "the loss grows: gradient descent subtracts it."),
        WrongImplementation("update_before_backward", _train_update_first,
                            "your loop updates the parameters before computing this step's gradient, so "
                            "every update uses the previous step's gradient (and the first uses none): "
                            "forward, backward, then update."),
    ),
))
