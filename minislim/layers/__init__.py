"""Layer 5: TF-Slim's layers, one family per module.

* :mod:`~minislim.layers.conv`: ``conv2d``, ``conv2d_transpose``, ``separable_conv2d``;
* :mod:`~minislim.layers.dense`: ``fully_connected``;
* :mod:`~minislim.layers.pooling`: ``max_pool2d``, ``avg_pool2d``;
* :mod:`~minislim.layers.normalization`: ``batch_norm``, ``layer_norm``;
* :mod:`~minislim.layers.core`: ``bias_add``, ``dropout``, ``flatten``,
  ``one_hot_encoding``, ``softmax``;
* :mod:`~minislim.layers.meta`: ``repeat``, ``stack``;
* :mod:`~minislim.layers.checks`: the argument checks every layer makes before it creates
  anything (so a failed call leaves no variables behind);
* :mod:`~minislim.layers.common`: input checks and the shared tail of conv/dense layers.

Every layer is decorated with ``@add_arg_scope``, opens a variable scope (its ``scope``
argument or a unique default name), checks its arguments and inputs, then creates its
variables there as model variables; its errors name the full scope.

>>> import numpy as np
>>> import minislim as slim
>>> with slim.arg_scope([slim.conv2d], padding="VALID"):
...     slim.conv2d(np.zeros((1, 5, 5, 1), np.float32), 2, [3, 3]).shape
(1, 3, 3, 2)
"""
from minislim.layers.conv import (conv2d, conv2d_transpose, convolution2d, convolution2d_transpose,
                                  separable_conv2d, separable_convolution2d)
from minislim.layers.core import bias_add, dropout, flatten, one_hot_encoding, softmax
from minislim.layers.dense import fully_connected
from minislim.layers.meta import repeat, stack
from minislim.layers.normalization import batch_norm, layer_norm
from minislim.layers.pooling import avg_pool2d, max_pool2d

__all__ = ["conv2d", "conv2d_transpose", "separable_conv2d", "convolution2d", "convolution2d_transpose",
           "separable_convolution2d", "fully_connected", "max_pool2d", "avg_pool2d", "batch_norm",
           "layer_norm", "bias_add", "dropout", "flatten", "one_hot_encoding", "softmax", "repeat", "stack"]

# --- the rest of TF-Slim's layers (issue #19) ---
from minislim.layers.conv_nd import (avg_pool3d, conv1d, conv2d_in_plane, conv3d, convolution1d,  # noqa: E402
                                     convolution2d_in_plane, convolution3d, max_pool3d)
from minislim.layers.features import (images_to_sequence, maxout, scale_gradient,  # noqa: E402
                                      sequence_to_images, spatial_softmax, unit_norm)
from minislim.layers.group_norm import group_norm, instance_norm  # noqa: E402
from minislim.layers.shortcuts import elu, linear, relu, relu6  # noqa: E402

__all__ += ["conv1d", "conv3d", "conv2d_in_plane", "convolution1d", "convolution3d", "convolution2d_in_plane",
            "max_pool3d", "avg_pool3d", "images_to_sequence", "sequence_to_images", "maxout", "scale_gradient",
            "spatial_softmax", "unit_norm", "group_norm", "instance_norm", "elu", "relu", "relu6", "linear"]
