"""Arithmetic with broadcasting: add, subtract, multiply, divide, negative, power, matmul.

Each backward returns the gradient for the *broadcast* shape; the engine sums it back to
each input's own shape, so none of these ops deals with broadcasting itself.

>>> import minislim as slim
>>> a = slim.tensor([[1.0], [2.0]], requires_grad=True)   # (2, 1)
>>> b = slim.tensor([10.0, 20.0, 30.0], requires_grad=True)  # (3,)
>>> (a * b).sum().backward()
>>> a.grad.tolist(), b.grad.tolist()
([[60.0], [60.0]], [3.0, 3.0, 3.0])
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.function import Function
from minislim.ops.registry import broadcastable_pair, random_shape, register


def broadcast_apply(op_name: str, numpy_op, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``numpy_op(a, b)``; shapes that do not broadcast raise a ValueError naming both."""
    try:
        return numpy_op(a, b)
    except ValueError:
        raise ValueError(f"{op_name}: shapes {a.shape} and {b.shape} do not broadcast together") from None


class Add(Function):
    differentiable_backward = True  # backward uses differentiable ops: see autograd/higher_order.py

    def forward(self, a, b):
        return broadcast_apply("add", np.add, a, b)

    def backward(self, grad_output):
        return grad_output, grad_output


class Subtract(Function):
    differentiable_backward = True  # backward uses differentiable ops: see autograd/higher_order.py

    def forward(self, a, b):
        return broadcast_apply("subtract", np.subtract, a, b)

    def backward(self, grad_output):
        return grad_output, -grad_output


class Multiply(Function):
    differentiable_backward = True  # backward uses differentiable ops: see autograd/higher_order.py

    def forward(self, a, b):
        return broadcast_apply("multiply", np.multiply, a, b)

    def backward(self, grad_output):
        a, b = self.inputs
        grad_a = grad_output * b if self.needs_input_grad[0] else None
        grad_b = grad_output * a if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Divide(Function):
    differentiable_backward = True  # backward uses differentiable ops: see autograd/higher_order.py

    def forward(self, a, b):
        return broadcast_apply("divide", np.divide, a, b)

    def backward(self, grad_output):
        a, b = self.inputs
        grad_a = grad_output / b
        grad_b = -grad_a * a / b if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Negative(Function):
    differentiable_backward = True  # backward uses differentiable ops: see autograd/higher_order.py

    def forward(self, x):
        return -x

    def backward(self, grad_output):
        return (-grad_output,)


class Power(Function):
    """``x ** p`` for a tensor exponent ``p`` (``x`` must be positive where ``p`` needs a gradient).

    Two corners follow PyTorch, where the formulas below give NaN or inf but the
    function is flat: for ``p == 0`` (``x ** 0 == 1`` for every ``x``) d/dx is 0,
    although ``p * x ** (p - 1)`` is ``0 * inf`` at ``x == 0``; for ``x == 0`` and
    ``p >= 0`` (``0 ** p`` is 0, or 1 at ``p == 0``) d/dp is taken as 0, although
    ``y * log(x)`` is ``0 * -inf``.
    """

    differentiable_backward = True  # backward uses differentiable ops: see autograd/higher_order.py

    def forward(self, x, p):
        return broadcast_apply("power", np.power, x, p)

    def backward(self, grad_output):
        from minislim.ops.math_ops import log, where  # math_ops imports this module

        x, p = self.inputs
        grad_x = grad_p = None
        # The masked corners are computed (as NaN or inf) and then replaced: silence NumPy.
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                grad_x = where(p.data == 0, 0.0, grad_output * p * power(x, p - 1))
            if self.needs_input_grad[1]:
                grad_p = where((x.data == 0) & (p.data >= 0), 0.0, grad_output * self.output * log(x))
        return grad_x, grad_p


