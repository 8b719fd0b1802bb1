"""ResNet v2 (pre-activation; 50, 101, 152 layers) with TF-Slim's scopes and defaults.

A unit starts with batch norm + ReLU (``preact``), feeds it to the shortcut (a 1x1
convolution when the depth changes) and to ``conv1``, ``conv2`` (stride), ``conv3``
(no normalisation, with biases), and adds; the root convolution has biases and no
normalisation, and ``postnorm`` normalises the last block's output. The zoo checkpoints
have 1001 classes (0 is background).

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope(resnet_arg_scope()):
...     net, end_points = resnet_v2_50(slim.tensor(np.zeros((1, 32, 32, 3), np.float32)), num_classes=10,
...                                    is_training=False)
>>> net.shape
(1, 1, 1, 10)
"""
from __future__ import annotations

from minislim import layers
from minislim.framework.arg_scope import add_arg_scope, arg_scope
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs, convert_collection_to_dict
from minislim.nets import resnet_utils
from minislim.nets.resnet_utils import resnet_arg_scope
from minislim.ops.activations import relu
from minislim.ops.reductions import mean

__all__ = ["bottleneck", "resnet_v2", "resnet_v2_block", "resnet_v2_50", "resnet_v2_101", "resnet_v2_152",
           "resnet_arg_scope"]


@add_arg_scope
def bottleneck(inputs, depth: int, depth_bottleneck: int, stride: int, rate: int = 1, outputs_collections=None,
               scope=None):
    """One pre-activation bottleneck unit (scope ``bottleneck_v2``)."""
    with variable_scope(scope, "bottleneck_v2") as sc:
        preact = layers.batch_norm(inputs, activation_fn=relu, scope="preact")
        if depth == inputs.shape[-1]:
            shortcut = resnet_utils.subsample(inputs, stride, "shortcut")
        else:
            shortcut = layers.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None, activation_fn=None,
                                     scope="shortcut")
        residual = layers.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope="conv1")
        residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2")
        residual = layers.conv2d(residual, depth, [1, 1], stride=1, normalizer_fn=None, activation_fn=None,
                                 scope="conv3")
        return collect_named_outputs(outputs_collections, sc.name, shortcut + residual)


def resnet_v2(inputs, blocks, num_classes=None, is_training: bool = True, global_pool: bool = True,
              output_stride=None, include_root_block: bool = True, reuse=None, scope=None):
    """The ResNet v2 body (see the module docstring); returns ``(net, end_points)`` as ResNet v1."""
    with variable_scope(scope, "resnet_v2", reuse=reuse) as sc:
        collection = sc.name + "_end_points"
        with arg_scope([layers.conv2d, bottleneck, resnet_utils.stack_blocks_dense], outputs_collections=collection):
            with arg_scope([layers.batch_norm], is_training=is_training):
                net = inputs
                if include_root_block:
                    if output_stride is not None:
                        if output_stride % 4:
                            raise ValueError(f"{sc.name}: output_stride must be a multiple of 4, got {output_stride}")
                        output_stride //= 4
                    with arg_scope([layers.conv2d], activation_fn=None, normalizer_fn=None):
                        net = resnet_utils.conv2d_same(net, 64, 7, stride=2, scope="conv1")
                    net = layers.max_pool2d(net, [3, 3], stride=2, scope="pool1")
                net = resnet_utils.stack_blocks_dense(net, blocks, output_stride)
                net = layers.batch_norm(net, activation_fn=relu, scope="postnorm")
                if global_pool:
                    net = mean(net, axis=(1, 2), keepdims=True)
                if num_classes is not None:
                    net = layers.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                        scope="logits")
                end_points = convert_collection_to_dict(collection)
                if num_classes is not None:
                    end_points["predictions"] = layers.softmax(net, scope="predictions")
                return net, end_points


def resnet_v2_block(scope: str, base_depth: int, num_units: int, stride: int):
    """``num_units`` pre-activation bottlenecks of depth ``4 * base_depth``; the last has ``stride``."""
    unit = {"depth": base_depth * 4, "depth_bottleneck": base_depth}
    return resnet_utils.Block(scope, bottleneck, [dict(unit, stride=1)] * (num_units - 1) + [dict(unit, stride=stride)])


def _resnet(units, inputs, num_classes, is_training, global_pool, output_stride, reuse, scope):
    blocks = [resnet_v2_block("block1", 64, units[0], 2), resnet_v2_block("block2", 128, units[1], 2),
              resnet_v2_block("block3", 256, units[2], 2), resnet_v2_block("block4", 512, units[3], 1)]
    return resnet_v2(inputs, blocks, num_classes, is_training, global_pool, output_stride, True, reuse, scope)


def resnet_v2_50(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None, reuse=None,
                 scope="resnet_v2_50"):
    """ResNet-50 v2: blocks of 3, 4, 6, 3 units."""
    return _resnet((3, 4, 6, 3), inputs, num_classes, is_training, global_pool, output_stride, reuse, scope)


def resnet_v2_101(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None, reuse=None,
                  scope="resnet_v2_101"):
    """ResNet-101 v2: blocks of 3, 4, 23, 3 units."""
    return _resnet((3, 4, 23, 3), inputs, num_classes, is_training, global_pool, output_stride, reuse, scope)


def resnet_v2_152(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None, reuse=None,
                  scope="resnet_v2_152"):
    """ResNet-152 v2: blocks of 3, 8, 36, 3 units."""
    return _resnet((3, 8, 36, 3), inputs, num_classes, is_training, global_pool, output_stride, reuse, scope)


resnet_v2.default_image_size = 224
for _net in (resnet_v2_50, resnet_v2_101, resnet_v2_152):
    _net.default_image_size = 224
