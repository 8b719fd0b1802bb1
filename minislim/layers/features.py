"""Layers without a family of their own (TF-Slim's names and rules):

* ``unit_norm(inputs, dim)``: ``inputs / sqrt(eps + sum(inputs**2, dim))``;
* ``maxout(inputs, num_units, axis=-1)``: the max over groups of ``C / num_units``
  consecutive features;
* ``spatial_softmax(features)``: per channel, the expected (x, y) position in [-1, 1]
  under a softmax over H * W (a learnable ``temperature``): ``[N, H, W, C] -> [N, 2C]``;
* ``scale_gradient(inputs, gradient_multiplier)``: identity forward, scaled gradient;
* ``images_to_sequence`` ``[N, H, W, C] -> [W, N*H, C]`` and ``sequence_to_images`` back.

>>> import numpy as np
>>> import minislim as slim
>>> slim.maxout(np.array([[1.0, 5.0, 2.0, 0.0]], np.float32), num_units=2).data.tolist()
[[5.0, 2.0]]
>>> x = np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1)
>>> seq = slim.images_to_sequence(x)
>>> seq.shape, bool(np.array_equal(slim.sequence_to_images(seq, height=3).data, x))
((4, 6, 1), True)
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.initializers import constant_initializer, ones_initializer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs
from minislim.layers.common import describe, layer_variable, prepare_inputs, variable_collections
from minislim.ops.arithmetic import add, divide, multiply
from minislim.ops.gradient_ops import scale_gradient as nn_scale_gradient
from minislim.ops.math_ops import sqrt
from minislim.ops.reductions import max as reduce_max
from minislim.ops.reductions import sum as reduce_sum
from minislim.ops.shape_ops import concat, reshape, transpose
from minislim.ops.softmax import softmax as nn_softmax


def _check_format(layer: str, scope: str, data_format, allowed=("NHWC",)) -> None:
    if data_format not in allowed:
        raise ValueError(f"{describe(layer, scope)}: data_format must be one of {list(allowed)} (minislim is "
                         f"channels-last only), got {data_format!r}")


@add_arg_scope
def unit_norm(inputs, dim: int, epsilon: float = 1e-7, scope=None):
    """Normalise ``inputs`` to unit length along axis ``dim`` (``0 <= dim < rank``); scope ``UnitNorm``.

    Raises:
        ValueError: ``dim`` negative or not below the rank (TF-Slim's rule).
    """
    with variable_scope(scope, "UnitNorm", [inputs]) as sc:
        inputs = prepare_inputs(inputs, "unit_norm", sc.name, graph_dtype=False)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 0 <= dim < inputs.ndim:
            raise ValueError(f"{describe('unit_norm', sc.name)}: dim must be positive but smaller than the input "
                             f"rank ({inputs.ndim}), got {dim!r}")
        lengths = sqrt(add(reduce_sum(multiply(inputs, inputs), axis=int(dim), keepdims=True), float(epsilon)))
        return divide(inputs, lengths)


@add_arg_scope
def maxout(inputs, num_units: int, axis: int = -1, scope=None):
    """Maxout: reshape axis ``axis`` (C features) to ``num_units`` and append ``C / num_units``, then
    take the max over that last axis (TF-Slim's reshape, exactly); default scope ``MaxOut``.

    Raises:
        ValueError: C is not a multiple of ``num_units``.
    """
    with variable_scope(scope, "MaxOut", [inputs]) as sc:
        inputs = prepare_inputs(inputs, "maxout", sc.name, min_rank=1, graph_dtype=False)
        shape = list(inputs.shape)
        channels = shape[axis]
        if isinstance(num_units, bool) or not isinstance(num_units, (int, np.integer)) or num_units < 1 \
                or channels % num_units:
            raise ValueError(f"{describe('maxout', sc.name)}: number of features({channels}) is not a multiple of "
                             f"num_units({num_units})")
        shape[axis] = int(num_units)
        shape.append(channels // int(num_units))
        return reduce_max(reshape(inputs, tuple(shape)), axis=-1)


@add_arg_scope
def spatial_softmax(features, temperature=None, name=None, variables_collections=None, trainable=True,
                    data_format="NHWC"):
    """Expected image coordinates of each channel's softmax over positions (TF-Slim's keypoints).

    Creates the scalar model variable ``temperature`` (1, or ``temperature`` if given) in
    the scope ``name`` (default ``spatial_softmax``). For channel c, with
    ``a = softmax(features[n, :, :, c] / temperature)`` over the H * W positions and the
    grid ``x_i = linspace(-1, 1, H)[i]`` (rows), ``y_j = linspace(-1, 1, W)[j]``:
    ``[sum(a * x), sum(a * y)]``.

    Returns:
        ``[N, 2C]``: ``x_0, y_0, x_1, y_1, ...``.
    """
    with variable_scope(name, "spatial_softmax") as sc:
        _check_format("spatial_softmax", sc.name, data_format)
        features = prepare_inputs(features, "spatial_softmax", sc.name, rank=4)
        n, height, width, channels = features.shape
        pos_x, pos_y = np.meshgrid(np.linspace(-1.0, 1.0, height), np.linspace(-1.0, 1.0, width), indexing="ij")
        init = ones_initializer() if temperature is None else constant_initializer(temperature)
        temp = layer_variable("temperature", [], "spatial_softmax", sc.name, features.shape, initializer=init,
                              trainable=trainable,
                              collections=variable_collections(variables_collections, "temperature") if trainable
                              else None)
        flat = reshape(transpose(features, (0, 3, 1, 2)), (n * channels, height * width))
        attention = nn_softmax(divide(flat, temp), axis=-1)
        dtype = features.dtype
        expected_x = reduce_sum(multiply(attention, Tensor(pos_x.reshape(-1).astype(dtype))), axis=1, keepdims=True)
        expected_y = reduce_sum(multiply(attention, Tensor(pos_y.reshape(-1).astype(dtype))), axis=1, keepdims=True)
        return reshape(concat([expected_x, expected_y], axis=1), (n, channels * 2))


@add_arg_scope
def scale_gradient(inputs, gradient_multiplier):
    """Identity forward; gradient multiplied by ``gradient_multiplier`` (no scope, as in TF-Slim)."""
    inputs = prepare_inputs(inputs, "scale_gradient", "scale_gradient", graph_dtype=False)
    return nn_scale_gradient(inputs, gradient_multiplier)


@add_arg_scope
def images_to_sequence(inputs, data_format="NHWC", outputs_collections=None, scope=None):
    """``[N, H, W, C] -> [W, N*H, C]``: each column of pixels becomes one time step (for an RNN
    over the width); default scope ``ImagesToSequence``."""
    with variable_scope(scope, "ImagesToSequence", [inputs]) as sc:
        _check_format("images_to_sequence", sc.name, data_format)
        inputs = prepare_inputs(inputs, "images_to_sequence", sc.name, rank=4, graph_dtype=False)
        n, height, width, depth = inputs.shape
        outputs = reshape(transpose(inputs, (2, 0, 1, 3)), (width, n * height, depth))
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def sequence_to_images(inputs, height: int, output_data_format="channels_last", outputs_collections=None,
                       scope=None):
    """``[W, N*H, C] -> [N, H, W, C]``, the inverse of :func:`images_to_sequence`; scope ``SequenceToImages``.

    Raises:
        ValueError: the middle axis is not a multiple of ``height``; channels-first output.
    """
    with variable_scope(scope, "SequenceToImages", [inputs]) as sc:
        _check_format("sequence_to_images", sc.name, output_data_format, ("channels_last",))
        inputs = prepare_inputs(inputs, "sequence_to_images", sc.name, rank=3, graph_dtype=False)
        width, rows, depth = inputs.shape
        if isinstance(height, bool) or not isinstance(height, (int, np.integer)) or height < 1 or rows % height:
            raise ValueError(f"{describe('sequence_to_images', sc.name)}: the middle axis ({rows}) must be a multiple "
                             f"of height, got height {height!r}")
        outputs = transpose(reshape(inputs, (width, rows // height, int(height), depth)), (1, 2, 0, 3))
        return collect_named_outputs(outputs_collections, sc.name, outputs)
