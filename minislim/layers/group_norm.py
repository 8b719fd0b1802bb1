"""Normalisation over groups of an example's own values: ``group_norm`` and ``instance_norm``.

Both normalise each example on its own (no batch statistics, no moving averages, so
training and inference agree), then scale by ``gamma`` and shift by ``beta`` (``[C]``,
created ``beta`` first, as TF-Slim does):

* ``group_norm(inputs, groups=32)``: the C channels are split into ``groups`` groups of
  consecutive channels; mean and variance over each group and the ``reduction_axes``
  (default H and W);
* ``instance_norm(inputs)``: mean and variance over the spatial axes, per channel (group
  norm with one channel per group).

>>> import numpy as np
>>> import minislim as slim
>>> x = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 4, 4, 6)).astype(np.float32)
>>> y = slim.group_norm(x, groups=3, scope="gn").data.reshape(2, 16, 3, 2)
>>> bool(np.allclose(y.mean(axis=(1, 3)), 0, atol=1e-5)), [v.name for v in slim.get_variables()]
(True, ['gn/beta', 'gn/gamma'])
"""
from __future__ import annotations

from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.initializers import ones_initializer, zeros_initializer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs
from minislim.layers.common import describe, layer_variable, prepare_inputs, variable_collections
from minislim.ops.arithmetic import add, divide, multiply, subtract
from minislim.ops.math_ops import sqrt
from minislim.ops.reductions import mean as reduce_mean
from minislim.ops.reductions import var as reduce_var
from minislim.ops.shape_ops import reshape


def _params(layer: str, scope: str, inputs, channels: int, center: bool, scale: bool, param_initializers,
            variables_collections, trainable):
    initializers = dict(param_initializers or {})
    unknown = sorted(set(initializers) - {"beta", "gamma"})
    if unknown:
        raise ValueError(f"{describe(layer, scope)}: param_initializers has unknown keys {unknown}; expected some "
                         "of ['beta', 'gamma']")
    beta = gamma = None
    if center:
        beta = layer_variable("beta", [channels], layer, scope, inputs.shape,
                              initializer=initializers.get("beta", zeros_initializer()), trainable=trainable,
                              collections=variable_collections(variables_collections, "beta"))
    if scale:
        gamma = layer_variable("gamma", [channels], layer, scope, inputs.shape,
                               initializer=initializers.get("gamma", ones_initializer()), trainable=trainable,
                               collections=variable_collections(variables_collections, "gamma"))
    return beta, gamma


def _normalize(x, axes: tuple, epsilon: float):
    mean = reduce_mean(x, axis=axes, keepdims=True)
    variance = reduce_var(x, axis=axes, keepdims=True)
    return divide(subtract(x, mean), sqrt(add(variance, float(epsilon))))


@add_arg_scope
def group_norm(inputs, groups=32, channels_axis=-1, reduction_axes=(-3, -2), center=True, scale=True,
               epsilon=1e-6, activation_fn=None, param_initializers=None, reuse=None, variables_collections=None,
               outputs_collections=None, trainable=True, scope=None, mean_close_to_zero=False):
    """Group normalisation (Wu and He, 2018), TF-Slim's ``group_norm``; default scope ``GroupNorm``.

    Args:
        inputs: e.g. ``[N, H, W, C]``.
        groups: how many groups the C channels form (C must be a multiple).
        channels_axis: the channel axis (default last).
        reduction_axes: the other axes the statistics cover (default H and W).
        center, scale: create ``beta`` / ``gamma`` ``[C]``.
        epsilon: added to the variance. mean_close_to_zero: accepted (TF's choice of a
            numerically different formula for the same statistics).
        activation_fn, param_initializers (``beta``, ``gamma``), reuse,
        variables_collections, outputs_collections, trainable, scope: as for batch_norm.

    Raises:
        ValueError: ``channels_axis`` among ``reduction_axes`` or out of range; more
            groups than channels; channels not a multiple of ``groups``.
    """
    layer = "group_norm"
    with variable_scope(scope, "GroupNorm", [inputs], reuse=reuse) as sc:
        inputs = prepare_inputs(inputs, layer, sc.name, min_rank=2)
        rank = inputs.ndim
        if not -rank <= channels_axis < rank:
            raise ValueError(f"{describe(layer, sc.name)}: channels_axis {channels_axis} is out of range for inputs of "
                             f"shape {inputs.shape}")
        channels_axis %= rank
        axes = []
        for a in reduction_axes:
            if not -rank <= a < rank:
                raise ValueError(f"{describe(layer, sc.name)}: reduction axis {a} is out of range for inputs of shape "
                                 f"{inputs.shape}")
            axes.append(a % rank)
        if channels_axis in axes:
            raise ValueError(f"{describe(layer, sc.name)}: reduction_axis must be mutually exclusive with "
                             f"channels_axis, got {tuple(reduction_axes)} and {channels_axis}")
        channels = inputs.shape[channels_axis]
        if groups > channels:
            raise ValueError(f"{describe(layer, sc.name)}: invalid groups {groups} for {channels} channels")
        if channels % groups != 0:
            raise ValueError(f"{describe(layer, sc.name)}: {channels} channels is not commensurate with {groups} "
                             "groups")
        shape = inputs.shape
        grouped_shape = shape[:channels_axis] + (groups, channels // groups) + shape[channels_axis + 1:]
        moments_axes = (channels_axis + 1,) + tuple(a + 1 if a > channels_axis else a for a in axes)
        beta, gamma = _params(layer, sc.name, inputs, channels, center, scale, param_initializers,
                              variables_collections, trainable)
        outputs = reshape(_normalize(reshape(inputs, grouped_shape), moments_axes, epsilon), shape)
        params_shape = (1,) * channels_axis + (channels,) + (1,) * (rank - channels_axis - 1)
        if gamma is not None:
            outputs = multiply(outputs, reshape(gamma, params_shape))
        if beta is not None:
            outputs = add(outputs, reshape(beta, params_shape))
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def instance_norm(inputs, center=True, scale=True, epsilon=1e-6, activation_fn=None, param_initializers=None,
                  reuse=None, variables_collections=None, outputs_collections=None, trainable=True,
                  data_format="NHWC", scope=None):
    """Instance normalisation (Ulyanov et al., 2016), TF-Slim's ``instance_norm``; scope ``InstanceNorm``.

    Each example's channel is normalised over its spatial axes (all but the first and
    the last); then ``gamma``, ``beta`` ``[C]``.

    Raises:
        ValueError: inputs of rank < 3 (no spatial axis); ``data_format`` other than NHWC.
    """
    layer = "instance_norm"
    with variable_scope(scope, "InstanceNorm", [inputs], reuse=reuse) as sc:
        if data_format != "NHWC":
            raise ValueError(f"{describe(layer, sc.name)}: data_format must be 'NHWC' (minislim is channels-last "
                             f"only), got {data_format!r}")
        inputs = prepare_inputs(inputs, layer, sc.name, min_rank=3)
        beta, gamma = _params(layer, sc.name, inputs, inputs.shape[-1], center, scale, param_initializers,
                              variables_collections, trainable)
        outputs = _normalize(inputs, tuple(range(1, inputs.ndim - 1)), epsilon)
        if gamma is not None:
            outputs = multiply(outputs, gamma)
        if beta is not None:
            outputs = add(outputs, beta)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)
