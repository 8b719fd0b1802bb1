"""Normalization layers: ``batch_norm`` and ``layer_norm`` (TF-Slim's API and variable names).

``batch_norm`` normalises every channel (the last axis) with the batch's statistics when
``is_training`` and with its moving averages otherwise. Its variables, in its scope
(``bn``, or ``conv1/BatchNorm`` when it is ``conv1``'s ``normalizer_fn``):

* ``beta`` (offset, if ``center``), ``gamma`` (scale, if ``scale``): trainable;
* ``moving_mean``, ``moving_variance``: model variables, not trainable.

Unlike TF-Slim, the moving averages are updated **in place during the training forward
pass** (``moving -= (moving - batch_value) * (1 - decay)``): there are no update ops to
run. The normalisation divides the variance by M. Which path TF-Slim 1.1 takes, and so
the variable order and the variance the moving average follows, is kept
(:func:`tf_slim_path`): TF-Slim's own fused path (rank 2, or rank 4 with a custom
``updates_collections``) creates ``beta`` before ``gamma``; Keras' BatchNormalization
(``updates_collections`` left at UPDATE_OPS) creates ``gamma`` first. The fused kernel
(``fused`` not False, rank 2 or 4) moves towards the unbiased batch variance (divided by
M - 1); the other paths towards the biased one (divided by M).

>>> import numpy as np
>>> import minislim as slim
>>> x = np.random.default_rng(0).normal(5.0, 2.0, size=(64, 3)).astype(np.float32)
>>> y = slim.batch_norm(x, decay=0.9, scale=True, scope="bn")
>>> bool(abs(y.data.mean()) < 1e-5), [v.name for v in slim.get_variables()]  # rank 2: beta first
(True, ['bn/beta', 'bn/gamma', 'bn/moving_mean', 'bn/moving_variance'])
>>> mean = slim.get_unique_variable("bn/moving_mean").data  # 0.9 * 0 + 0.1 * (about 5)
>>> bool(np.all(abs(mean - 0.5) < 0.1))
True
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.collections import GraphKeys
from minislim.framework.initializers import ones_initializer, zeros_initializer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs
from minislim.layers.checks import check_arguments
from minislim.layers.common import describe, layer_variable, prepare_inputs, variable_collections
from minislim.ops.arithmetic import add, divide, multiply, subtract
from minislim.ops.math_ops import sqrt
from minislim.ops.normalization import BatchNormTraining
from minislim.ops.reductions import mean as reduce_mean
from minislim.ops.reductions import var as reduce_var
from minislim.parallel import SyncBatchNormTraining, resolve_sync

_BN_PARAMS = ("beta", "gamma", "moving_mean", "moving_variance")


def _check_keys(params, allowed, what: str, layer: str, scope: str) -> dict:
    """``params`` (a dict or None) as a dict whose keys are all in ``allowed``."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"{describe(layer, scope)}: {what} has unknown keys {unknown}; expected some of "
                         f"{list(allowed)}")
    return params


def tf_slim_path(rank: int, fused, updates_collections) -> tuple:
    """``(beta_first, unbiased)``: TF-Slim 1.1's batch_norm path for these arguments.

    ``beta_first``: the variables are created ``beta``, ``gamma`` (TF-Slim's own code)
    rather than ``gamma``, ``beta`` (Keras' BatchNormalization layer, which TF-Slim calls
    when ``updates_collections`` is UPDATE_OPS and its own fused path does not apply).
    ``unbiased``: the moving variance follows the batch variance divided by M - 1 (TF's
    fused kernel: ``fused`` not False and rank 2 or 4, or rank 5 through Keras) rather than
    by M (``tf.nn.moments``).

    >>> tf_slim_path(2, None, GraphKeys.UPDATE_OPS), tf_slim_path(4, None, GraphKeys.UPDATE_OPS)
    ((True, True), (False, True))
    >>> tf_slim_path(3, None, GraphKeys.UPDATE_OPS), tf_slim_path(4, False, None)
    ((False, False), (True, False))
    """
    fused = True if fused is None else bool(fused)
    default_updates = updates_collections == GraphKeys.UPDATE_OPS
    if fused and rank in (2, 4) and (rank == 2 or not default_updates):
        return True, True  # tf_slim.layers._fused_batch_norm
    if default_updates:
        return False, fused and rank in (4, 5)  # Keras' layer, fused kernel only for rank 4 or 5
    return True, False  # tf_slim's own non-fused code (tf.nn.moments)


