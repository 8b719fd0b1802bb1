"""Convolutions of other ranks, built on the 2-D op: ``conv1d``, ``conv3d``, ``conv2d_in_plane``,
and 3-D pooling: ``max_pool3d``, ``avg_pool3d`` (TF-Slim's names, arguments and variables).

* ``conv1d``: ``[N, W, C]`` with ``weights [K, C, OC]`` is a 2-D convolution of
  ``[N, 1, W, C]`` with ``[1, K, C, OC]``.
* ``conv3d``: ``[N, D, H, W, C]`` with ``weights [KD, KH, KW, C, OC]`` is a sum over the
  kernel's depth taps ``kd`` of 2-D convolutions: tap ``kd`` convolves, for every output
  depth ``od``, the input slice at depth ``od * SD - pad_front + kd * RD`` (zeros outside)
  with ``weights[kd]``. All output depths go through one 2-D call per tap (folded into
  the batch axis), so KD calls in all.
* 3-D pooling: the 2-D pooling of each slice, then the max (or the mean over the slices
  inside the input, TF's SAME rule) over the depth window.
* ``conv2d_in_plane``: one ``[KH, KW]`` filter applied to every channel separately.

Padding along depth follows TF's SAME rule (``OD = ceil(D / SD)``, the odd element at the
back) or VALID, like H and W. The gradients are the 2-D ops' own (no new kernel).

>>> import numpy as np
>>> import minislim as slim
>>> slim.conv1d(np.zeros((2, 7, 3), np.float32), 4, 3, scope="c1").shape
(2, 7, 4)
>>> slim.conv3d(np.zeros((1, 4, 5, 5, 2), np.float32), 3, [2, 3, 3], stride=2, scope="c3").shape
(1, 2, 3, 3, 3)
>>> [v.shape for v in slim.get_variables("c3")]
[(2, 3, 3, 2, 3), (3,)]
>>> slim.max_pool3d(np.zeros((1, 4, 4, 4, 2), np.float32), [2, 2, 2]).shape
(1, 2, 2, 2, 2)
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.initializers import xavier_initializer, zeros_initializer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs
from minislim.kernels.shapes import effective_size, same_padding
from minislim.layers.checks import check_arguments, check_layer_arguments, window
from minislim.layers.common import describe, finish, layer_variable, prepare_inputs, variable_collections
from minislim.ops.activations import relu
from minislim.ops.arithmetic import add, multiply
from minislim.ops.conv import conv2d as nn_conv2d
from minislim.ops.pool import avg_pool2d as nn_avg_pool2d
from minislim.ops.pool import max_pool2d as nn_max_pool2d
from minislim.ops.reductions import max as reduce_max
from minislim.ops.shape_ops import getitem, pad, reshape, stack, transpose


def _ints(value, n: int, name: str, layer: str, scope: str) -> tuple:
    """An int or a list of ``n`` positive ints, as a tuple of ``n`` ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        result = (int(value),) * n
    elif isinstance(value, (list, tuple)) and len(value) == n and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        result = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{describe(layer, scope)}: {name} must be an int or a list of {n} ints, got {value!r}")
    if min(result) < 1:
        raise ValueError(f"{describe(layer, scope)}: {name} must be positive, got {value!r}")
    return result


def _depth_window(layer: str, scope: str, depth: int, kernel: int, stride: int, rate: int, padding) -> tuple:
    """``((front, back), OD)`` along depth, TF's SAME or VALID rule."""
    if padding == "SAME":
        return same_padding(depth, kernel, stride, rate)
    if padding == "VALID":
        span = effective_size(kernel, rate)
        if span > depth:
            raise ValueError(f"{describe(layer, scope)}: VALID kernel depth {span} is larger than the input depth "
                             f"{depth}")
        return (0, 0), (depth - span) // stride + 1
    raise ValueError(f"{describe(layer, scope)}: padding must be 'SAME' or 'VALID', got {padding!r}")


def _depth_taps(x: Tensor, pads: tuple, out_depth: int, kernel: int, stride: int, rate: int,
                fill: float = 0.0) -> list:
    """For each depth tap ``kd``: the slices it reads, ``[N * OD, H, W, C]`` (padding: ``fill``)."""
    n, _, height, width, channels = x.shape
    if pads != (0, 0):
        x = pad(x, ((0, 0), pads, (0, 0), (0, 0), (0, 0)), constant_value=fill)
    taps = []
    for kd in range(kernel):
        start = kd * rate
        sliced = getitem(x, (slice(None), slice(start, start + (out_depth - 1) * stride + 1, stride)))
        taps.append(reshape(sliced, (n * out_depth, height, width, channels)))
    return taps