class MatMul(Function):
    """Matrix product ``a @ b`` with NumPy's rules: 1-D operands, batched leading axes."""

    differentiable_backward = True  # backward uses differentiable ops: see autograd/higher_order.py

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least one axis, got shapes {a.shape} and {b.shape}")
        try:
            out = np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                             f"{a.shape[-1]} (last axis of the first) != "
                             f"{b.shape[-2] if b.ndim > 1 else b.shape[0]} (first matrix axis of the second)") from None
        return out

    def backward(self, grad_output):
        a, b = self.inputs
        # Treat 1-D operands as matrices, as matmul does: a vector ``a`` is a row (1, K),
        # a vector ``b`` a column (K, 1). The output then lacks the axis of length 1 that
        # each vector contributed, so put it back into the gradient first (for vector @
        # vector the gradient is 0-d and gets both axes back: shape (1, 1)).
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        g = grad_output
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))                          # [..., M] -> [..., M, 1]
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])      # [..., N] -> [..., 1, N]
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = matmul(g, _swap_last_axes(b2))                # [..., M, K]
            if a.ndim == 1:  # drop the row axis; the engine sums any batch axes away
                grad_a = grad_a.reshape(grad_a.shape[:-2] + grad_a.shape[-1:])
        if self.needs_input_grad[1]:
            grad_b = matmul(_swap_last_axes(a2), g)                # [..., K, N]
            if b.ndim == 1:  # drop the column axis
                grad_b = grad_b.reshape(grad_b.shape[:-1])
        return grad_a, grad_b


def _swap_last_axes(t):
    """``t`` with its last two axes swapped (a differentiable transpose)."""
    axes = list(range(t.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return t.transpose(axes)


def add(a, b):
    """``a + b`` with broadcasting."""
    return Add()(a, b)


def subtract(a, b):
    """``a - b`` with broadcasting."""
    return Subtract()(a, b)


def multiply(a, b):
    """``a * b`` with broadcasting."""
    return Multiply()(a, b)


def divide(a, b):
    """``a / b`` with broadcasting."""
    return Divide()(a, b)


def negative(x):
    """``-x``."""
    return Negative()(x)


def power(x, p):
    """``x ** p`` with broadcasting; ``p`` may be a number or a tensor."""
    return Power()(x, p)


def matmul(a, b):
    """``a @ b``: matrix product, batched over leading axes (``[..., M, K] @ [..., K, N]``)."""
    return MatMul()(a, b)


# --- the op table -------------------------------------------------------------------------

def _pair(rng):
    shape_a, shape_b = broadcastable_pair(rng)
    return [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]


def _pair_nonzero_divisor(rng):
    a, b = _pair(rng)
    return [a, np.sign(b + 1e-12) * (np.abs(b) + 0.5)]


def _matmul_inputs(rng):
    """Every case of NumPy's matmul rules, 1-D operands included (they are easy to get wrong)."""
    m, k, n = (int(v) for v in rng.integers(1, 5, size=3))
    batch = random_shape(rng, 0, 2, 3)
    kind = int(rng.integers(0, 6))
    if kind == 0:  # plain matrices
        return [rng.standard_normal((m, k)), rng.standard_normal((k, n))]
    if kind == 1:  # batched, with the second operand broadcast over the batch
        return [rng.standard_normal(batch + (m, k)), rng.standard_normal((k, n))]
    if kind == 2:  # matrix @ batched: the first operand broadcast over the batch
        return [rng.standard_normal((m, k)), rng.standard_normal(batch + (k, n))]
    if kind == 3:  # vector @ (batched) matrix
        return [rng.standard_normal(k), rng.standard_normal(batch + (k, n))]
    if kind == 4:  # (batched) matrix @ vector
        return [rng.standard_normal(batch + (m, k)), rng.standard_normal(k)]
    return [rng.standard_normal(k), rng.standard_normal(k)]  # vector @ vector: a 0-d result


register("add", add, _pair)
register("subtract", subtract, _pair)
register("multiply", multiply, _pair)
register("divide", divide, _pair_nonzero_divisor, domain="divisor at least 0.5 away from 0")
register("negative", negative, lambda rng: [rng.standard_normal(random_shape(rng))])
register("power", power,
         lambda rng: [rng.uniform(0.5, 2.0, random_shape(rng, 1)), rng.uniform(-2, 2, (1,))],
         domain="positive base (the gradient of the exponent needs log(x))")
register("power_scalar_exponent", lambda x: power(x, 3.0),
         lambda rng: [rng.standard_normal(random_shape(rng))])
register("matmul", matmul, _matmul_inputs)
