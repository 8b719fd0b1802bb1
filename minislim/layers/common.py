"""What every layer does around its own computation: check inputs, make variables, finish.

* :func:`prepare_inputs` turns an ndarray into a Tensor of the graph's dtype, checks a
  Tensor's dtype and rank, and words every error as ``layer 'full/scope': ...``;
* :func:`layer_variable` creates (or reuses) a model variable and explains a shape
  mismatch on reuse in terms of the layer's inputs;
* :func:`finish` applies the normalizer or the biases, then the activation, and files the
  output under ``outputs_collections``.

>>> import numpy as np
>>> import minislim as slim
>>> x = prepare_inputs(np.zeros((2, 3)), "fully_connected", "fc1", min_rank=2)
>>> x.dtype, x.shape
(dtype('float32'), (2, 3))
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.graph import get_default_graph
from minislim.framework.utils import collect_named_outputs
from minislim.framework.variables import model_variable
from minislim.ops.conv import bias_add

NHWC_NAMES = {1: "[N, C]", 2: "[N, C]", 3: "[N, W, C]", 4: "[N, H, W, C]"}


def describe(layer: str, scope: str) -> str:
    """``conv2d 'vgg_16/conv1/conv1_1'``: how errors name a layer."""
    return f"{layer} '{scope}'"


def prepare_inputs(inputs, layer: str, scope: str, rank: int | None = None, min_rank: int | None = None,
                   graph_dtype: bool = True) -> Tensor:
    """Return ``inputs`` as a Tensor, checked.

    Args:
        inputs: a Tensor, ndarray or nested list.
        layer, scope: the layer's name and full scope, for error messages.
        rank: the exact rank required (e.g. 4 for ``[N, H, W, C]``), or None.
        min_rank: the smallest rank allowed, or None.
        graph_dtype: the layer has variables: an ndarray is converted to the graph's dtype,
            and a Tensor must already have it.

    Raises:
        ValueError: a wrong rank. TypeError: a Tensor of another dtype, non-numeric data.
    """
    dtype = get_default_graph().dtype
    if not isinstance(inputs, Tensor):
        try:
            array = np.asarray(inputs)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{describe(layer, scope)}: inputs must be a Tensor or an array, got "
                            f"{type(inputs).__name__} ({error})") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{describe(layer, scope)}: inputs must be numeric, got dtype {array.dtype}")
        if graph_dtype or array.dtype.kind != "f":
            array = array.astype(dtype, copy=False)
        inputs = Tensor(array)
    elif graph_dtype and inputs.dtype != dtype:
        raise TypeError(f"{describe(layer, scope)}: inputs have dtype {inputs.dtype} but the graph's "
                        f"variables are {dtype}; build the model in slim.Graph(dtype='{inputs.dtype}') "
                        f"or give inputs of dtype {dtype}")
    if rank is not None and inputs.ndim != rank:
        expected = NHWC_NAMES.get(rank, f"rank {rank}")
        raise ValueError(f"{describe(layer, scope)}: inputs must be {expected}, got shape {inputs.shape}")
    if min_rank is not None and inputs.ndim < min_rank:
        raise ValueError(f"{describe(layer, scope)}: inputs must have rank >= {min_rank}, got shape "
                         f"{inputs.shape}")
    return inputs


def variable_collections(variables_collections, name: str):
    """TF-Slim's rule: a list applies to every variable, a dict gives one list per variable name.

    A single collection name stands for a list of one.
    """
    if isinstance(variables_collections, dict):
        variables_collections = variables_collections.get(name)
    if isinstance(variables_collections, str):
        return [variables_collections]
    return variables_collections


def layer_variable(name: str, shape, layer: str, scope: str, inputs_shape, initializer=None,
                   regularizer=None, trainable=True, collections=None) -> Tensor:
    """``model_variable(name, ...)`` in the current scope, with the layer named in errors."""
    try:
        return model_variable(name, shape=list(shape), initializer=initializer, regularizer=regularizer,
                              trainable=trainable, collections=collections)
    except ValueError as error:
        raise ValueError(f"{describe(layer, scope)} with inputs of shape {tuple(inputs_shape)}: {error}") from None


def finish(outputs: Tensor, layer: str, scope: str, *, normalizer_fn, normalizer_params, biases_initializer,
           biases_regularizer, activation_fn, outputs_collections, trainable, variables_collections) -> Tensor:
    """The ending of TF-Slim's conv and dense layers: normalizer (or biases), activation, end point.

    ``outputs`` is ``[..., OC]``; ``biases`` ``[OC]`` are made only when there is no
    ``normalizer_fn`` (its offset plays their part) and ``biases_initializer`` is not None.
    The arguments are the layer's own, by name.
    """
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    elif biases_initializer is not None:
        biases = layer_variable("biases", [outputs.shape[-1]], layer, scope, outputs.shape,
                                initializer=biases_initializer, regularizer=biases_regularizer,
                                trainable=trainable,
                                collections=variable_collections(variables_collections, "biases"))
        outputs = bias_add(outputs, biases)
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return collect_named_outputs(outputs_collections, scope, outputs)