@add_arg_scope
def convolution1d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                  activation_fn=relu, normalizer_fn=None, normalizer_params=None,
                  weights_initializer=xavier_initializer(), weights_regularizer=None,
                  biases_initializer=zeros_initializer(), biases_regularizer=None, reuse=None,
                  variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """1-D convolution layer ``[N, W, C] -> [N, OW, OC]`` (``slim.conv1d``): ``weights [K, C, OC]``,
    then normalizer or ``biases [OC]``, then activation; default scope ``Conv``.

    Arguments as :func:`~minislim.layers.conv.convolution2d`, with ``kernel_size``,
    ``stride`` and ``rate`` single ints (or lists of one).
    """
    layer = "conv1d"
    with variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        check_layer_arguments(layer, sc.name, locals())
        if data_format not in (None, "NWC"):
            raise ValueError(f"{describe(layer, sc.name)}: data_format must be None or 'NWC', got {data_format!r}")
        inputs = prepare_inputs(inputs, layer, sc.name, rank=3)
        (k,), (s,), (r,) = (_ints(v, 1, name, layer, sc.name)
                            for v, name in ((kernel_size, "kernel_size"), (stride, "stride"), (rate, "rate")))
        n, width, channels = inputs.shape
        window(layer, sc.name, (n, 1, width, channels), (1, k), (1, s), padding, (1, r))
        weights = layer_variable("weights", [k, channels, num_outputs], layer, sc.name, inputs.shape,
                                 initializer=weights_initializer, regularizer=weights_regularizer,
                                 trainable=trainable, collections=variable_collections(variables_collections, "weights"))
        outputs = nn_conv2d(reshape(inputs, (n, 1, width, channels)), reshape(weights, (1, k, channels, num_outputs)),
                            stride=(1, s), padding=padding, rate=(1, r))
        outputs = reshape(outputs, (n, outputs.shape[2], num_outputs))
        return finish(outputs, layer, sc.name, normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
                      biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
                      activation_fn=activation_fn, outputs_collections=outputs_collections,
                      trainable=trainable, variables_collections=variables_collections)


@add_arg_scope
def convolution3d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                  activation_fn=relu, normalizer_fn=None, normalizer_params=None,
                  weights_initializer=xavier_initializer(), weights_regularizer=None,
                  biases_initializer=zeros_initializer(), biases_regularizer=None, reuse=None,
                  variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """3-D convolution layer ``[N, D, H, W, C] -> [N, OD, OH, OW, OC]`` (``slim.conv3d``):
    ``weights [KD, KH, KW, C, OC]``; default scope ``Conv``.

    ``kernel_size``, ``stride``, ``rate``: an int or a list of three (depth, H, W);
    ``padding``: ``'SAME'`` or ``'VALID'``. Other arguments as ``convolution2d``.
    """
    layer = "conv3d"
    with variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        check_layer_arguments(layer, sc.name, locals(), skip=("data_format",))  # NDHWC: checked below
        if data_format not in (None, "NDHWC"):
            raise ValueError(f"{describe(layer, sc.name)}: data_format must be None or 'NDHWC', got {data_format!r}")
        inputs = prepare_inputs(inputs, layer, sc.name, rank=5)
        kernel, strides, rates = (_ints(v, 3, name, layer, sc.name)
                                  for v, name in ((kernel_size, "kernel_size"), (stride, "stride"), (rate, "rate")))
        n, depth, height, width, channels = inputs.shape
        pads, out_depth = _depth_window(layer, sc.name, depth, kernel[0], strides[0], rates[0], padding)
        window(layer, sc.name, (n, height, width, channels), kernel[1:], strides[1:], padding, rates[1:])
        weights = layer_variable("weights", [*kernel, channels, num_outputs], layer, sc.name, inputs.shape,
                                 initializer=weights_initializer, regularizer=weights_regularizer,
                                 trainable=trainable, collections=variable_collections(variables_collections, "weights"))
        outputs = None
        for kd, tap in enumerate(_depth_taps(inputs, pads, out_depth, kernel[0], strides[0], rates[0])):
            part = nn_conv2d(tap, getitem(weights, kd), stride=strides[1:], padding=padding, rate=rates[1:])
            outputs = part if outputs is None else add(outputs, part)
        outputs = reshape(outputs, (n, out_depth) + outputs.shape[1:])
        return finish(outputs, layer, sc.name, normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
                      biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
                      activation_fn=activation_fn, outputs_collections=outputs_collections,
                      trainable=trainable, variables_collections=variables_collections)


