"""Checking a layer's arguments before it creates anything (step 2 of every layer).

A layer that failed after creating its variables would leave them behind, and the
corrected call, with the same ``scope``, would then fail with "variable ... already
exists". So every layer checks *all* its arguments and its inputs first, and creates
variables only when nothing can go wrong any more. Two helpers do the checking:

* :func:`check_arguments` checks keyword arguments by their names: ``RULES`` says what
  each name must be (``activation_fn``: a function or None, ``num_outputs``: a positive
  int, ...), so a layer lists what it takes and every layer words its errors the same way;
  :func:`check_layer_arguments` checks all of a layer's arguments that ``RULES`` names, in
  one line (``check_layer_arguments("conv2d", sc.name, locals())``);
* :func:`window` checks ``kernel_size``, ``stride``, ``rate`` and ``padding`` of a sliding
  window against the inputs' height and width, with the kernels' own rules
  (:func:`minislim.kernels.shapes.resolve_padding`), so the layer says what the op would.

Every message reads ``<layer> '<full scope>': <argument> must be <expected>, got <received>``.

>>> check_arguments("conv2d", "conv1", num_outputs=16, activation_fn=None)
>>> check_arguments("conv2d", "conv1", activation_fn="relu")
Traceback (most recent call last):
...
TypeError: conv2d 'conv1': activation_fn must be a function such as slim.nn.relu, or None; got 'relu' (str)
>>> window("conv2d", "conv1", (1, 5, 5, 3), kernel_size=3, stride=2, padding="SAME")
((3, 3), (2, 2), (1, 1))
"""
from __future__ import annotations

import inspect
import numbers
from typing import Callable, NamedTuple

import numpy as np

from minislim.kernels.shapes import resolve_padding, transpose_output_shape
from minislim.layers.common import describe

_PAIR_NOTATION = {"kernel_size": "[KH, KW]", "stride": "[SH, SW]"}


class Rule(NamedTuple):
    """What an argument must be: ``accepts(value)`` is True, else ``error`` saying ``expected``."""

    expected: str
    accepts: Callable[[object], bool]
    error: type = TypeError


def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_function_or_none(value) -> bool:
    return value is None or callable(value)


def _is_names(value) -> bool:
    """A collection name, or a list or tuple of names."""
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, (list, tuple)) and all(isinstance(name, str) and name for name in value)


def _is_dict_of_functions(value) -> bool:
    return value is None or (isinstance(value, dict) and all(callable(fn) for fn in value.values()))


_FUNCTION = "a function such as {}, or None"
_INITIALIZER = Rule(_FUNCTION.format("slim.xavier_initializer()"), _is_function_or_none)
_REGULARIZER = Rule(_FUNCTION.format("slim.l2_regularizer(0.01)"), _is_function_or_none)
_POSITIVE_INT = Rule("a positive int", lambda v: _is_int(v) and v >= 1, ValueError)
_BOOL = Rule("True or False", lambda v: isinstance(v, (bool, np.bool_)))
_INT = Rule("an int", _is_int, ValueError)