@add_arg_scope
def batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001, activation_fn=None,
               param_initializers=None, param_regularizers=None, updates_collections=GraphKeys.UPDATE_OPS,
               is_training=True, reuse=None, variables_collections=None, outputs_collections=None,
               trainable=True, fused=None, data_format="NHWC", scope=None, sync=False):
    """Batch normalisation over all axes but the last (``slim.batch_norm``).

    Args:
        inputs: ``[N, C]``, ``[N, H, W, C]`` or any ``[..., C]`` (rank >= 2).
        decay: of the moving averages, in [0, 1] (try 0.9 for short training runs).
        center: add ``beta``. scale: multiply by ``gamma`` (off by default, as in TF-Slim:
            a following linear layer or ReLU can absorb it).
        epsilon: added to the variance.
        activation_fn: applied to the output (None: linear).
        param_initializers: dict of initializers for ``beta``, ``gamma``,
            ``moving_mean``, ``moving_variance``.
        param_regularizers: dict of regularizers for ``beta`` and ``gamma``.
        updates_collections: only chooses TF-Slim's path (:func:`tf_slim_path`); the
            moving averages are updated in place and nothing is added to it.
        is_training: True: normalise with the batch's statistics and update the moving
            averages; False: normalise with the moving averages.
        reuse, variables_collections, outputs_collections, trainable, scope: as for
            ``slim.conv2d``; default scope ``BatchNorm``.
        fused: None or True: TF's fused kernel where TF-Slim uses it (rank 2 or 4), whose
            moving variance follows the unbiased batch variance; False: the biased one.
            minislim computes the forward pass with its fused op either way.
        data_format: ``'NHWC'`` (channels last).
        sync: data-parallel training only (not in TF-Slim): False uses this process's
            shard statistics (as PyTorch's DDP); True, or a ``slim.parallel`` communicator,
            all-reduces them so that every process normalises with the global batch's
            (:mod:`minislim.parallel.sync_batch_norm`; True means ``slim.parallel.world()``).

    Returns:
        A Tensor shaped like ``inputs``.

    Raises:
        ValueError: inputs of rank < 2; a channel count that differs from the reused
            variables; ``decay`` outside [0, 1]; ``epsilon`` not positive; unknown keys in
            ``param_initializers`` or ``param_regularizers``.
        TypeError: ``center``, ``scale``, ``is_training`` or ``trainable`` not a bool; an
            initializer or regularizer that is not a function; ...
        Messages name the full scope; nothing is created when the layer raises.
    """
    layer = "batch_norm"
    with variable_scope(scope, "BatchNorm", [inputs], reuse=reuse) as sc:
        # Check everything first: a layer that fails must leave no variables behind.
        check_arguments(layer, sc.name, decay=decay, center=center, scale=scale, epsilon=epsilon,
                        activation_fn=activation_fn, param_initializers=param_initializers,
                        param_regularizers=param_regularizers, is_training=is_training,
                        variables_collections=variables_collections, outputs_collections=outputs_collections,
                        trainable=trainable, data_format=data_format)
        initializers = _check_keys(param_initializers, _BN_PARAMS, "param_initializers", layer, sc.name)
        regularizers = _check_keys(param_regularizers, ("beta", "gamma"), "param_regularizers", layer, sc.name)
        comm = resolve_sync(sync, describe(layer, sc.name))
        inputs = prepare_inputs(inputs, layer, sc.name, min_rank=2)

        channels = inputs.shape[-1]
        dtype = inputs.dtype

        def make(name, default_init, trainable_var):
            return layer_variable(name, [channels], layer, sc.name, inputs.shape,
                                  initializer=initializers.get(name, default_init),
                                  regularizer=regularizers.get(name), trainable=trainable_var,
                                  collections=variable_collections(variables_collections, name))

        beta_first, unbiased_variance = tf_slim_path(inputs.ndim, fused, updates_collections)
        params = {}
        for name in ("beta", "gamma") if beta_first else ("gamma", "beta"):  # TF-Slim's creation order
            if name == "beta":
                params[name] = (make("beta", zeros_initializer(), trainable) if center
                                else Tensor(np.zeros(channels, dtype)))
            else:
                params[name] = (make("gamma", ones_initializer(), trainable) if scale
                                else Tensor(np.ones(channels, dtype)))
        beta, gamma = params["beta"], params["gamma"]
        moving_mean = make("moving_mean", zeros_initializer(), False)
        moving_variance = make("moving_variance", ones_initializer(), False)

        if is_training:
            op = BatchNormTraining(epsilon) if comm is None else SyncBatchNormTraining(comm, epsilon)
            outputs = op(inputs, gamma, beta)
            count = inputs.size // channels if comm is None else op.count
            variance = op.batch_variance  # divided by M
            if unbiased_variance and count > 1:
                variance = variance * (count / (count - 1))
            rate = np.asarray(1.0 - decay, dtype=dtype)
            moving_mean.assign_sub((moving_mean.data - op.batch_mean) * rate)
            moving_variance.assign_sub((moving_variance.data - variance) * rate)
        else:
            inv_std = Tensor(1.0 / np.sqrt(moving_variance.data + np.asarray(epsilon, dtype=dtype)))
            factor = multiply(gamma, inv_std)  # [C]: gradients still reach gamma and beta
            shift = subtract(beta, multiply(Tensor(moving_mean.data.copy()), factor))
            outputs = add(multiply(inputs, factor), shift)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def layer_norm(inputs, center=True, scale=True, activation_fn=None, reuse=None, variables_collections=None,
               outputs_collections=None, trainable=True, begin_norm_axis=1, begin_params_axis=-1, scope=None):
    """Layer normalisation (``slim.layer_norm``): each example normalised over its own values.

    The mean and variance are taken over axes ``begin_norm_axis ..`` (default: all but
    the batch axis); ``beta`` and ``gamma`` have shape ``inputs.shape[begin_params_axis:]``
    (default: ``[C]``). The variance epsilon is 1e-12, as in TF-Slim. Default scope
    ``LayerNorm``.

    Raises:
        ValueError: ``begin_norm_axis`` or ``begin_params_axis`` not inside the inputs'
            rank; inputs of rank < 2.
    """
    layer = "layer_norm"
    with variable_scope(scope, "LayerNorm", [inputs], reuse=reuse) as sc:
        # Check everything first: a layer that fails must leave no variables behind.
        check_arguments(layer, sc.name, center=center, scale=scale, activation_fn=activation_fn,
                        variables_collections=variables_collections, outputs_collections=outputs_collections,
                        trainable=trainable, begin_norm_axis=begin_norm_axis,
                        begin_params_axis=begin_params_axis)
        inputs = prepare_inputs(inputs, layer, sc.name, min_rank=2)
        rank = inputs.ndim
        norm_axis = begin_norm_axis + rank if begin_norm_axis < 0 else begin_norm_axis
        params_axis = begin_params_axis + rank if begin_params_axis < 0 else begin_params_axis
        if not (0 <= norm_axis < rank and 0 <= params_axis < rank):
            raise ValueError(f"{describe(layer, sc.name)}: begin_params_axis ({begin_params_axis}) and "
                             f"begin_norm_axis ({begin_norm_axis}) must be < rank(inputs) ({rank}); inputs "
                             f"shape {inputs.shape}")

        params_shape = list(inputs.shape[params_axis:])
        beta = gamma = None
        if center:
            beta = layer_variable("beta", params_shape, layer, sc.name, inputs.shape,
                                  initializer=zeros_initializer(), trainable=trainable,
                                  collections=variable_collections(variables_collections, "beta"))
        if scale:
            gamma = layer_variable("gamma", params_shape, layer, sc.name, inputs.shape,
                                   initializer=ones_initializer(), trainable=trainable,
                                   collections=variable_collections(variables_collections, "gamma"))
        axes = tuple(range(norm_axis, rank))
        mean = reduce_mean(inputs, axis=axes, keepdims=True)
        variance = reduce_var(inputs, axis=axes, keepdims=True)
        outputs = divide(subtract(inputs, mean), sqrt(add(variance, 1e-12)))
        if gamma is not None:
            outputs = multiply(outputs, gamma)
        if beta is not None:
            outputs = add(outputs, beta)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)
