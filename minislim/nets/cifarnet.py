"""CifarNet (TF-Slim's ``nets/cifarnet.py``): two 5x5 convolutions with local response
normalisation, fc 384, fc 192, logits.

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(cifarnet_arg_scope()):
...     logits, end_points = cifarnet(slim.tensor(np.zeros((2, 32, 32, 3), dtype=np.float32)))
>>> logits.shape, end_points["fc4"].shape
((2, 10), (2, 192))
"""
from __future__ import annotations

from minislim.framework.arg_scope import arg_scope
from minislim.framework.initializers import constant_initializer, truncated_normal_initializer, zeros_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim import layers
from minislim.ops.activations import relu
from minislim.ops.lrn import local_response_normalization

__all__ = ["cifarnet", "cifarnet_arg_scope"]


def cifarnet(images, num_classes: int = 10, is_training: bool = False, dropout_keep_prob: float = 0.5,
             prediction_fn=layers.softmax, scope: str = "CifarNet"):
    """CifarNet as in TF-Slim.

    Args:
        images: ``[N, 32, 32, 3]`` images.
        num_classes: outputs of the last layer; 0 or None returns the fc4 features.
        is_training: whether dropout is active.
        dropout_keep_prob: keep probability of the dropout after fc3.
        prediction_fn: turns logits into predictions.
        scope: the variable scope.

    Returns:
        ``(logits [N, num_classes], end_points)``.
    """
    end_points = {}
    with variable_scope(scope, "CifarNet"):
        net = end_points["conv1"] = layers.conv2d(images, 64, [5, 5], scope="conv1")
        net = end_points["pool1"] = layers.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = local_response_normalization(net, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
        net = end_points["conv2"] = layers.conv2d(net, 64, [5, 5], scope="conv2")
        net = local_response_normalization(net, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
        net = end_points["pool2"] = layers.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = end_points["Flatten"] = layers.flatten(net)
        net = end_points["fc3"] = layers.fully_connected(net, 384, scope="fc3")
        net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout3")
        net = end_points["fc4"] = layers.fully_connected(net, 192, scope="fc4")
        if not num_classes:
            return net, end_points
        logits = end_points["Logits"] = layers.fully_connected(
            net, num_classes, biases_initializer=zeros_initializer(),
            weights_initializer=truncated_normal_initializer(stddev=1 / 192.0),
            weights_regularizer=None, activation_fn=None, scope="logits")
    end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


cifarnet.default_image_size = 32


def cifarnet_arg_scope(weight_decay: float = 0.004):
    """TF-Slim's CifarNet defaults."""
    with arg_scope([layers.conv2d], activation_fn=relu,
                             weights_initializer=truncated_normal_initializer(stddev=5e-2)):
        with arg_scope([layers.fully_connected], activation_fn=relu,
                                 biases_initializer=constant_initializer(0.1),
                                 weights_initializer=truncated_normal_initializer(stddev=0.04),
                                 weights_regularizer=l2_regularizer(weight_decay)) as sc:
            return sc