#: What each layer argument must be, by name (a layer checks the names it takes).
RULES = {
    "num_outputs": _POSITIVE_INT,
    "depth_multiplier": _POSITIVE_INT,
    "num_classes": _POSITIVE_INT,
    "activation_fn": Rule(_FUNCTION.format("slim.nn.relu"), _is_function_or_none),
    "normalizer_fn": Rule(_FUNCTION.format("slim.batch_norm"), _is_function_or_none),
    "normalizer_params": Rule("a dict of keyword arguments for normalizer_fn, or None",
                              lambda v: v is None or isinstance(v, dict)),
    "weights_initializer": _INITIALIZER,
    "pointwise_initializer": _INITIALIZER,
    "biases_initializer": Rule(_FUNCTION.format("slim.zeros_initializer()") + " (no biases)",
                               _is_function_or_none),
    "initializer": _INITIALIZER,
    "weights_regularizer": _REGULARIZER,
    "biases_regularizer": _REGULARIZER,
    "regularizer": _REGULARIZER,
    "param_initializers": Rule("a dict {variable name: initializer function}, or None", _is_dict_of_functions),
    "param_regularizers": Rule("a dict {variable name: regularizer function}, or None", _is_dict_of_functions),
    "variables_collections": Rule("None, a collection name, a list of names, or a dict {variable name: names}",
                                  lambda v: v is None or _is_names(v) or (
                                      isinstance(v, dict) and all(n is None or _is_names(n) for n in v.values()))),
    "outputs_collections": Rule("None, a collection name or a list of names", lambda v: v is None or _is_names(v)),
    "trainable": _BOOL,
    "is_training": _BOOL,
    "center": _BOOL,
    "scale": _BOOL,
    "data_format": Rule("'NHWC' (minislim's only layout)", lambda v: v is None or (isinstance(v, str) and v == "NHWC"),
                        ValueError),
    "decay": Rule("a number in [0, 1]", lambda v: _is_number(v) and 0 <= v <= 1, ValueError),
    "epsilon": Rule("a positive number", lambda v: _is_number(v) and v > 0, ValueError),
    "keep_prob": Rule("a number in (0, 1]", lambda v: _is_number(v) and 0 < v <= 1, ValueError),
    "on_value": Rule("a number", _is_number, ValueError),
    "off_value": Rule("a number", _is_number, ValueError),
    "begin_norm_axis": _INT,
    "begin_params_axis": _INT,
    "noise_shape": Rule("None or a list of ints", lambda v: v is None or (
        isinstance(v, (list, tuple)) and all(_is_int(d) for d in v)), ValueError),
    "seed": Rule("an int or None", lambda v: v is None or _is_int(v), ValueError),
}


def received(value) -> str:
    """How a message shows the value it got: ``'relu' (str)``, shortened if long."""
    text = repr(value)
    if len(text) > 70:
        text = text[:67] + "..."
    return f"{text} ({type(value).__name__})"


def check_arguments(layer: str, scope: str, **arguments) -> None:
    """Check each keyword argument against ``RULES[name]``.

    ``normalizer_fn`` and ``activation_fn`` must also accept the call the layer will make
    (``normalizer_fn(outputs, **normalizer_params)``, ``activation_fn(outputs)``), so a
    misspelt key of ``normalizer_params`` is reported now, not after the weights exist.
    When ``normalizer_fn`` is one of minislim's layers (``slim.batch_norm``), the values
    in ``normalizer_params`` are checked against ``RULES`` too (``decay``, ...).

    Args:
        layer, scope: the layer's name and full scope, for the messages.
        **arguments: the layer's arguments by name; every name must be in ``RULES``.

    Raises:
        TypeError or ValueError (``RULES[name].error``): an argument is not what it must be.
    """
    where = describe(layer, scope)
    for name, value in arguments.items():
        rule = RULES[name]
        if not rule.accepts(value):
            raise rule.error(f"{where}: {name} must be {rule.expected}; got {received(value)}")
    normalizer_fn, normalizer_params = arguments.get("normalizer_fn"), arguments.get("normalizer_params") or {}
    if normalizer_fn is not None:
        _check_call(where, "normalizer_fn", normalizer_fn, normalizer_params)
        if getattr(normalizer_fn, "__module__", "").startswith("minislim.layers."):  # slim.batch_norm, ...
            for name, value in normalizer_params.items():  # its arguments follow the same rules
                rule = RULES.get(name)
                if rule is not None and not rule.accepts(value):
                    raise rule.error(f"{where}: normalizer_params['{name}'] must be {rule.expected}; "
                                     f"got {received(value)}")
    if arguments.get("activation_fn") is not None:
        _check_call(where, "activation_fn", arguments["activation_fn"], {})


