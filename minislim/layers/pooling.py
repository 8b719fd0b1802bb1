"""Pooling layers: ``max_pool2d``, ``avg_pool2d`` (TF-Slim's defaults: ``stride=2``, ``'VALID'``).

They have no variables; they open a scope only to name their output (``vgg_16/pool1``),
by default ``MaxPool2D``, ``MaxPool2D_1``, ... (``AvgPool2D`` for average pooling).

>>> import numpy as np
>>> import minislim as slim
>>> slim.max_pool2d(np.zeros((1, 8, 8, 3), np.float32), [2, 2]).shape
(1, 4, 4, 3)
>>> slim.avg_pool2d(np.zeros((1, 7, 7, 3), np.float32), 3, stride=2, padding="SAME").shape
(1, 4, 4, 3)
"""
from __future__ import annotations

from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.scopes import variable_scope
from minislim.framework.utils import collect_named_outputs
from minislim.layers.checks import check_arguments, window
from minislim.layers.common import prepare_inputs
from minislim.ops.pool import avg_pool2d as nn_avg_pool2d
from minislim.ops.pool import max_pool2d as nn_max_pool2d


def _pool(op, layer: str, default_name: str, inputs, kernel_size, stride, padding, data_format,
          outputs_collections, scope):
    with variable_scope(scope, default_name, [inputs]) as sc:
        check_arguments(layer, sc.name, data_format=data_format, outputs_collections=outputs_collections)
        inputs = prepare_inputs(inputs, layer, sc.name, rank=4, graph_dtype=False)
        kernel, strides, _ = window(layer, sc.name, inputs.shape, kernel_size, stride, padding)
        outputs = op(inputs, kernel, stride=strides, padding=padding)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC", outputs_collections=None,
               scope=None):
    """Max pooling over ``[KH, KW]`` windows (``slim.max_pool2d``).

    Args:
        inputs: ``[N, H, W, C]``.
        kernel_size: ``[KH, KW]`` or an int. stride: ``[SH, SW]`` or an int (default 2).
        padding: ``'VALID'`` (default) or ``'SAME'``.
        data_format: ``'NHWC'``. outputs_collections: collections for the output.
        scope: the name of the output; default ``MaxPool2D``, ``MaxPool2D_1``, ...

    Returns:
        A Tensor ``[N, OH, OW, C]``.

    Raises:
        ValueError: inputs not ``[N, H, W, C]``; a ``kernel_size`` or ``stride`` that is
            not one or two positive ints; a VALID window larger than the input.
    """
    return _pool(nn_max_pool2d, "max_pool2d", "MaxPool2D", inputs, kernel_size, stride, padding, data_format,
                 outputs_collections, scope)


@add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC", outputs_collections=None,
               scope=None):
    """Average pooling (``slim.avg_pool2d``); SAME windows average the cells inside the input.

    Arguments as :func:`max_pool2d`; default scope ``AvgPool2D``.
    """
    return _pool(nn_avg_pool2d, "avg_pool2d", "AvgPool2D", inputs, kernel_size, stride, padding, data_format,
                 outputs_collections, scope)
