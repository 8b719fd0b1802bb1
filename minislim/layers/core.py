"""Small layers: ``bias_add``, ``dropout``, ``flatten``, ``one_hot_encoding``, ``softmax``.

>>> import numpy as np
>>> import minislim as slim
>>> x = np.ones((2, 3, 3, 4), np.float32)
>>> slim.flatten(x).shape
(2, 36)
>>> y = slim.dropout(x, keep_prob=0.5)          # training: zeros and 2s
>>> sorted(set(y.data.ravel().tolist()))
[0.0, 2.0]
>>> slim.dropout(x, is_training=False) is not None
True
>>> slim.one_hot_encoding(np.array([0, 2]), 3).data.tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.graph import get_default_graph
from minislim.framework.initializers import zeros_initializer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs
from minislim.layers.checks import check_arguments
from minislim.layers.common import describe, layer_variable, prepare_inputs, variable_collections
from minislim.ops.conv import bias_add as nn_bias_add
from minislim.ops.dropout import dropout as nn_dropout
from minislim.ops.shape_ops import one_hot, reshape
from minislim.ops.softmax import softmax as nn_softmax


@add_arg_scope
def bias_add(inputs, activation_fn=None, initializer=zeros_initializer(), regularizer=None, reuse=None,
             variables_collections=None, outputs_collections=None, trainable=True, data_format="NHWC",
             scope=None):
    """Add ``biases`` ``[C]`` along the last axis (``slim.bias_add``); default scope ``BiasAdd``.

    Args:
        inputs: ``[..., C]`` with rank >= 2.
        activation_fn: applied after the addition (None: linear).
        initializer, regularizer: for ``biases``.
        reuse, variables_collections, outputs_collections, trainable, scope: as for
            ``slim.conv2d``. data_format: ``'NHWC'``.
    """
    with variable_scope(scope, "BiasAdd", [inputs], reuse=reuse) as sc:
        # Check everything first: a layer that fails must leave no variables behind.
        check_arguments("bias_add", sc.name, activation_fn=activation_fn, initializer=initializer,
                        regularizer=regularizer, variables_collections=variables_collections,
                        outputs_collections=outputs_collections, trainable=trainable, data_format=data_format)
        inputs = prepare_inputs(inputs, "bias_add", sc.name, min_rank=2)
        biases = layer_variable("biases", [inputs.shape[-1]], "bias_add", sc.name, inputs.shape,
                                initializer=initializer, regularizer=regularizer, trainable=trainable,
                                collections=variable_collections(variables_collections, "biases"))
        outputs = nn_bias_add(inputs, biases)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True, outputs_collections=None, scope=None,
            seed=None):
    """Inverted dropout (``slim.dropout``): keep each value with probability ``keep_prob``, times ``1/keep_prob``.

    The mask is drawn from the default graph's ``"dropout"`` random stream (so
    ``slim.set_random_seed`` fixes it); with ``seed``, from a stream of its own,
    ``"dropout/<seed>"``. When ``is_training`` is False the inputs are returned unchanged.

    Args:
        inputs: a Tensor of any shape.
        keep_prob: in (0, 1].
        noise_shape: the mask's shape, broadcast against ``inputs`` (``[N, 1, 1, C]``
            drops whole feature maps).
        is_training: apply dropout (True) or not (False).
        outputs_collections, scope: default scope ``Dropout``.
        seed: an int choosing a separate random stream.
    """
    with variable_scope(scope, "Dropout", [inputs]) as sc:
        check_arguments("dropout", sc.name, keep_prob=keep_prob, noise_shape=noise_shape,
                        is_training=is_training, outputs_collections=outputs_collections, seed=seed)
        inputs = prepare_inputs(inputs, "dropout", sc.name, graph_dtype=False)
        graph = get_default_graph()
        rng = graph.rng("dropout" if seed is None else f"dropout/{int(seed)}")
        if noise_shape is not None:
            noise_shape = tuple(int(d) for d in noise_shape)
            try:
                np.broadcast_shapes(noise_shape, inputs.shape)
            except ValueError:
                raise ValueError(f"{describe('dropout', sc.name)}: noise_shape {noise_shape} does not "
                                 f"broadcast to the inputs' shape {inputs.shape}") from None
        outputs = nn_dropout(inputs, float(keep_prob), training=bool(is_training), rng=rng,
                             noise_shape=noise_shape)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
    """``[N, ...] -> [N, k]`` keeping the batch axis (``slim.flatten``); default scope ``Flatten``.

    Raises:
        ValueError: inputs of rank < 2.
    """
    with variable_scope(scope, "Flatten", [inputs]) as sc:
        check_arguments("flatten", sc.name, outputs_collections=outputs_collections)
        inputs = prepare_inputs(inputs, "flatten", sc.name, min_rank=2, graph_dtype=False)
        outputs = reshape(inputs, (inputs.shape[0], int(np.prod(inputs.shape[1:]))))
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def one_hot_encoding(labels, num_classes, on_value=1.0, off_value=0.0, outputs_collections=None, scope=None):
    """Integer labels ``[N]`` -> one-hot rows ``[N, num_classes]`` in the graph's dtype (no gradient).

    Default scope ``OneHotEncoding``. A label outside ``[0, num_classes)`` gives a row of
    ``off_value`` (as ``tf.one_hot``).

    Raises:
        TypeError: labels are not integers.
    """
    with variable_scope(scope, "OneHotEncoding", [labels]) as sc:
        check_arguments("one_hot_encoding", sc.name, num_classes=num_classes, on_value=on_value,
                        off_value=off_value, outputs_collections=outputs_collections)
        dtype = get_default_graph().dtype
        values = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
        try:
            encoded = one_hot(values, int(num_classes), dtype=dtype).data
        except (TypeError, ValueError) as error:
            raise type(error)(f"{describe('one_hot_encoding', sc.name)}: {error}") from None
        if on_value != 1.0 or off_value != 0.0:
            encoded = (off_value + (on_value - off_value) * encoded).astype(dtype)
        return collect_named_outputs(outputs_collections, sc.name, Tensor(encoded))


@add_arg_scope
def softmax(logits, scope=None):
    """Softmax over the last axis of ``logits`` (rank >= 2); default scope ``softmax``."""
    with variable_scope(scope, "softmax", [logits]) as sc:
        logits = prepare_inputs(logits, "softmax", sc.name, min_rank=2, graph_dtype=False)
        return nn_softmax(logits, axis=-1)
