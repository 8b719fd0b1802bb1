"""MobileNet v1 with TF-Slim's scopes, end points, defaults and depth multipliers.

The body is a table (:data:`MOBILENET_V1_CONV_DEFS`): one 3x3 convolution, then 13
depthwise-separable layers, each a 3x3 depthwise convolution (``Conv2d_<i>_depthwise``,
``depthwise_weights``) and a 1x1 pointwise convolution (``Conv2d_<i>_pointwise``), both
followed by batch norm and ReLU6. ``depth_multiplier`` (0.25, 0.5, 0.75, 1.0 in the zoo)
thins every layer to ``max(int(depth * multiplier), min_depth)``. The classifier is an
average pool, dropout and a 1x1 convolution ``Logits/Conv2d_1c_1x1``; the zoo's
checkpoints (``mobilenet_v1_1.0_224.ckpt``, ...) have 1001 classes.

TF-Slim's own table of the 1.0/224 base counts 3,185,088 convolution weights; the
0.75/128 base 1,800,144.

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(mobilenet_v1_arg_scope(is_training=False)):
...     logits, end_points = mobilenet_v1(slim.tensor(np.zeros((1, 64, 64, 3), np.float32)), num_classes=5,
...                                       depth_multiplier=0.25)
>>> logits.shape, end_points["Conv2d_13_pointwise"].shape
((1, 5), (1, 2, 2, 256))
"""
from __future__ import annotations

from collections import namedtuple

from minislim import layers
from minislim.framework.arg_scope import arg_scope
from minislim.framework.initializers import truncated_normal_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim.nets.alexnet import squeeze_spatial
from minislim.ops.activations import relu6

__all__ = ["mobilenet_v1", "mobilenet_v1_base", "mobilenet_v1_arg_scope", "MOBILENET_V1_CONV_DEFS", "Conv",
           "DepthSepConv"]

Conv = namedtuple("Conv", ["kernel", "stride", "depth"])
DepthSepConv = namedtuple("DepthSepConv", ["kernel", "stride", "depth"])

MOBILENET_V1_CONV_DEFS = [Conv([3, 3], 2, 32)] + [DepthSepConv([3, 3], stride, depth) for stride, depth in [
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512), (1, 512), (1, 512), (1, 512), (1, 512),
    (2, 1024), (1, 1024)]]


def mobilenet_v1_base(inputs, final_endpoint: str = "Conv2d_13_pointwise", min_depth: int = 8,
                      depth_multiplier: float = 1.0, conv_defs=None, output_stride=None, scope=None):
    """The body up to ``final_endpoint``; returns ``(net, end_points)``.

    ``output_stride`` (8, 16 or 32) switches to atrous convolution once the running
    stride reaches it.

    Raises:
        ValueError: ``depth_multiplier <= 0``, a bad ``output_stride``, an unknown end point.
    """
    if depth_multiplier <= 0:
        raise ValueError(f"mobilenet_v1_base: depth_multiplier must be > 0, got {depth_multiplier}")
    if output_stride is not None and output_stride not in (8, 16, 32):
        raise ValueError(f"mobilenet_v1_base: output_stride must be 8, 16 or 32, got {output_stride}")

    def depth(d):
        return max(int(d * depth_multiplier), min_depth)

    end_points = {}
    conv_defs = conv_defs or MOBILENET_V1_CONV_DEFS
    with variable_scope(scope, "MobilenetV1"):
        with arg_scope([layers.conv2d, layers.separable_conv2d], padding="SAME"):
            current_stride, rate = 1, 1
            net = inputs
            for i, conv_def in enumerate(conv_defs):
                if output_stride is not None and current_stride == output_stride:
                    layer_stride, layer_rate = 1, rate
                    rate *= conv_def.stride
                else:
                    layer_stride, layer_rate = conv_def.stride, 1
                    current_stride *= conv_def.stride
                if isinstance(conv_def, Conv):
                    end_point = f"Conv2d_{i}"
                    net = layers.conv2d(net, depth(conv_def.depth), conv_def.kernel, stride=conv_def.stride,
                                        normalizer_fn=layers.batch_norm, scope=end_point)
                    end_points[end_point] = net
                    if end_point == final_endpoint:
                        return net, end_points
                    continue
                end_point = f"Conv2d_{i}_depthwise"
                net = layers.separable_conv2d(net, None, conv_def.kernel, depth_multiplier=1, stride=layer_stride,
                                              rate=layer_rate, normalizer_fn=layers.batch_norm, scope=end_point)
                end_points[end_point] = net
                if end_point == final_endpoint:
                    return net, end_points
                end_point = f"Conv2d_{i}_pointwise"
                net = layers.conv2d(net, depth(conv_def.depth), [1, 1], stride=1, normalizer_fn=layers.batch_norm,
                                    scope=end_point)
                end_points[end_point] = net
                if end_point == final_endpoint:
                    return net, end_points
    raise ValueError(f"mobilenet_v1_base: unknown final_endpoint {final_endpoint!r}")


def mobilenet_v1(inputs, num_classes: int = 1000, dropout_keep_prob: float = 0.999, is_training: bool = True,
                 min_depth: int = 8, depth_multiplier: float = 1.0, conv_defs=None, prediction_fn=layers.softmax,
                 spatial_squeeze: bool = True, reuse=None, scope: str = "MobilenetV1"):
    """MobileNet v1 for classification; returns ``(logits, end_points)``.

    Raises:
        ValueError: ``inputs`` is not ``[N, H, W, C]``.
    """
    if len(inputs.shape) != 4:
        raise ValueError(f"mobilenet_v1: inputs must be [N, H, W, C], got shape {tuple(inputs.shape)}")
    with variable_scope(scope, "MobilenetV1", reuse=reuse) as sc:
        with arg_scope([layers.batch_norm, layers.dropout], is_training=is_training):
            net, end_points = mobilenet_v1_base(inputs, scope=sc, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier, conv_defs=conv_defs)
            with variable_scope("Logits"):
                kernel = [min(net.shape[1], 7), min(net.shape[2], 7)]
                net = layers.avg_pool2d(net, kernel, padding="VALID", scope="AvgPool_1a")
                end_points["AvgPool_1a"] = net
                net = layers.dropout(net, keep_prob=dropout_keep_prob, scope="Dropout_1b")
                logits = layers.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                       scope="Conv2d_1c_1x1")
                if spatial_squeeze:
                    logits = squeeze_spatial(logits, sc.name)
            end_points["Logits"] = logits
            if prediction_fn:
                end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


mobilenet_v1.default_image_size = 224


def mobilenet_v1_arg_scope(is_training: bool = True, weight_decay: float = 0.00004, stddev: float = 0.09,
                           regularize_depthwise: bool = False):
    """Truncated-normal weights (stddev 0.09), ReLU6, batch norm with gamma (decay 0.9997),
    L2 decay on the convolutions (on the depthwise ones only if ``regularize_depthwise``)."""
    batch_norm_params = {"is_training": is_training, "center": True, "scale": True, "decay": 0.9997,
                         "epsilon": 0.001}
    regularizer = l2_regularizer(weight_decay)
    with arg_scope([layers.conv2d, layers.separable_conv2d], weights_initializer=truncated_normal_initializer(
            0.0, stddev), activation_fn=relu6, normalizer_fn=layers.batch_norm):
        with arg_scope([layers.batch_norm], **batch_norm_params):
            with arg_scope([layers.conv2d], weights_regularizer=regularizer):
                with arg_scope([layers.separable_conv2d],
                               weights_regularizer=regularizer if regularize_depthwise else None) as sc:
                    return sc
