"""OverFeat with TF-Slim's scopes, end points and defaults (``nets/overfeat.py``).

Its fully connected layers are convolutions (``fc6`` 6x6 VALID on a 231x231 image).

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(overfeat_arg_scope()):
...     logits, end_points = overfeat(slim.tensor(np.zeros((1, 231, 231, 3), np.float32)), num_classes=10,
...                                   is_training=False)
>>> logits.shape, end_points["overfeat/pool5"].shape
((1, 10), (1, 6, 6, 1024))
"""
from __future__ import annotations

from minislim import layers
from minislim.framework.arg_scope import arg_scope
from minislim.framework.initializers import constant_initializer, truncated_normal_initializer, zeros_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import convert_collection_to_dict
from minislim.nets.alexnet import squeeze_spatial
from minislim.ops.activations import relu

__all__ = ["overfeat", "overfeat_arg_scope"]


def overfeat_arg_scope(weight_decay: float = 0.0005):
    """ReLU, L2 weight decay, zero biases, SAME convolutions, VALID max pooling."""
    with arg_scope([layers.conv2d, layers.fully_connected], activation_fn=relu,
                   weights_regularizer=l2_regularizer(weight_decay), biases_initializer=zeros_initializer()):
        with arg_scope([layers.conv2d], padding="SAME"):
            with arg_scope([layers.max_pool2d], padding="VALID") as arg_sc:
                return arg_sc


def overfeat(inputs, num_classes: int = 1000, is_training: bool = True, dropout_keep_prob: float = 0.5,
             spatial_squeeze: bool = True, scope: str = "overfeat"):
    """OverFeat (fast model); arguments as :func:`minislim.nets.alexnet.alexnet_v2`, images 231x231."""
    with variable_scope(scope, "overfeat") as sc:
        collection = sc.name + "_end_points"
        with arg_scope([layers.conv2d, layers.fully_connected, layers.max_pool2d], outputs_collections=[collection]):
            net = layers.conv2d(inputs, 64, [11, 11], 4, padding="VALID", scope="conv1")
            net = layers.max_pool2d(net, [2, 2], scope="pool1")
            net = layers.conv2d(net, 256, [5, 5], padding="VALID", scope="conv2")
            net = layers.max_pool2d(net, [2, 2], scope="pool2")
            net = layers.conv2d(net, 512, [3, 3], scope="conv3")
            net = layers.conv2d(net, 1024, [3, 3], scope="conv4")
            net = layers.conv2d(net, 1024, [3, 3], scope="conv5")
            net = layers.max_pool2d(net, [2, 2], scope="pool5")
            with arg_scope([layers.conv2d], weights_initializer=truncated_normal_initializer(0.0, 0.005),
                           biases_initializer=constant_initializer(0.1)):
                net = layers.conv2d(net, 3072, [6, 6], padding="VALID", scope="fc6")
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


overfeat.default_image_size = 231
