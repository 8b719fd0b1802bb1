"""``fully_connected``: a dense layer on the last axis (TF-Slim's API).

``weights`` are ``[in, out]``; the layer computes ``inputs @ weights``, then the normalizer
or ``biases`` ``[out]``, then the activation (ReLU by default). Inputs of rank > 2 are
transformed along their last axis (``[N, T, in] -> [N, T, out]``), as TF-Slim's layer does;
flatten images first (``slim.flatten``) to feed them to a dense layer.

>>> import numpy as np
>>> import minislim as slim
>>> net = slim.fully_connected(np.zeros((4, 10), np.float32), 3, activation_fn=None, scope="fc")
>>> net.shape, [v.name for v in slim.get_variables()]
((4, 3), ['fc/weights', 'fc/biases'])
>>> slim.fully_connected(np.zeros((4, 5, 10), np.float32), 7).shape
(4, 5, 7)
"""
from __future__ import annotations

from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.initializers import xavier_initializer, zeros_initializer
from minislim.framework.scopes import variable_scope
from minislim.layers.checks import check_layer_arguments
from minislim.layers.common import finish, layer_variable, prepare_inputs, variable_collections
from minislim.ops.activations import relu
from minislim.ops.arithmetic import matmul
from minislim.ops.shape_ops import reshape


@add_arg_scope
def fully_connected(inputs, num_outputs, activation_fn=relu, normalizer_fn=None, normalizer_params=None,
                    weights_initializer=xavier_initializer(), weights_regularizer=None,
                    biases_initializer=zeros_initializer(), biases_regularizer=None, reuse=None,
                    variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """Dense layer, then normalizer or biases, then activation (``slim.fully_connected``).

    Args:
        inputs: ``[N, in]`` or ``[..., in]`` (rank >= 2).
        num_outputs: ``out``, an int.
        activation_fn, normalizer_fn, normalizer_params, weights_initializer,
        weights_regularizer, biases_initializer, biases_regularizer, reuse,
        variables_collections, outputs_collections, trainable: as for ``slim.conv2d``.
        scope: the variable scope; default ``fully_connected``, ``fully_connected_1``, ...

    Returns:
        A Tensor ``[..., num_outputs]``.

    Raises:
        ValueError: inputs of rank < 2; ``in`` differs from the weights being reused;
            ``num_outputs`` not a positive int.
        TypeError: a function argument that is not a function (``activation_fn="relu"``), a
            ``normalizer_params`` that ``normalizer_fn`` does not accept, ...
        Messages name the full scope; nothing is created when the layer raises.
    """
    layer = "fully_connected"
    with variable_scope(scope, "fully_connected", [inputs], reuse=reuse) as sc:
        # Check everything first: a layer that fails must leave no variables behind.
        check_layer_arguments(layer, sc.name, locals())
        inputs = prepare_inputs(inputs, layer, sc.name, min_rank=2)

        depth = inputs.shape[-1]
        weights = layer_variable("weights", [depth, num_outputs], layer, sc.name, inputs.shape,
                                 initializer=weights_initializer, regularizer=weights_regularizer,
                                 trainable=trainable,
                                 collections=variable_collections(variables_collections, "weights"))
        if inputs.ndim == 2:
            outputs = matmul(inputs, weights)
        else:
            outputs = reshape(matmul(reshape(inputs, (-1, depth)), weights),
                              inputs.shape[:-1] + (num_outputs,))
        return finish(outputs, layer, sc.name, normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
                      biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
                      activation_fn=activation_fn, outputs_collections=outputs_collections,
                      trainable=trainable, variables_collections=variables_collections)