@add_arg_scope
def convolution2d_in_plane(inputs, kernel_size, stride=1, padding="SAME", activation_fn=relu, normalizer_fn=None,
                           normalizer_params=None, weights_initializer=xavier_initializer(), weights_regularizer=None,
                           biases_initializer=zeros_initializer(), biases_regularizer=None, reuse=None,
                           variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """The same ``[KH, KW]`` filter on every channel (``slim.conv2d_in_plane``): ``weights [KH, KW, 1, 1]``,
    ``biases [C]``; ``[N, H, W, C] -> [N, OH, OW, C]``; default scope ``ConvInPlane``."""
    layer = "conv2d_in_plane"
    with variable_scope(scope, "ConvInPlane", [inputs], reuse=reuse) as sc:
        check_layer_arguments(layer, sc.name, locals())
        inputs = prepare_inputs(inputs, layer, sc.name, rank=4)
        (kh, kw), strides, _ = window(layer, sc.name, inputs.shape, kernel_size, stride, padding)
        n, height, width, channels = inputs.shape
        weights = layer_variable("weights", [kh, kw, 1, 1], layer, sc.name, inputs.shape,
                                 initializer=weights_initializer, regularizer=weights_regularizer,
                                 trainable=trainable, collections=variable_collections(variables_collections, "weights"))
        planes = reshape(transpose(inputs, (0, 3, 1, 2)), (n * channels, height, width, 1))
        outputs = nn_conv2d(planes, weights, stride=strides, padding=padding)
        out_h, out_w = outputs.shape[1:3]
        outputs = transpose(reshape(outputs, (n, channels, out_h, out_w)), (0, 2, 3, 1))
        return finish(outputs, layer, sc.name, normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
                      biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
                      activation_fn=activation_fn, outputs_collections=outputs_collections,
                      trainable=trainable, variables_collections=variables_collections)


def _pool3d(layer: str, default_name: str, inputs, kernel_size, stride, padding, data_format, outputs_collections,
            scope):
    with variable_scope(scope, default_name, [inputs]) as sc:
        check_arguments(layer, sc.name, outputs_collections=outputs_collections)
        if data_format != "NDHWC":
            raise ValueError(f"{describe(layer, sc.name)}: data_format must be 'NDHWC', got {data_format!r}")
        inputs = prepare_inputs(inputs, layer, sc.name, rank=5, graph_dtype=False)
        kernel, strides = (_ints(v, 3, name, layer, sc.name) for v, name in ((kernel_size, "kernel_size"),
                                                                             (stride, "stride")))
        n, depth, height, width, channels = inputs.shape
        pads, out_depth = _depth_window(layer, sc.name, depth, kernel[0], strides[0], 1, padding)
        window(layer, sc.name, (n, height, width, channels), kernel[1:], strides[1:], padding)
        is_max = layer == "max_pool3d"
        taps = _depth_taps(inputs, pads, out_depth, kernel[0], strides[0], 1, fill=-np.inf if is_max else 0.0)
        op = nn_max_pool2d if is_max else nn_avg_pool2d
        pooled = [op(tap, kernel[1:], stride=strides[1:], padding=padding) for tap in taps]
        if is_max:
            outputs = reduce_max(stack(pooled, axis=0), axis=0)
        else:
            # the slices inside the input, per output depth (TF's SAME rule for averages)
            starts = np.arange(out_depth) * strides[0] - pads[0]
            inside = sum(((starts + kd >= 0) & (starts + kd < depth)).astype(np.float64) for kd in range(kernel[0]))
            scale = np.tile(1.0 / inside, n).reshape(-1, 1, 1, 1)  # [N * OD, 1, 1, 1], batch-major
            outputs = pooled[0]
            for part in pooled[1:]:
                outputs = add(outputs, part)
            outputs = multiply(outputs, Tensor(scale.astype(inputs.dtype)))
        outputs = reshape(outputs, (n, out_depth) + outputs.shape[1:])
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def max_pool3d(inputs, kernel_size, stride=2, padding="VALID", data_format="NDHWC", outputs_collections=None,
               scope=None):
    """Max pooling over ``[KD, KH, KW]`` windows of ``[N, D, H, W, C]`` (``slim.max_pool3d``); scope ``MaxPool3D``."""
    return _pool3d("max_pool3d", "MaxPool3D", inputs, kernel_size, stride, padding, data_format,
                   outputs_collections, scope)


@add_arg_scope
def avg_pool3d(inputs, kernel_size, stride=2, padding="VALID", data_format="NDHWC", outputs_collections=None,
               scope=None):
    """Average pooling over ``[KD, KH, KW]`` windows (``slim.avg_pool3d``); SAME windows average the cells
    inside the input; scope ``AvgPool3D``."""
    return _pool3d("avg_pool3d", "AvgPool3D", inputs, kernel_size, stride, padding, data_format,
                   outputs_collections, scope)


conv1d = convolution1d
conv3d = convolution3d
conv2d_in_plane = convolution2d_in_plane
