"""``Function``: one differentiable operation, forward and backward side by side.

A subclass implements two methods on plain ndarrays:

* ``forward(*arrays) -> ndarray`` computes the output and calls
  ``self.save_for_backward(...)`` with whatever the backward pass will need;
* ``backward(grad_output) -> tuple`` returns one gradient per input (or ``None`` for an
  input that needs none), each shaped like the *broadcast* result is fine: the engine sums
  it back to the input's own shape (see :func:`minislim.kernels.reduce.sum_to`).

Non-tensor arguments (an axis, a stride) go to the constructor. An instance is called on
tensors, once: ``Square()(x)``. The call records the instance as the output's
``creator``, which is how the engine finds its way back through the graph.

>>> import numpy as np
>>> from minislim.autograd import Function, Tensor
>>> class Square(Function):
...     def forward(self, x):
...         self.save_for_backward(x)
...         return x * x
...     def backward(self, grad_output):
...         (x,) = self.saved_arrays
...         return (2 * x * grad_output,)
>>> x = Tensor([3.0], requires_grad=True)
>>> Square()(x).backward(np.ones(1, dtype=np.float32))
>>> x.grad.tolist()
[6.0]
"""
from __future__ import annotations

import numbers
import weakref

import numpy as np

from minislim.autograd.dtypes import DEFAULT_FLOAT
from minislim.autograd import anomaly
from minislim.autograd.grad_mode import _GradMode
from minislim.autograd.recording import Recording
from minislim.autograd.tensor import Tensor


class Function:
    """Base class of every differentiable op (see the module docstring)."""

    #: inputs as Tensors, in call order (set by ``__call__``)
    inputs: list = ()
    #: one bool per input: does the engine want a gradient for it?
    needs_input_grad: tuple = ()
    saved_arrays: tuple = ()
    #: set once the saved arrays were released: after a backward pass (by the engine), or
    #: at once by ``__call__`` when no graph was recorded
    released: bool = False
    #: the variable scope open when the call was recorded (see autograd/recording.py)
    scope: str = ""
    #: backward is written with differentiable ops on Tensors (``self.inputs``,
    #: ``self.output``), so it can be recorded for higher-order gradients; see
    #: autograd/higher_order.py. False: backward works on ndarrays (first order only).
    differentiable_backward: bool = False
    #: backward multiplies the gradient by a fixed mask, so it is its own transpose (ReLU)
    self_adjoint_backward: bool = False

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, grad_output: np.ndarray) -> tuple:
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for the backward pass (released after it unless ``retain_graph``)."""
        self.saved_arrays = arrays

    def release(self) -> None:
        """Drop the saved arrays; a later backward through this node raises RuntimeError.

        An op that holds more than its saved arrays (``Conv2D`` holds leased buffers)
        extends this to let go of it too.
        """
        self.saved_arrays = ()
        self.released = True

    def __call__(self, *inputs) -> Tensor:
        tensors = [x if isinstance(x, Tensor) else _as_input(x, inputs) for x in inputs]
        output = self.forward(*[t.data for t in tensors])
        if type(output) is not np.ndarray:
            output = np.asarray(output)
        if output.dtype == np.float64 and not any(t.data.dtype == np.float64 for t in tensors):
            # NumPy turns integers mixed with floats (and int / int, or the mean of ints) into
            # float64; as in PyTorch, float64 comes only from float64 inputs, else float32.
            output = output.astype(DEFAULT_FLOAT)
        needs_input_grad = tuple([t.requires_grad for t in tensors])
        if Recording.anomaly:  # detect_anomaly(): check the output, remember the line
            anomaly.after_forward(self, tensors, output)
        if _GradMode.enabled and True in needs_input_grad:
            self.inputs = tensors
            self.needs_input_grad = needs_input_grad
            self.scope = Recording.scope
            out = Tensor._from_op(output, self)
            if self.differentiable_backward:  # a Tensor backward may use the output tensor
                self._output_ref = weakref.ref(out)
            return out
        self.release()  # no graph was recorded: nothing will ever read what forward saved
        return Tensor._from_op(output, None)

    @property
    def output(self) -> Tensor:
        """The output tensor of this call (for a backward written with differentiable ops)."""
        out = self._output_ref() if getattr(self, "_output_ref", None) is not None else None
        if out is None:
            raise RuntimeError(f"{type(self).__name__}: its output tensor no longer exists (or the op "
                               "does not set differentiable_backward)")
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _as_input(value, all_inputs) -> Tensor:
    """Wrap a non-Tensor input; a Python scalar takes the dtype of the tensors beside it."""
    if type(value) in (float, int) or (isinstance(value, numbers.Number) and not isinstance(value, (bool, np.bool_))):
        for other in all_inputs:
            if isinstance(other, Tensor) and other.data.dtype.kind == "f":
                return Tensor._from_op(np.asarray(value, dtype=other.data.dtype), None)
    return Tensor(value)
