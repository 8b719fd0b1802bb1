"""Gradients of gradients: how one backward formula per op serves both orders.

An op's backward formula is written once. For the ops that support higher-order
gradients (``differentiable_backward = True``: the elementwise, matmul, reduction, shape,
softmax and activation ops) it is written with the differentiable ops themselves, on
Tensors: ``Exp.backward`` returns ``grad_output * self.output``. The engine runs it

* **without recording** (inside ``no_grad()``) for an ordinary ``backward()``: the ops
  compute on arrays and build no graph, so a first-order step pays only the small cost of
  wrapping arrays in Tensors (measured in ``bench/overhead.py``);
* **recording** for ``backward(create_graph=True)`` or ``slim.grad(..., create_graph=True)``:
  the same formula now builds a graph from the gradient back to the inputs, and that
  graph can be differentiated again (Newton's method, Hessian-vector products, gradient
  penalties).

The other ops (convolution, pooling, batch norm, ...) keep a backward written with NumPy
on arrays, the fast path the training loop needs, and ``create_graph=True`` through them
raises an error naming the op. One exception needs no rewriting: an op whose backward
multiplies the gradient by a fixed 0/1 mask (``ReLU``) is *self-adjoint*
(``self_adjoint_backward = True``): the derivative of its backward with respect to the
incoming gradient is that same multiplication, so :class:`SelfAdjointBackward` records it
as an op whose own backward calls the original backward again (the mask itself is
piecewise constant: its derivative is zero wherever it is defined).

>>> import minislim as slim
>>> x = slim.tensor(3.0, requires_grad=True)
>>> (dy_dx,) = slim.grad(x ** 3, [x], create_graph=True)   # 3 x^2 = 27
>>> (d2y_dx2,) = slim.grad(dy_dx, [x])                      # 6 x = 18
>>> dy_dx.item(), d2y_dx2.item()
(27.0, 18.0)
"""
from __future__ import annotations

from minislim.autograd.function import Function
from minislim.autograd.grad_mode import _GradMode
from minislim.autograd.recording import Recording
from minislim.autograd.tensor import Tensor


class NotTwiceDifferentiableError(RuntimeError):
    """``create_graph=True`` met an op whose backward is not written with differentiable ops."""


def call_backward(function, grad_output, create_graph: bool) -> tuple:
    """Run ``function.backward`` in the right mode and return a tuple of gradients.

    ``grad_output`` is an ndarray, or a Tensor when ``create_graph``; so are the results.
    """
    if function.differentiable_backward:
        if create_graph or Recording.anomaly:
            return _call_recorded(function, grad_output, create_graph)
        # The first-order path, run for most ops of every training step: the switch is set
        # directly (a context manager costs more than the rest), nothing is recorded.
        recording = _GradMode.enabled
        _GradMode.enabled = False
        try:
            grads = function.backward(Tensor._from_op(grad_output, None))
        finally:
            _GradMode.enabled = recording
        if type(grads) is not tuple:
            grads = (grads,)
        return tuple([None if g is None else g.data for g in grads])
    if create_graph:
        if function.self_adjoint_backward:
            return (SelfAdjointBackward(function)(grad_output),)
        scope = f" in scope '{function.scope}'" if function.scope else ""
        raise NotTwiceDifferentiableError(
            f"create_graph=True: {type(function).__name__}{scope} is not twice differentiable yet (its "
            "backward is written with NumPy arrays, not with differentiable ops); higher-order "
            "gradients work through the elementwise, matmul, reduction, shape, softmax and activation "
            "ops. Build the function from those, or use create_graph=False.")
    grads = function.backward(grad_output)
    return grads if isinstance(grads, tuple) else (grads,)


def _call_recorded(function, grad_output, create_graph: bool) -> tuple:
    """The backward formula with the graph recorded (create_graph) or in anomaly mode."""
    if not isinstance(grad_output, Tensor):
        grad_output = Tensor._from_op(grad_output, None)
    # The ops of the formula are checked as one: detect_anomaly() reports a bad gradient
    # as this op's backward (the engine checks the results), not as a Multiply inside it.
    # Recorded, they carry this op's scope.
    anomaly, scope, recording = Recording.anomaly, Recording.scope, _GradMode.enabled
    Recording.anomaly, Recording.scope, _GradMode.enabled = False, function.scope, create_graph
    try:
        grads = function.backward(grad_output)
    finally:
        Recording.anomaly, Recording.scope, _GradMode.enabled = anomaly, scope, recording
    if not isinstance(grads, tuple):
        grads = (grads,)
    if create_graph:
        return grads
    return tuple([None if g is None else g.data for g in grads])


class SelfAdjointBackward(Function):
    """The recorded backward of a one-input op whose backward is ``grad * mask`` (ReLU).

    forward: ``g -> op.backward(g)``; backward: ``v -> op.backward(v)`` (multiplying by a
    fixed mask is its own transpose).
    """

    differentiable_backward = False

    def __init__(self, function):
        self.function = function
        self.scope = function.scope

    def forward(self, grad_output):
        return self.function.backward(grad_output)[0]

    def backward(self, grad_output):
        if self.function.released:
            raise RuntimeError(f"backward through the recorded backward of {type(self.function).__name__}: "
                               "its graph was released; keep it with retain_graph=True")
        return (self.function.backward(grad_output)[0],)


def sum_to_tensor(g: Tensor, shape: tuple) -> Tensor:
    """:func:`~minislim.kernels.reduce.sum_to` for a recorded gradient (differentiable)."""
    shape = tuple(shape)
    extra = g.ndim - len(shape)
    stretched = [extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1]
    axes = tuple(range(extra)) + tuple(stretched)
    summed = g.sum(axis=axes, keepdims=True) if axes else g
    return summed.reshape(shape)