def check_layer_arguments(layer: str, scope: str, arguments: dict, none_allowed: tuple = (),
                          skip: tuple = ()) -> None:
    """:func:`check_arguments` on every one of a layer's arguments that ``RULES`` names.

    A layer passes ``locals()`` first thing in its scope, so its check is one line and no
    argument is forgotten: ``check_layer_arguments("conv2d", sc.name, locals())``. Names
    that ``RULES`` does not know (``inputs``, ``kernel_size``, ``scope``: checked by
    :func:`window` and the rest of the layer) are passed over.

    Args:
        layer, scope: the layer's name and full scope, for the messages.
        arguments: the layer's arguments by name (its ``locals()``).
        none_allowed: names for which None means "not used" (``separable_conv2d``'s
            ``num_outputs``: depthwise only), so None is not checked against ``RULES``.
        skip: names the layer checks itself, against another rule (``conv3d``'s
            ``data_format``, ``'NDHWC'``).

    Raises:
        TypeError or ValueError, as :func:`check_arguments`.
    """
    check_arguments(layer, scope, **{name: value for name, value in arguments.items()
                                     if name in RULES and name not in skip
                                     and not (value is None and name in none_allowed)})


def _check_call(where: str, name: str, fn, keywords: dict) -> None:
    """Raise TypeError unless ``fn(outputs, **keywords)`` matches ``fn``'s signature."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # some built-in functions have no signature: nothing to check
        return
    try:
        signature.bind(None, **keywords)
    except TypeError as error:
        call = f"{name}(outputs, **normalizer_params) with normalizer_params {keywords}" if keywords else \
            f"{name}(outputs)"
        fn_name = getattr(fn, "__name__", type(fn).__name__)
        raise TypeError(f"{where}: the layer calls {call}, but {fn_name} does not accept that: {error}") from None


def pair(value, name: str, layer: str, scope: str) -> tuple:
    """An int or a pair ``[along H, along W]`` of positive ints, as a tuple of two ints."""
    if _is_int(value):
        result = (int(value), int(value))
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_int(v) for v in value):
        result = (int(value[0]), int(value[1]))
    else:
        notation = _PAIR_NOTATION.get(name, f"[{name} along H, {name} along W]")
        raise ValueError(f"{describe(layer, scope)}: {name} must be an int or a list of 2 ints "
                         f"{notation}, got {value!r}")
    if min(result) < 1:
        raise ValueError(f"{describe(layer, scope)}: {name} must be positive, got {value!r}")
    return result


def window(layer: str, scope: str, inputs_shape: tuple, kernel_size, stride, padding, rate=1,
           transpose: bool = False) -> tuple:
    """Check a sliding window against inputs ``[N, H, W, C]``; return ``(kernel, strides, rates)``.

    Args:
        layer, scope: the layer's name and full scope, for the messages.
        inputs_shape: ``[N, H, W, C]``.
        kernel_size, stride, rate: an int or a pair of positive ints each.
        padding: ``'SAME'``, ``'VALID'`` or ``((top, bottom), (left, right))``.
        transpose: the window of a transposed convolution (its output must not be empty).

    Returns:
        ``(KH, KW)``, ``(SH, SW)`` and the rates ``(along H, along W)``, as pairs of ints.

    Raises:
        ValueError: a bad pair, ``rate > 1`` with ``stride > 1``, an unknown padding, or a
            kernel that does not fit the (padded) input.
    """
    where = describe(layer, scope)
    kernel = pair(kernel_size, "kernel_size", layer, scope)
    strides, rates = pair(stride, "stride", layer, scope), pair(rate, "rate", layer, scope)
    if max(rates) > 1 and max(strides) > 1:
        raise ValueError(f"{where}: rate {rate!r} > 1 needs stride 1, got {stride!r}")
    in_hw = tuple(inputs_shape[1:3])
    if not transpose:
        resolve_padding(padding, in_hw, kernel, strides, rates, scope=where)
        return kernel, strides, rates
    try:
        out_hw = transpose_output_shape((1, *in_hw, 1), (*kernel, 1, 1), strides, padding)[1:3]
    except ValueError as error:  # the kernels name the op: "conv2d_transpose: padding must be ..."
        raise ValueError(f"{where}: {str(error).split(': ', 1)[-1]}") from None
    if min(out_hw) < 1:
        raise ValueError(f"{where}: padding={padding!r} leaves an empty output: H, W = {tuple(out_hw)} "
                         f"for inputs of shape {tuple(inputs_shape)} and kernel_size {kernel}")
    return kernel, strides, rates
