"""LeNet (TF-Slim's ``nets/lenet.py``): two 5x5 convolutions with pooling, fc 1024, logits.

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(lenet_arg_scope()):
...     logits, end_points = lenet(slim.tensor(np.zeros((2, 28, 28, 1), dtype=np.float32)))
>>> logits.shape, end_points["Predictions"].shape
((2, 10), (2, 10))
"""
from __future__ import annotations

from minislim.framework.arg_scope import arg_scope
from minislim.framework.initializers import truncated_normal_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim import layers
from minislim.ops.activations import relu

__all__ = ["lenet", "lenet_arg_scope"]


def lenet(images, num_classes: int = 10, is_training: bool = False, dropout_keep_prob: float = 0.5,
          prediction_fn=layers.softmax, scope: str = "LeNet"):
    """LeNet as in TF-Slim.

    Args:
        images: ``[N, 28, 28, C]`` images.
        num_classes: outputs of the last layer; 0 or None returns the fc3 features.
        is_training: whether dropout is active.
        dropout_keep_prob: keep probability of the dropout before the logits.
        prediction_fn: turns logits into predictions (``end_points["Predictions"]``).
        scope: the variable scope.

    Returns:
        ``(logits [N, num_classes], end_points)``.
    """
    end_points = {}
    with variable_scope(scope, "LeNet"):
        net = end_points["conv1"] = layers.conv2d(images, 32, [5, 5], scope="conv1")
        net = end_points["pool1"] = layers.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = end_points["conv2"] = layers.conv2d(net, 64, [5, 5], scope="conv2")
        net = end_points["pool2"] = layers.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = end_points["Flatten"] = layers.flatten(net)
        net = end_points["fc3"] = layers.fully_connected(net, 1024, scope="fc3")
        if not num_classes:
            return net, end_points
        net = end_points["dropout3"] = layers.dropout(net, dropout_keep_prob, is_training=is_training,
                                                      scope="dropout3")
        logits = end_points["Logits"] = layers.fully_connected(net, num_classes, activation_fn=None,
                                                               scope="fc4")
    end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


lenet.default_image_size = 28


def lenet_arg_scope(weight_decay: float = 0.0):
    """TF-Slim's LeNet defaults: ReLU, truncated-normal(0.1) weights, L2 weight decay."""
    with arg_scope([layers.conv2d, layers.fully_connected],
                             weights_regularizer=l2_regularizer(weight_decay),
                             weights_initializer=truncated_normal_initializer(stddev=0.1),
                             activation_fn=relu) as sc:
        return sc
