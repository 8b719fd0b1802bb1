"""AlexNet v2 with TF-Slim's scopes, end points and defaults (``nets/alexnet.py``).

The fully connected layers are convolutions (``fc6`` 5x5 VALID, ``fc7``/``fc8`` 1x1), so
a 224x224 image gives a 1x1 map before ``fc8``; ``spatial_squeeze`` then drops the two
unit axes. Variable names (``alexnet_v2/conv1/weights``, ...) are those of the TF-Slim
checkpoints.

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(alexnet_v2_arg_scope()):
...     logits, end_points = alexnet_v2(slim.tensor(np.zeros((1, 224, 224, 3), np.float32)),
...                                     num_classes=10, is_training=False)
>>> logits.shape, end_points["alexnet_v2/pool5"].shape
((1, 10), (1, 5, 5, 256))
"""
from __future__ import annotations

from minislim import layers
from minislim.framework.arg_scope import arg_scope
from minislim.framework.initializers import constant_initializer, truncated_normal_initializer, zeros_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import convert_collection_to_dict
from minislim.ops.activations import relu

__all__ = ["alexnet_v2", "alexnet_v2_arg_scope", "squeeze_spatial"]


def alexnet_v2_arg_scope(weight_decay: float = 0.0005):
    """ReLU, L2 weight decay, biases 0.1, SAME convolutions, VALID max pooling."""
    with arg_scope([layers.conv2d, layers.fully_connected], activation_fn=relu,
                   biases_initializer=constant_initializer(0.1), weights_regularizer=l2_regularizer(weight_decay)):
        with arg_scope([layers.conv2d], padding="SAME"):
            with arg_scope([layers.max_pool2d], padding="VALID") as arg_sc:
                return arg_sc


def squeeze_spatial(net, where: str):
    """``[N, 1, 1, C]`` -> ``[N, C]`` (TF's ``squeeze(net, [1, 2])``), or a clear error."""
    if tuple(net.shape[1:3]) != (1, 1):
        raise ValueError(f"{where}: spatial_squeeze needs a 1x1 map, got shape {tuple(net.shape)}; use the net's "
                         "default image size or spatial_squeeze=False")
    return net.reshape(net.shape[0], net.shape[3])


def alexnet_v2(inputs, num_classes: int = 1000, is_training: bool = True, dropout_keep_prob: float = 0.5,
               spatial_squeeze: bool = True, scope: str = "alexnet_v2"):
    """AlexNet v2 (one-GPU cuda-convnet2 layout, no LRN).

    Args:
        inputs: ``[N, 224, 224, 3]`` images.
        num_classes: outputs of ``fc8``.
        is_training: whether dropout is active.
        dropout_keep_prob: keep probability of ``dropout6``/``dropout7``.
        spatial_squeeze: logits ``[N, num_classes]`` instead of ``[N, 1, 1, num_classes]``.
        scope: the variable scope.

    Returns:
        ``(logits, end_points)``, end points keyed by full scope (``alexnet_v2/conv1``, ...).
    """
    with variable_scope(scope, "alexnet_v2") as sc:
        collection = sc.name + "_end_points"
        with arg_scope([layers.conv2d, layers.fully_connected, layers.max_pool2d], outputs_collections=[collection]):
            net = layers.conv2d(inputs, 64, [11, 11], 4, padding="VALID", scope="conv1")
            net = layers.max_pool2d(net, [3, 3], 2, scope="pool1")
            net = layers.conv2d(net, 192, [5, 5], scope="conv2")
            net = layers.max_pool2d(net, [3, 3], 2, scope="pool2")
            net = layers.conv2d(net, 384, [3, 3], scope="conv3")
            net = layers.conv2d(net, 384, [3, 3], scope="conv4")
            net = layers.conv2d(net, 256, [3, 3], scope="conv5")
            net = layers.max_pool2d(net, [3, 3], 2, scope="pool5")
            with arg_scope([layers.conv2d], weights_initializer=truncated_normal_initializer(0.0, 0.005),
                           biases_initializer=constant_initializer(0.1)):
                net = layers.conv2d(net, 4096, [5, 5], padding="VALID", scope="fc6")
                net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout6")
                net = layers.conv2d(net, 4096, [1, 1], scope="fc7")
                net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout7")
                net = layers.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                    biases_initializer=zeros_initializer(), scope="fc8")
            end_points = convert_collection_to_dict(collection)
            if spatial_squeeze:
                net = squeeze_spatial(net, sc.name)
                end_points[sc.name + "/fc8"] = net
            return net, end_points


alexnet_v2.default_image_size = 224
