"""Inception V3 with TF-Slim's scopes, end points and defaults (images 299x299).

The trunk is a stem of plain convolutions (VALID) and then eleven mixed blocks (SAME).
Each mixed block is a list of branches; each branch a list of layers
``(kind, depth, kernel, stride, padding, scope)`` run one after the other, or a *split*
(``"split"``: two convolutions applied to the same input and joined), exactly as in
TF-Slim's ``inception_v3.py``, names and all (``Mixed_5c``'s ``Conv_1_0c_5x5`` included).
``depth_multiplier`` thins every layer (never below ``min_depth``).

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(inception_v3_arg_scope()):
...     net, points = inception_v3_base(slim.tensor(np.zeros((1, 75, 75, 3), np.float32)),
...                                     final_endpoint="Mixed_5b", depth_multiplier=0.25)
>>> net.shape
(1, 7, 7, 72)
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

__all__ = ["inception_v3", "inception_v3_base", "inception_v3_arg_scope"]


def _c(depth, kernel, scope, stride=1, padding=None):
    """One convolution of a branch: depth, [kh, kw], scope (stride 1 and SAME unless given)."""
    return ("conv", depth, kernel, stride, padding, scope)


def _block_5(last_depth: int, second_scopes=("Conv2d_0a_1x1", "Conv2d_0b_5x5")):
    return [[_c(64, [1, 1], "Conv2d_0a_1x1")],
            [_c(48, [1, 1], second_scopes[0]), _c(64, [5, 5], second_scopes[1])],
            [_c(64, [1, 1], "Conv2d_0a_1x1"), _c(96, [3, 3], "Conv2d_0b_3x3"), _c(96, [3, 3], "Conv2d_0c_3x3")],
            [("avg", 0, [3, 3], 1, None, "AvgPool_0a_3x3"), _c(last_depth, [1, 1], "Conv2d_0b_1x1")]]


def _block_6(middle: int):
    return [[_c(192, [1, 1], "Conv2d_0a_1x1")],
            [_c(middle, [1, 1], "Conv2d_0a_1x1"), _c(middle, [1, 7], "Conv2d_0b_1x7"),
             _c(192, [7, 1], "Conv2d_0c_7x1")],
            [_c(middle, [1, 1], "Conv2d_0a_1x1"), _c(middle, [7, 1], "Conv2d_0b_7x1"),
             _c(middle, [1, 7], "Conv2d_0c_1x7"), _c(middle, [7, 1], "Conv2d_0d_7x1"),
             _c(192, [1, 7], "Conv2d_0e_1x7")],
            [("avg", 0, [3, 3], 1, None, "AvgPool_0a_3x3"), _c(192, [1, 1], "Conv2d_0b_1x1")]]


def _block_7(split_1_scope: str):
    return [[_c(320, [1, 1], "Conv2d_0a_1x1")],
            [_c(384, [1, 1], "Conv2d_0a_1x1"),
             ("split", _c(384, [1, 3], "Conv2d_0b_1x3"), _c(384, [3, 1], split_1_scope))],
            [_c(448, [1, 1], "Conv2d_0a_1x1"), _c(384, [3, 3], "Conv2d_0b_3x3"),
             ("split", _c(384, [1, 3], "Conv2d_0c_1x3"), _c(384, [3, 1], "Conv2d_0d_3x1"))],
            [("avg", 0, [3, 3], 1, None, "AvgPool_0a_3x3"), _c(192, [1, 1], "Conv2d_0b_1x1")]]


STEM = [_c(32, [3, 3], "Conv2d_1a_3x3", stride=2), _c(32, [3, 3], "Conv2d_2a_3x3"),
        _c(64, [3, 3], "Conv2d_2b_3x3", padding="SAME"), ("max", 0, [3, 3], 2, None, "MaxPool_3a_3x3"),
        _c(80, [1, 1], "Conv2d_3b_1x1"), _c(192, [3, 3], "Conv2d_4a_3x3"),
        ("max", 0, [3, 3], 2, None, "MaxPool_5a_3x3")]

MIXED = [
    ("Mixed_5b", _block_5(32)),
    ("Mixed_5c", _block_5(64, ("Conv2d_0b_1x1", "Conv_1_0c_5x5"))),
    ("Mixed_5d", _block_5(64)),
    ("Mixed_6a", [[_c(384, [3, 3], "Conv2d_1a_1x1", 2, "VALID")],
                  [_c(64, [1, 1], "Conv2d_0a_1x1"), _c(96, [3, 3], "Conv2d_0b_3x3"),
                   _c(96, [3, 3], "Conv2d_1a_1x1", 2, "VALID")],
                  [("max", 0, [3, 3], 2, "VALID", "MaxPool_1a_3x3")]]),
    ("Mixed_6b", _block_6(128)),
    ("Mixed_6c", _block_6(160)),
    ("Mixed_6d", _block_6(160)),
    ("Mixed_6e", _block_6(192)),
    ("Mixed_7a", [[_c(192, [1, 1], "Conv2d_0a_1x1"), _c(320, [3, 3], "Conv2d_1a_3x3", 2, "VALID")],
                  [_c(192, [1, 1], "Conv2d_0a_1x1"), _c(192, [1, 7], "Conv2d_0b_1x7"),
                   _c(192, [7, 1], "Conv2d_0c_7x1"), _c(192, [3, 3], "Conv2d_1a_3x3", 2, "VALID")],
                  [("max", 0, [3, 3], 2, "VALID", "MaxPool_1a_3x3")]]),
    ("Mixed_7b", _block_7("Conv2d_0b_3x1")),
    ("Mixed_7c", _block_7("Conv2d_0c_3x1")),
]


def _layer(net, spec, depth):
    if spec[0] == "split":
        return concat([_layer(net, spec[1], depth), _layer(net, spec[2], depth)], axis=3)
    kind, size, kernel, stride, padding, scope = spec
    extra = {"padding": padding} if padding else {}
    if kind == "conv":
        return layers.conv2d(net, depth(size), kernel, stride=stride, scope=scope, **extra)
    pool = layers.max_pool2d if kind == "max" else layers.avg_pool2d
    return pool(net, kernel, stride=stride, scope=scope, **extra)


def inception_v3_base(inputs, final_endpoint: str = "Mixed_7c", min_depth: int = 16,
                      depth_multiplier: float = 1.0, scope: str = "InceptionV3"):
    """The trunk from ``Conv2d_1a_3x3`` to ``final_endpoint``; returns ``(net, end_points)``.

    Raises:
        ValueError: an unknown ``final_endpoint`` or ``depth_multiplier <= 0``.
    """
    names = [spec[5] for spec in STEM] + [name for name, _ in MIXED]
    if final_endpoint not in names:
        raise ValueError(f"inception_v3_base: unknown final_endpoint {final_endpoint!r}; one of {names}")
    if depth_multiplier <= 0:
        raise ValueError(f"inception_v3_base: depth_multiplier must be > 0, got {depth_multiplier}")

    def depth(d):
        return max(int(d * depth_multiplier), min_depth)

    end_points = {}
    with variable_scope(scope, "InceptionV3"):
        with arg_scope([layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="VALID"):
            net = inputs
            for spec in STEM:
                net = _layer(net, spec, depth)
                end_points[spec[5]] = net
                if spec[5] == final_endpoint:
                    return net, end_points
        with arg_scope([layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="SAME"):
            for end_point, branches in MIXED:
                with variable_scope(end_point):
                    outputs = []
                    for number, branch in enumerate(branches):
                        with variable_scope(f"Branch_{number}"):
                            out = net
                            for spec in branch:
                                out = _layer(out, spec, depth)
                            outputs.append(out)
                    net = concat(outputs, axis=3)
                end_points[end_point] = net
                if end_point == final_endpoint:
                    return net, end_points
    raise AssertionError("unreachable")


def _reduced_kernel(net, kernel):
    """The pooling window, shrunk to the map for inputs smaller than 299x299."""
    return [min(net.shape[1], kernel[0]), min(net.shape[2], kernel[1])]


def inception_v3(inputs, num_classes: int = 1000, is_training: bool = True, dropout_keep_prob: float = 0.8,
                 min_depth: int = 16, depth_multiplier: float = 1.0, prediction_fn=layers.softmax,
                 spatial_squeeze: bool = True, reuse=None, create_aux_logits: bool = True,
                 scope: str = "InceptionV3"):
    """Inception V3 for classification, with the auxiliary head on ``Mixed_6e``.

    Returns:
        ``(logits, end_points)``; end points include ``AuxLogits``, ``PreLogits``,
        ``Logits`` and ``Predictions``.
    """
    def depth(d):
        return max(int(d * depth_multiplier), min_depth)

    with variable_scope(scope, "InceptionV3", reuse=reuse) as sc:
        with arg_scope([layers.batch_norm, layers.dropout], is_training=is_training):
            net, end_points = inception_v3_base(inputs, scope=sc, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier)
            if create_aux_logits and num_classes:
                with arg_scope([layers.conv2d, layers.max_pool2d, layers.avg_pool2d], stride=1, padding="SAME"):
                    with variable_scope("AuxLogits"):
                        aux = layers.avg_pool2d(end_points["Mixed_6e"], [5, 5], stride=3, padding="VALID",
                                                scope="AvgPool_1a_5x5")
                        aux = layers.conv2d(aux, depth(128), [1, 1], scope="Conv2d_1b_1x1")
                        kernel = _reduced_kernel(aux, [5, 5])
                        aux = layers.conv2d(aux, depth(768), kernel, weights_initializer=truncated_normal_initializer(
                            0.0, 0.01), padding="VALID", scope="Conv2d_2a_{}x{}".format(*kernel))
                        aux = layers.conv2d(aux, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                            weights_initializer=truncated_normal_initializer(0.0, 0.001),
                                            scope="Conv2d_2b_1x1")
                        if spatial_squeeze:
                            aux = squeeze_spatial(aux, sc.name + "/AuxLogits")
                        end_points["AuxLogits"] = aux
            with variable_scope("Logits"):
                kernel = _reduced_kernel(net, [8, 8])
                net = layers.avg_pool2d(net, kernel, padding="VALID", scope="AvgPool_1a_{}x{}".format(*kernel))
                net = layers.dropout(net, keep_prob=dropout_keep_prob, scope="Dropout_1b")
                end_points["PreLogits"] = net
                logits = layers.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                       scope="Conv2d_1c_1x1")
                if spatial_squeeze:
                    logits = squeeze_spatial(logits, sc.name)
            end_points["Logits"] = logits
            end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


inception_v3.default_image_size = 299


def inception_v3_arg_scope(weight_decay: float = 0.00004, batch_norm_decay: float = 0.9997,
                           batch_norm_epsilon: float = 0.001):
    """L2 weight decay, He initialisation, ReLU, batch norm after every convolution."""
    batch_norm_params = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon}
    with arg_scope([layers.conv2d, layers.fully_connected], weights_regularizer=l2_regularizer(weight_decay)):
        with arg_scope([layers.conv2d], weights_initializer=variance_scaling_initializer(), activation_fn=relu,
                       normalizer_fn=layers.batch_norm, normalizer_params=batch_norm_params) as sc:
            return sc
