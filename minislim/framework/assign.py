"""Assigning values to variables by name: ``assign_from_values``, ``assign_from_values_fn``, ``zero_initializer``.

TF-Slim builds an assign op and a feed dict that a session runs later; in minislim a
variable is assigned by calling the returned ``assign_op`` (no arguments), and the
``feed_dict`` maps each variable to the value it will receive, so
``sess.run(assign_op, feed_dict)`` becomes ``assign_op()``. Names are looked up as TF-Slim
does: ``GLOBAL_VARIABLES`` filtered by the name as a scope; when that finds several, the
one whose name is exactly the key.

>>> import numpy as np
>>> import minislim as slim
>>> _ = slim.fully_connected(np.zeros((1, 2), np.float32), 3, scope="fc")
>>> init_fn = assign_from_values_fn({"fc/biases": np.array([1.0, 2.0, 3.0])})
>>> init_fn(None)  # TF passes the session; minislim ignores it
>>> slim.get_unique_variable("fc/biases").data.tolist()
[1.0, 2.0, 3.0]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.collections import GraphKeys
from minislim.framework.graph import get_default_graph


def _lookup(var_name: str):
    found = get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, var_name)
    if not found:
        raise ValueError(f"Variable {var_name} wasn't found")
    if len(found) == 1:
        return found[0]
    for var in found:
        if var.name == var_name:
            return var
    raise ValueError(f"Variable {var_name} doesn't uniquely identify a variable (it starts the names of "
                     f"{[v.name for v in found]})")


def assign_from_values(var_names_to_values: dict) -> tuple:
    """``(assign_op, feed_dict)`` that assigns each named variable its value.

    Args:
        var_names_to_values: ``{variable name: array}``; each array is reshaped to its
            variable's shape (so ``[3]`` fills a ``[1, 3]`` variable).

    Returns:
        ``assign_op``: call it (no arguments) to assign every value; ``feed_dict``:
        ``{variable: value as it will be assigned}``.

    Raises:
        ValueError: a name matches no variable or several; a value of another size than
            its variable.
    """
    feed_dict = {}
    for var_name, value in var_names_to_values.items():
        var = _lookup(var_name)
        value = np.asarray(getattr(value, "data", value))
        if value.size != var.size:
            raise ValueError(f"assign_from_values: {var_name!r} is {var.shape} ({var.size} values), the value "
                             f"has shape {value.shape} ({value.size} values)")
        feed_dict[var] = value.reshape(var.shape).astype(var.dtype)
    pairs = list(feed_dict.items())

    def assign_op() -> None:
        for var, value in pairs:
            var.assign(value)

    return assign_op, feed_dict


def assign_from_values_fn(var_names_to_values: dict):
    """A function ``fn(session=None)`` that assigns the values (``train(init_fn=...)`` calls it).

    The names and sizes are checked now, as TF-Slim does (see :func:`assign_from_values`).
    """
    assign_op, _ = assign_from_values(var_names_to_values)

    def callback(session=None) -> None:
        assign_op()

    return callback


def zero_initializer(ref, use_locking: bool = True, name: str = "zero_initializer"):
    """Set the variable ``ref`` to zeros, now, in place; returns ``ref``.

    Raises:
        TypeError: ``ref`` is not a Tensor.
    """
    if not isinstance(ref, Tensor):
        raise TypeError(f"{name}: ref must be a variable, got {type(ref).__name__}")
    ref.assign(np.zeros(ref.shape, dtype=ref.dtype))
    return ref
