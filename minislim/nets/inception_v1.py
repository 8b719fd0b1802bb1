"""Inception V1 (GoogLeNet) with TF-Slim's scopes, end points and defaults.

The network is a table (:data:`INCEPTION_V1_LAYERS`): plain convolutions and poolings,
and *mixed* blocks of four parallel branches joined along the channels: a 1x1
convolution, 1x1 then 3x3, 1x1 then 3x3 (5x5 in the paper; TF-Slim uses 3x3), and a 3x3
max pool then 1x1. Names follow TF-Slim's checkpoints exactly, including its quirk that
``Mixed_5b``'s third branch names its 3x3 convolution ``Conv2d_0a_3x3``.

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(inception_v1_arg_scope()):
...     net, end_points = inception_v1_base(slim.tensor(np.zeros((1, 64, 64, 3), np.float32)),
...                                         final_endpoint="Mixed_3b")
>>> net.shape, list(end_points)[:3]
((1, 8, 8, 256), ['Conv2d_1a_7x7', 'MaxPool_2a_3x3', 'Conv2d_2b_1x1'])
"""
from __future__ import annotations

from minislim import layers
from minislim.framework.arg_scope import arg_scope
from minislim.framework.initializers import truncated_normal_initializer, variance_scaling_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim.nets.alexnet import squeeze_spatial
from minislim.ops.activations import relu
from minislim.ops.shape_ops import concat

__all__ = ["inception_v1", "inception_v1_base", "inception_v1_arg_scope", "INCEPTION_V1_LAYERS"]

# (end point, kind, arguments): "conv" (depth, kernel, stride), "max" (kernel, stride),
# "mixed" (branch 0 depth, branch 1 depths, branch 2 depths, branch 3 depth)
INCEPTION_V1_LAYERS = [
    ("Conv2d_1a_7x7", "conv", (64, 7, 2)),
    ("MaxPool_2a_3x3", "max", (3, 2)),
    ("Conv2d_2b_1x1", "conv", (64, 1, 1)),
    ("Conv2d_2c_3x3", "conv", (192, 3, 1)),
    ("MaxPool_3a_3x3", "max", (3, 2)),
    ("Mixed_3b", "mixed", (64, (96, 128), (16, 32), 32)),
    ("Mixed_3c", "mixed", (128, (128, 192), (32, 96), 64)),
    ("MaxPool_4a_3x3", "max", (3, 2)),
    ("Mixed_4b", "mixed", (192, (96, 208), (16, 48), 64)),
    ("Mixed_4c", "mixed", (160, (112, 224), (24, 64), 64)),
    ("Mixed_4d", "mixed", (128, (128, 256), (24, 64), 64)),
    ("Mixed_4e", "mixed", (112, (144, 288), (32, 64), 64)),
    ("Mixed_4f", "mixed", (256, (160, 320), (32, 128), 128)),
    ("MaxPool_5a_2x2", "max", (2, 2)),
    ("Mixed_5b", "mixed", (256, (160, 320), (32, 128), 128)),
    ("Mixed_5c", "mixed", (384, (192, 384), (48, 128), 128)),
]


def _mixed(net, end_point: str, depths):
    d0, (d1a, d1b), (d2a, d2b), d3 = depths
    with variable_scope(end_point):
        with variable_scope("Branch_0"):
            branch_0 = layers.conv2d(net, d0, [1, 1], scope="Conv2d_0a_1x1")
        with variable_scope("Branch_1"):
            branch_1 = layers.conv2d(net, d1a, [1, 1], scope="Conv2d_0a_1x1")
            branch_1 = layers.conv2d(branch_1, d1b, [3, 3], scope="Conv2d_0b_3x3")
        with variable_scope("Branch_2"):
            branch_2 = layers.conv2d(net, d2a, [1, 1], scope="Conv2d_0a_1x1")
            second = "Conv2d_0a_3x3" if end_point == "Mixed_5b" else "Conv2d_0b_3x3"  # TF-Slim's name
            branch_2 = layers.conv2d(branch_2, d2b, [3, 3], scope=second)
        with variable_scope("Branch_3"):
            branch_3 = layers.max_pool2d(net, [3, 3], scope="MaxPool_0a_3x3")
            branch_3 = layers.conv2d(branch_3, d3, [1, 1], scope="Conv2d_0b_1x1")
        return concat([branch_0, branch_1, branch_2, branch_3], axis=3)


