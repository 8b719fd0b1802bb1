"""Convolution layers: ``conv2d``, ``conv2d_transpose``, ``separable_conv2d`` (TF-Slim's API).

A convolution layer opens a variable scope (its ``scope`` argument, or ``Conv``,
``Conv_1``, ...), creates ``weights`` ``[KH, KW, C, OC]`` (model variables), convolves, then
applies either ``normalizer_fn`` (no ``biases`` are created then: the normalizer's
offset plays their part) or ``biases`` ``[OC]``, then ``activation_fn`` (ReLU by default).

>>> import numpy as np
>>> import minislim as slim
>>> images = np.zeros((2, 8, 8, 3), np.float32)
>>> net = slim.conv2d(images, 16, [3, 3], scope="conv1")
>>> net.shape
(2, 8, 8, 16)
>>> [v.name for v in slim.get_model_variables()]
['conv1/weights', 'conv1/biases']
>>> slim.conv2d(net, 4, 3, stride=2, padding="VALID", normalizer_fn=slim.batch_norm).shape
(2, 3, 3, 4)
>>> [v.name for v in slim.get_model_variables("Conv")]
['Conv/weights', 'Conv/BatchNorm/beta', 'Conv/BatchNorm/moving_mean', 'Conv/BatchNorm/moving_variance']
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.initializers import xavier_initializer, zeros_initializer
from minislim.framework.scopes import variable_scope
from minislim.layers.checks import check_layer_arguments, window
from minislim.layers.common import finish, layer_variable, prepare_inputs, variable_collections
from minislim.ops.activations import relu
from minislim.ops.arithmetic import multiply
from minislim.ops.conv import conv2d as nn_conv2d
from minislim.ops.conv import conv2d_transpose as nn_conv2d_transpose
from minislim.ops.shape_ops import reshape


@add_arg_scope
def convolution2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                  activation_fn=relu, normalizer_fn=None, normalizer_params=None,
                  weights_initializer=xavier_initializer(), weights_regularizer=None,
                  biases_initializer=zeros_initializer(), biases_regularizer=None, reuse=None,
                  variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """2-D convolution layer, then normalizer or biases, then activation (``slim.conv2d``).

    Args:
        inputs: ``[N, H, W, C]`` (a Tensor of the graph's dtype, or an array).
        num_outputs: OC, the number of filters (an int).
        kernel_size: ``[KH, KW]``, or an int for both.
        stride: ``[SH, SW]`` or an int. padding: ``'SAME'`` (TF's rule), ``'VALID'`` or
            ``((top, bottom), (left, right))``.
        data_format: None or ``'NHWC'``.
        rate: dilation (atrous convolution), an int or a pair; needs ``stride=1``.
        activation_fn: applied last; None for a linear layer.
        normalizer_fn: e.g. ``slim.batch_norm``, called as
            ``normalizer_fn(outputs, **normalizer_params)``; replaces the biases.
        weights_initializer, weights_regularizer: for ``weights`` ``[KH, KW, C, OC]``.
        biases_initializer: for ``biases`` ``[OC]``; None: no biases.
        biases_regularizer: for ``biases``.
        reuse: reuse the variables of ``scope`` (which must then be given).
        variables_collections: extra collections for the variables (a list, or a dict
            ``{"weights": [...], "biases": [...]}``).
        outputs_collections: collections for the output (end points).
        trainable: whether the variables are trained.
        scope: the variable scope; default ``Conv``, ``Conv_1``, ...

    Returns:
        A Tensor ``[N, OH, OW, OC]``.

    Raises:
        ValueError: inputs not ``[N, H, W, C]``; a channel count that differs from the
            weights being reused; a bad ``num_outputs``, ``kernel_size``, ``stride``,
            ``rate`` or ``padding``, or a VALID kernel larger than the inputs.
        TypeError: a function argument that is not a function (``activation_fn="relu"``), a
            ``normalizer_params`` that ``normalizer_fn`` does not accept, ...
        Every message names the full scope; nothing is created when the layer raises.
    """
    layer = "conv2d"
    with variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        # Check everything first: a layer that fails must leave no variables behind.
        check_layer_arguments(layer, sc.name, locals())
        inputs = prepare_inputs(inputs, layer, sc.name, rank=4)
        (kh, kw), strides, rates = window(layer, sc.name, inputs.shape, kernel_size, stride, padding, rate)

        weights = layer_variable("weights", [kh, kw, inputs.shape[-1], num_outputs], layer, sc.name,
                                 inputs.shape, initializer=weights_initializer,
                                 regularizer=weights_regularizer, trainable=trainable,
                                 collections=variable_collections(variables_collections, "weights"))
        outputs = nn_conv2d(inputs, weights, stride=strides, padding=padding, rate=rates)
        return finish(outputs, layer, sc.name, normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
                      biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
                      activation_fn=activation_fn, outputs_collections=outputs_collections,
                      trainable=trainable, variables_collections=variables_collections)


@add_arg_scope
def convolution2d_transpose(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format="NHWC",
                            activation_fn=relu, normalizer_fn=None, normalizer_params=None,
                            weights_initializer=xavier_initializer(), weights_regularizer=None,
                            biases_initializer=zeros_initializer(), biases_regularizer=None, reuse=None,
                            variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """Transposed convolution layer ("deconvolution"), as ``slim.conv2d_transpose``.

    ``weights`` are ``[KH, KW, OC, C]`` (TF's order). The output is ``[N, H*SH, W*SW, OC]``
    for SAME padding and ``[N, H*SH + max(KH - SH, 0), ...]`` for VALID. Other arguments as
    :func:`conv2d`; default scope ``Conv2d_transpose``.
    """
    layer = "conv2d_transpose"
    with variable_scope(scope, "Conv2d_transpose", [inputs], reuse=reuse) as sc:
        check_layer_arguments(layer, sc.name, locals())
        inputs = prepare_inputs(inputs, layer, sc.name, rank=4)
        (kh, kw), strides, _ = window(layer, sc.name, inputs.shape, kernel_size, stride, padding, transpose=True)

        weights = layer_variable("weights", [kh, kw, num_outputs, inputs.shape[-1]], layer, sc.name,
                                 inputs.shape, initializer=weights_initializer,
                                 regularizer=weights_regularizer, trainable=trainable,
                                 collections=variable_collections(variables_collections, "weights"))
        outputs = nn_conv2d_transpose(inputs, weights, stride=strides, padding=padding)
        return finish(outputs, layer, sc.name, normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
                      biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
                      activation_fn=activation_fn, outputs_collections=outputs_collections,
                      trainable=trainable, variables_collections=variables_collections)


def _depthwise_filters(depthwise: Tensor) -> Tensor:
    """``[KH, KW, C, M]`` depthwise weights -> dense ``[KH, KW, C, C*M]`` block-diagonal filters.

    Output channel ``c*M + m`` sees only input channel ``c`` (TF's order). A dense
    convolution with these filters is a depthwise convolution: C times the work of a
    dedicated kernel, but no new op (and its gradient comes for free).
    """
    kh, kw, channels, multiplier = depthwise.shape
    eye = np.eye(channels, dtype=depthwise.dtype).reshape(1, 1, channels, channels, 1)
    blocks = multiply(reshape(depthwise, (kh, kw, channels, 1, multiplier)), Tensor(eye))
    return reshape(blocks, (kh, kw, channels, channels * multiplier))


@add_arg_scope
def separable_convolution2d(inputs, num_outputs, kernel_size, depth_multiplier=1, stride=1, padding="SAME",
                            data_format="NHWC", rate=1, activation_fn=relu, normalizer_fn=None,
                            normalizer_params=None, weights_initializer=xavier_initializer(),
                            pointwise_initializer=None, weights_regularizer=None,
                            biases_initializer=zeros_initializer(), biases_regularizer=None, reuse=None,
                            variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """Depthwise-separable convolution, as ``slim.separable_conv2d``.

    A depthwise convolution (``depthwise_weights`` ``[KH, KW, C, depth_multiplier]``: each
    input channel convolved on its own, with ``stride`` and ``rate``), then, unless
    ``num_outputs`` is None, a pointwise 1x1 convolution (``pointwise_weights``
    ``[1, 1, C*depth_multiplier, num_outputs]``), then normalizer or biases, then activation.
    ``pointwise_initializer=None`` uses ``weights_initializer``; ``weights_regularizer``
    applies to both weights. Default scope ``SeparableConv2d``.
    """
    layer = "separable_conv2d"
    with variable_scope(scope, "SeparableConv2d", [inputs], reuse=reuse) as sc:
        check_layer_arguments(layer, sc.name, locals(), none_allowed=("num_outputs",))  # None: depthwise only
        inputs = prepare_inputs(inputs, layer, sc.name, rank=4)
        (kh, kw), strides, rates = window(layer, sc.name, inputs.shape, kernel_size, stride, padding, rate)

        channels = inputs.shape[-1]
        weights_collections = variable_collections(variables_collections, "weights")
        depthwise = layer_variable("depthwise_weights", [kh, kw, channels, depth_multiplier], layer, sc.name,
                                   inputs.shape, initializer=weights_initializer,
                                   regularizer=weights_regularizer, trainable=trainable,
                                   collections=weights_collections)
        outputs = nn_conv2d(inputs, _depthwise_filters(depthwise), stride=strides, padding=padding, rate=rates)
        if num_outputs is not None:
            pointwise = layer_variable("pointwise_weights", [1, 1, channels * depth_multiplier, num_outputs],
                                       layer, sc.name, inputs.shape,
                                       initializer=pointwise_initializer or weights_initializer,
                                       regularizer=weights_regularizer, trainable=trainable,
                                       collections=weights_collections)
            outputs = nn_conv2d(outputs, pointwise, stride=1, padding="VALID")
        else:
            num_outputs = channels * depth_multiplier
        return finish(outputs, layer, sc.name, normalizer_fn=normalizer_fn, normalizer_params=normalizer_params,
                      biases_initializer=biases_initializer, biases_regularizer=biases_regularizer,
                      activation_fn=activation_fn, outputs_collections=outputs_collections,
                      trainable=trainable, variables_collections=variables_collections)


#: TF-Slim's short names: aliases, as in tf_slim (so ``slim.conv2d.__name__`` is
#: ``'convolution2d'``, and ``slim.repeat(net, 2, slim.conv2d)`` names its scopes
#: ``Repeat/convolution2d_1``, ``Repeat/convolution2d_2``, as TF-Slim does)
conv2d = convolution2d
conv2d_transpose = convolution2d_transpose
separable_conv2d = separable_convolution2d
