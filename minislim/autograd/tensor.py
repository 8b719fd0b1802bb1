"""``Tensor``: an ndarray plus what reverse-mode autograd needs to know about it.

A tensor holds

* ``data``: the values, an ``np.ndarray``;
* ``requires_grad``: whether gradients should flow back to it;
* ``creator``: the :class:`~minislim.autograd.function.Function` call that produced it
  (``None`` for a *leaf*, a tensor you created yourself);
* ``grad``: after ``backward()``, the gradient of the output with respect to this leaf.

The arithmetic operators (``+ - * / ** @``), indexing and methods such as ``sum`` or
``reshape`` are defined in the class below, each one line that calls a differentiable op
of :mod:`minislim.ops` through :data:`OPS`. The autograd core (layer 2) never imports the
ops (layer 3), which are built on it: :mod:`minislim.ops` fills :data:`OPS` in when it is
imported (``minislim/ops/tensor_methods.py``), as it fills the op table.

Comparisons (``<``, ``==``, ...) return boolean tensors with no gradient; tensors stay
hashable by identity, as in PyTorch. The in-place operators ``+= -= *= /=`` change the
tensor's own buffer when nothing is recorded (see :meth:`Tensor._update_in_place`).

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
from minislim.autograd.grad_mode import is_grad_enabled


class _Ops:
    """The differentiable ops behind Tensor's operators, by name (``OPS.add``, ``OPS.sum``, ...).

    Empty until :mod:`minislim.ops` fills it in (importing ``minislim`` does).
    """

    def __getattr__(self, name):
        raise AttributeError(f"Tensor's operators need the ops: import minislim (or minislim.ops) first "
                             f"(no op {name!r} yet)")


#: filled in by ``minislim.ops.tensor_methods.install()``
OPS = _Ops()


def _operator(op: str) -> tuple:
    """The pair of methods for ``x <op> y`` and its reflection ``y <op> x`` (as in ``2 * x``)."""
    def operator(self, other):
        return getattr(OPS, op)(self, other)

    def reflected(self, other):
        return getattr(OPS, op)(other, self)
    return operator, reflected


def _method(op: str):
    """The method ``x.<op>(*args, **kwargs)``, which is ``OPS.<op>(x, *args, **kwargs)``."""
    def method(self, *args, **kwargs):
        return getattr(OPS, op)(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = op
    return method


def _comparison(numpy_op):
    """``x < y`` and friends: a boolean tensor, outside autograd."""
    def compare(self, other):
        return Tensor(numpy_op(self.data, _values(other)))
    return compare


def _in_place(symbol: str, ufunc, op: str):
    """``x <symbol>= y``: see :meth:`Tensor._update_in_place`."""
    def update(self, other):
        return self._update_in_place(other, symbol, ufunc, getattr(OPS, op))
    return update


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

    # --- operators and methods: each calls a differentiable op of minislim.ops (OPS) ---
    __add__, __radd__ = _operator("add")                 # x + y, and 2 + x
    __sub__, __rsub__ = _operator("subtract")            # x - y
    __mul__, __rmul__ = _operator("multiply")            # x * y
    __truediv__, __rtruediv__ = _operator("divide")      # x / y
    __pow__, __rpow__ = _operator("power")               # x ** 2
    __matmul__, __rmatmul__ = _operator("matmul")        # x @ w

    def __neg__(self):
        return OPS.negative(self)

    def __getitem__(self, key):
        """``x[1:, 0]``: a differentiable slice (NumPy's basic and advanced indexing)."""
        return OPS.getitem(self, key)

    # x.sum(axis=None, keepdims=False), x.mean(...), x.max(...), x.min(...), x.var(..., ddof=0)
    sum, mean, max, min, var = (_method(name) for name in ("sum", "mean", "max", "min", "var"))
    # x.exp(), x.log(), x.sqrt(), x.abs(), x.clip(low, high), x.broadcast_to(shape)
    exp, log, sqrt, abs, clip, broadcast_to = (_method(name) for name in ("exp", "log", "sqrt", "abs", "clip",
                                                                           "broadcast_to"))

    def reshape(self, *shape):
        """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        return OPS.reshape(self, _shape_args(shape))

    def transpose(self, *axes):
        """``x.transpose()`` reverses the axes; ``x.transpose(1, 0, 2)`` or ``x.transpose((1, 0, 2))``."""
        return OPS.transpose(self, _shape_args(axes) or None)

    @property
    def T(self):
        return OPS.transpose(self)

    # --- comparisons: boolean tensors, no gradient; hashable by identity, as in PyTorch ---
    __lt__, __le__, __gt__ = _comparison(np.less), _comparison(np.less_equal), _comparison(np.greater)
    __ge__, __eq__, __ne__ = _comparison(np.greater_equal), _comparison(np.equal), _comparison(np.not_equal)
    __hash__ = object.__hash__  # (defining __eq__ would unset it)

    # --- in place: x += y, ... ----------------------------------------------------
    __iadd__ = _in_place("+", np.add, "add")
    __isub__ = _in_place("-", np.subtract, "subtract")
    __imul__ = _in_place("*", np.multiply, "multiply")
    __itruediv__ = _in_place("/", np.divide, "divide")

    def _update_in_place(self, other, symbol: str, ufunc, op) -> "Tensor":
        """``x <symbol>= y``: update ``x``'s buffer with ``ufunc(x, y)``, keeping its shape and dtype.

        As in PyTorch, the buffer changes (so every holder of the tensor, a Variable's
        collections included, sees the new values) only when nothing is recorded: under
        ``no_grad()``, or when neither operand requires grad. While autograd records, a leaf
        that requires grad (a variable) is refused with RuntimeError, and any other tensor
        gets the recorded result ``op(x, y)`` (``loss += reg`` means ``loss = loss + reg``).
        """
        other_requires_grad = isinstance(other, Tensor) and other.requires_grad
        if is_grad_enabled() and (self.requires_grad or other_requires_grad):
            if self.requires_grad and self.creator is None:
                raise RuntimeError(
                    f"x {symbol}= y: x is a leaf that requires grad (a variable?), and changing it in "
                    f"place would bypass autograd; wrap the update in `with slim.no_grad():` (e.g. an "
                    f"optimizer step), or write `z = x {symbol} y` for a new tensor in the graph")
            return op(self, other)
        own, values = self.data, _values(other)
        if not own.flags.writeable:
            raise ValueError(f"x {symbol}= y: x's buffer of shape {own.shape} is read-only (a broadcast "
                             f"view?); write `x = x {symbol} y` instead")
        try:
            ufunc(own, values, out=own, casting="same_kind")
        except TypeError as error:  # e.g. an int tensor /= 2: the float result does not fit
            raise TypeError(f"x {symbol}= y: the result cannot be stored in x's dtype {own.dtype} "
                            f"(y's dtype: {np.asarray(values).dtype}): {error}") from None
        except ValueError:
            raise ValueError(f"x {symbol}= y: y of shape {np.shape(values)} does not broadcast to x's "
                             f"shape {own.shape} (an in-place update keeps x's shape)") from None
        return self

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


def _values(other):
    """The ndarray of a Tensor, anything else as it is."""
    return other.data if isinstance(other, Tensor) else other


def _shape_args(args: tuple) -> tuple:
    """Accept both ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Create a leaf tensor: ``slim.tensor([[1., 2.], [3., 4.]], requires_grad=True)``.

    Python floats become float32; ndarrays keep their dtype unless ``dtype`` is given.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
