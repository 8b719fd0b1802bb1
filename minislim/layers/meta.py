"""Meta-layers: ``repeat`` (the same layer, n times) and ``stack`` (one layer, several argument sets).

Both open a scope (``scope``, or ``Repeat``/``Stack``) and call the layer with the scopes
``<name>_1``, ``<name>_2``, ... inside it, where ``<name>`` is ``scope`` or the layer's
``__name__``::

    repeat(net, 3, slim.conv2d, 256, [3, 3], scope="conv3")
    # conv3/conv3_1, conv3/conv3_2, conv3/conv3_3
    stack(x, slim.fully_connected, [32, 64, 128], scope="fc")
    # fc/fc_1 (32 outputs), fc/fc_2 (64), fc/fc_3 (128)

>>> import numpy as np
>>> import minislim as slim
>>> net = slim.repeat(np.zeros((1, 4, 4, 3), np.float32), 2, slim.conv2d, 8, [3, 3], scope="conv1")
>>> [v.name for v in slim.get_variables(suffix="weights")]
['conv1/conv1_1/weights', 'conv1/conv1_2/weights']
>>> slim.stack(np.zeros((2, 5), np.float32), slim.fully_connected, [4, 6], scope="fc").shape
(2, 6)
"""
from __future__ import annotations

from minislim.framework.scopes import variable_scope


def _base_name(layer, scope, fallback: str) -> str:
    if scope is not None:
        return scope
    if hasattr(layer, "__name__"):
        return layer.__name__
    if hasattr(getattr(layer, "func", None), "__name__"):  # functools.partial
        return layer.func.__name__
    return fallback


def repeat(inputs, repetitions, layer, *args, **kwargs):
    """Apply ``layer(outputs, *args, **kwargs)`` ``repetitions`` times, in scopes ``<scope>/<scope>_i``.

    Args:
        inputs: the first layer's inputs.
        repetitions: how many times (an int >= 0).
        layer: a layer function ``(inputs, *args, scope=..., **kwargs)``.
        *args, **kwargs: passed to every call; ``scope`` names the outer scope (default
            ``Repeat``, with inner scopes named after the layer's ``__name__``:
            ``Repeat/convolution2d_1`` for ``slim.conv2d``, as in TF-Slim).

    Returns:
        The last layer's output.
    """
    scope = kwargs.pop("scope", None)
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 0:
        raise ValueError(f"repeat: repetitions must be an int >= 0, got {repetitions!r}")
    if not callable(layer):
        raise TypeError(f"repeat: layer must be callable, got {layer!r}")
    with variable_scope(scope, "Repeat", [inputs]):
        name = _base_name(layer, scope, "repeat")
        outputs = inputs
        for i in range(repetitions):
            kwargs["scope"] = f"{name}_{i + 1}"
            outputs = layer(outputs, *args, **kwargs)
        return outputs


def stack(inputs, layer, stack_args, **kwargs):
    """Apply ``layer`` once per entry of ``stack_args``, in scopes ``<scope>/<scope>_i``.

    Args:
        inputs: the first layer's inputs.
        layer: a layer function.
        stack_args: a list or tuple; entry i is the positional arguments of call i (a
            tuple/list, or a single value).
        **kwargs: passed to every call; ``scope`` names the outer scope (default ``Stack``).

    Returns:
        The last layer's output.

    Raises:
        ValueError: ``stack_args`` is not a list or tuple.
    """
    scope = kwargs.pop("scope", None)
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError(f"stack: stack_args need to be a list or tuple, got {type(stack_args).__name__}")
    if not callable(layer):
        raise TypeError(f"stack: layer must be callable, got {layer!r}")
    with variable_scope(scope, "Stack", [inputs]):
        name = _base_name(layer, scope, "stack")
        outputs = inputs
        for i, layer_args in enumerate(stack_args):
            kwargs["scope"] = f"{name}_{i + 1}"
            if not isinstance(layer_args, (list, tuple)):
                layer_args = [layer_args]
            outputs = layer(outputs, *layer_args, **kwargs)
        return outputs
