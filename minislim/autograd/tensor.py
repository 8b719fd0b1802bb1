"""``Tensor``: an ndarray plus what reverse-mode autograd needs to know about it.

A tensor holds

* ``data``: the values, an ``np.ndarray``;
* ``requires_grad``: whether gradients should flow back to it;
* ``creator``: the :class:`~minislim.autograd.function.Function` call that produced it
  (``None`` for a *leaf*, a tensor you created yourself);
* ``grad``: after ``backward()``, the gradient of the output with respect to this leaf.

The arithmetic operators (``+ - * / ** @``), indexing and methods such as ``sum`` or
``reshape`` are differentiable ops from :mod:`minislim.ops`; that package attaches them
to this class when ``minislim`` is imported (the autograd core never imports the ops).

>>> import minislim as slim
>>> x = slim.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.dtypes import as_array, check_differentiable


class Tensor:
    """A node of the computation graph: values, gradient, and the op that made it.

    Args:
        data: numbers, a nested list or an ndarray (see :mod:`minislim.autograd.dtypes`).
        requires_grad: track operations on this tensor so that ``backward`` reaches it.
        dtype: convert ``data`` to this dtype.
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "name", "__weakref__", "__dict__")
    # NumPy defers to our reflected operators (ndarray + Tensor -> Tensor.__radd__).
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_array(data, dtype)
        if requires_grad:
            check_differentiable(self.data.dtype)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.creator = None
        self.name = name

    @classmethod
    def _from_op(cls, data: np.ndarray, creator) -> "Tensor":
        """Wrap the output of an op (no conversion: the fast path of every op call)."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        out.requires_grad = creator is not None
        out.creator = creator
        out.name = None
        return out

    # --- what the array looks like ------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by an op."""
        return self.creator is None

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        """The rows ``self[0], self[1], ...`` (each a differentiable slice), as in PyTorch."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != np.float32:
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    # --- leaving the graph ---------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """Return the values as an ndarray (the same buffer; copy it to keep it)."""
        return self.data

    def item(self):
        """Return the single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def detach(self) -> "Tensor":
        """Return a new leaf sharing these values but cut from the graph (no gradient)."""
        return Tensor(self.data)

    # --- gradients -----------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Back-propagate from this tensor into the ``.grad`` of every leaf that needs it.

        Args:
            grad: the upstream gradient, shaped like this tensor; may be omitted for a
                tensor with a single element (it is then 1).
            retain_graph: keep the graph's saved arrays so that ``backward`` can run
                over the same graph again; otherwise a second pass raises RuntimeError.
            create_graph: record the backward pass too, so that each leaf's ``.grad`` is a
                Tensor with a graph that can be differentiated again (higher-order
                gradients; see :mod:`minislim.autograd.higher_order`). Keeps the graph.
        """
        from minislim.autograd.engine import backward  # engine imports Tensor

        backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (set ``.grad`` to None)."""
        self.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Switch gradient tracking of this leaf on or off, in place."""
        if requires_grad:
            check_differentiable(self.data.dtype)
        self.requires_grad = bool(requires_grad)
        return self


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Create a leaf tensor: ``slim.tensor([[1., 2.], [3., 4.]], requires_grad=True)``.

    Python floats become float32; ndarrays keep their dtype unless ``dtype`` is given.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