def inception_v1_base(inputs, final_endpoint: str = "Mixed_5c", scope: str = "InceptionV1"):
    """The convolutional trunk up to ``final_endpoint``; returns ``(net, end_points)``.

    Raises:
        ValueError: ``final_endpoint`` is not one of :data:`INCEPTION_V1_LAYERS`' names.
    """
    names = [name for name, _, _ in INCEPTION_V1_LAYERS]
    if final_endpoint not in names:
        raise ValueError(f"inception_v1_base: unknown final_endpoint {final_endpoint!r}; one of {names}")
    end_points = {}
    with variable_scope(scope, "InceptionV1"):
        with arg_scope([layers.conv2d, layers.fully_connected], weights_initializer=truncated_normal_initializer(
                0.0, 0.01)):
            with arg_scope([layers.conv2d, layers.max_pool2d], stride=1, padding="SAME"):
                net = inputs
                for end_point, kind, args in INCEPTION_V1_LAYERS:
                    if kind == "conv":
                        depth, kernel, stride = args
                        net = layers.conv2d(net, depth, [kernel, kernel], stride=stride, scope=end_point)
                    elif kind == "max":
                        kernel, stride = args
                        net = layers.max_pool2d(net, [kernel, kernel], stride=stride, scope=end_point)
                    else:
                        net = _mixed(net, end_point, args)
                    end_points[end_point] = net
                    if end_point == final_endpoint:
                        return net, end_points
    raise AssertionError("unreachable")


def inception_v1(inputs, num_classes: int = 1000, is_training: bool = True, dropout_keep_prob: float = 0.8,
                 prediction_fn=layers.softmax, spatial_squeeze: bool = True, reuse=None,
                 scope: str = "InceptionV1"):
    """Inception V1 for classification (the zoo checkpoint has 1001 classes: 0 is background).

    Args:
        inputs: ``[N, 224, 224, 3]`` images scaled to [-1, 1].
        num_classes, is_training, dropout_keep_prob, spatial_squeeze, reuse, scope: as TF-Slim.
        prediction_fn: turns logits into ``end_points["Predictions"]``.

    Returns:
        ``(logits, end_points)`` with end points ``Conv2d_1a_7x7`` ... ``Mixed_5c``,
        ``Logits`` and ``Predictions``.
    """
    with variable_scope(scope, "InceptionV1", reuse=reuse) as sc:
        with arg_scope([layers.batch_norm, layers.dropout], is_training=is_training):
            net, end_points = inception_v1_base(inputs, scope=sc)
            with variable_scope("Logits"):
                net = layers.avg_pool2d(net, [7, 7], stride=1, scope="MaxPool_0a_7x7")
                net = layers.dropout(net, dropout_keep_prob, scope="Dropout_0b")
                logits = layers.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                       scope="Conv2d_0c_1x1")
                if spatial_squeeze:
                    logits = squeeze_spatial(logits, sc.name)
                end_points["Logits"] = logits
                end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


inception_v1.default_image_size = 224


def inception_v1_arg_scope(weight_decay: float = 0.00004, use_batch_norm: bool = True):
    """L2 weight decay, He (variance scaling) initialisation, ReLU, batch norm (decay 0.9997)."""
    batch_norm_params = {"decay": 0.9997, "epsilon": 0.001}
    with arg_scope([layers.conv2d, layers.fully_connected], weights_regularizer=l2_regularizer(weight_decay)):
        with arg_scope([layers.conv2d], weights_initializer=variance_scaling_initializer(), activation_fn=relu,
                       normalizer_fn=layers.batch_norm if use_batch_norm else None,
                       normalizer_params=batch_norm_params if use_batch_norm else {}) as sc:
            return sc
