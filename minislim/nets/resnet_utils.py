"""What ResNet v1 and v2 share (TF-Slim's ``resnet_utils``): blocks, ``conv2d_same``,
``stack_blocks_dense`` (with ``output_stride``: atrous convolution instead of striding once
the requested stride is reached) and ``resnet_arg_scope``.

>>> import numpy as np
>>> import minislim as slim
>>> y = conv2d_same(slim.tensor(np.zeros((1, 8, 8, 3), np.float32)), 4, 3, stride=2, scope="conv")
>>> y.shape
(1, 4, 4, 4)
"""
from __future__ import annotations

from collections import namedtuple

from minislim import layers
from minislim.framework.arg_scope import add_arg_scope, arg_scope
from minislim.framework.initializers import variance_scaling_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs
from minislim.ops.activations import relu
from minislim.ops.shape_ops import pad

__all__ = ["Block", "subsample", "conv2d_same", "stack_blocks_dense", "resnet_arg_scope"]


class Block(namedtuple("Block", ["scope", "unit_fn", "args"])):
    """A ResNet block: its scope name (``block1``), the unit function (a bottleneck) and
    one dict of arguments per unit (``depth``, ``depth_bottleneck``, ``stride``)."""


def subsample(inputs, factor: int, scope=None):
    """Keep every ``factor``-th pixel (a 1x1 max pool with that stride); ``factor`` 1: the input."""
    if factor == 1:
        return inputs
    return layers.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(inputs, num_outputs: int, kernel_size: int, stride: int, rate: int = 1, scope=None):
    """A convolution whose output size does not depend on the input's parity.

    Stride 1: a SAME convolution. Otherwise the input is padded explicitly by
    ``kernel_size_effective - 1`` (half before, half after), then a VALID convolution,
    so that ``[N, 224, 224, C]`` with stride 2 gives 112x112 aligned as TF-Slim's.
    """
    if stride == 1:
        return layers.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate, padding="SAME", scope=scope)
    effective = kernel_size + (kernel_size - 1) * (rate - 1)
    begin = (effective - 1) // 2
    end = effective - 1 - begin
    inputs = pad(inputs, [(0, 0), (begin, end), (begin, end), (0, 0)])
    return layers.conv2d(inputs, num_outputs, kernel_size, stride=stride, rate=rate, padding="VALID", scope=scope)


@add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None, outputs_collections=None):
    """Run the units of every block (scopes ``block1/unit_1``, ...); see the module docstring.

    Raises:
        ValueError: ``output_stride`` cannot be reached with these blocks' strides.
    """
    current_stride, rate = 1, 1
    for block in blocks:
        with variable_scope(block.scope, "block") as sc:
            for i, unit in enumerate(block.args):
                if output_stride is not None and current_stride > output_stride:
                    raise ValueError(f"stack_blocks_dense: the target output_stride {output_stride} cannot be reached")
                with variable_scope(f"unit_{i + 1}"):
                    if output_stride is not None and current_stride == output_stride:
                        net = block.unit_fn(net, rate=rate, **dict(unit, stride=1))
                        rate *= unit.get("stride", 1)
                    else:
                        net = block.unit_fn(net, rate=1, **unit)
                        current_stride *= unit.get("stride", 1)
            net = collect_named_outputs(outputs_collections, sc.name, net)
    if output_stride is not None and current_stride != output_stride:
        raise ValueError(f"stack_blocks_dense: the target output_stride {output_stride} cannot be reached")
    return net


def resnet_arg_scope(weight_decay: float = 0.0001, batch_norm_decay: float = 0.997,
                     batch_norm_epsilon: float = 1e-5, batch_norm_scale: bool = True):
    """L2 weight decay, He initialisation, ReLU, batch norm (with gamma) after convolutions,
    SAME max pooling."""
    batch_norm_params = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon, "scale": batch_norm_scale}
    with arg_scope([layers.conv2d], weights_regularizer=l2_regularizer(weight_decay),
                   weights_initializer=variance_scaling_initializer(), activation_fn=relu,
                   normalizer_fn=layers.batch_norm, normalizer_params=batch_norm_params):
        with arg_scope([layers.batch_norm], **batch_norm_params):
            with arg_scope([layers.max_pool2d], padding="SAME") as arg_sc:
                return arg_sc
