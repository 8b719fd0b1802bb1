"""VGG networks with TF-Slim's scopes and end points, plus a small VGG for CIFAR-10.

``vgg_a``, ``vgg_16`` and ``vgg_19`` follow TF-Slim's ``nets/vgg.py`` exactly: the same
variable names (``vgg_16/conv1/conv1_1/weights``), end points, ``fc_conv_padding`` (the
fully connected layers are convolutions: ``fc6`` is 7x7, ``fc7`` and ``fc8`` are 1x1),
``spatial_squeeze`` and ``dropout_keep_prob``; so TF-Slim checkpoints' names carry over.

``vgg_cifar`` is the small VGG this project trains on CIFAR-10 subsets:
``[conv3x3 x depth, max-pool 2x2] x len(widths)``, then flatten, ``fc`` (256), dropout,
``logits`` (10), with optional batch normalisation after every convolution.

>>> import numpy as np
>>> import minislim as slim
>>> images = slim.tensor(np.zeros((2, 32, 32, 3), dtype=np.float32))
>>> with slim.arg_scope(vgg_cifar_arg_scope()):
...     logits, end_points = vgg_cifar(images, widths=(8, 16), fc_width=32)
>>> logits.shape, sorted(end_points)[:3]
((2, 10), ['vgg_cifar/conv1/conv1_1', 'vgg_cifar/conv1/conv1_2', 'vgg_cifar/conv2/conv2_1'])
"""
from __future__ import annotations

from minislim.framework.arg_scope import arg_scope
from minislim.framework.initializers import variance_scaling_initializer, zeros_initializer
from minislim.framework.regularizers import l2_regularizer
from minislim.framework.scopes import variable_scope
from minislim import layers
from minislim.framework.utils import convert_collection_to_dict
from minislim.ops.activations import relu
from minislim.ops.reductions import mean

__all__ = ["vgg_arg_scope", "vgg_a", "vgg_16", "vgg_19", "vgg_cifar", "vgg_cifar_arg_scope"]


def vgg_arg_scope(weight_decay: float = 0.0005):
    """TF-Slim's VGG defaults: ReLU, L2 weight decay, zero biases, SAME convolutions."""
    with arg_scope([layers.conv2d, layers.fully_connected], activation_fn=relu,
                             weights_regularizer=l2_regularizer(weight_decay),
                             biases_initializer=zeros_initializer()):
        with arg_scope([layers.conv2d], padding="SAME") as arg_sc:
            return arg_sc


def _vgg(inputs, blocks, num_classes, is_training, dropout_keep_prob, spatial_squeeze, reuse, scope,
         default_name, fc_conv_padding, global_pool):
    """The body shared by vgg_a, vgg_16 and vgg_19: ``blocks`` is ``[(repeats, width), ...]``."""
    with variable_scope(scope, default_name, reuse=reuse) as sc:
        end_points_collection = sc.name + "_end_points"
        with arg_scope([layers.conv2d, layers.fully_connected, layers.max_pool2d],
                                 outputs_collections=end_points_collection):
            net = inputs
            for i, (repeats, width) in enumerate(blocks, start=1):
                net = layers.repeat(net, repeats, layers.conv2d, width, [3, 3], scope=f"conv{i}")
                net = layers.max_pool2d(net, [2, 2], scope=f"pool{i}")
            # The fully connected layers are convolutions, so the net runs on any image size.
            net = layers.conv2d(net, 4096, [7, 7], padding=fc_conv_padding, scope="fc6")
            net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout6")
            net = layers.conv2d(net, 4096, [1, 1], scope="fc7")
            end_points = convert_collection_to_dict(end_points_collection)
            if global_pool:
                net = mean(net, axis=(1, 2), keepdims=True)
                end_points["global_pool"] = net
            if num_classes:
                net = layers.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout7")
                net = layers.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                    scope="fc8")
                if spatial_squeeze:
                    if net.shape[1:3] != (1, 1):
                        raise ValueError(f"{sc.name}: spatial_squeeze needs a 1x1 map before fc8, got shape "
                                         f"{net.shape}; use a {VGG_IMAGE_SIZE}x{VGG_IMAGE_SIZE} input or "
                                         "spatial_squeeze=False")
                    net = net.reshape(net.shape[0], net.shape[3])
                end_points[sc.name + "/fc8"] = net
            return net, end_points


VGG_IMAGE_SIZE = 224


def vgg_a(inputs, num_classes: int = 1000, is_training: bool = True, dropout_keep_prob: float = 0.5,
          spatial_squeeze: bool = True, reuse=None, scope: str = "vgg_a", fc_conv_padding: str = "VALID",
          global_pool: bool = False):
    """VGG 11-layer model "A" (TF-Slim's ``vgg_a``).

    Args:
        inputs: ``[N, 224, 224, 3]`` images.
        num_classes: classes of the last layer; 0 or None omits it (features only).
        is_training: whether dropout is active.
        dropout_keep_prob: probability of keeping activations in the dropout layers.
        spatial_squeeze: squeeze ``[N, 1, 1, num_classes]`` logits to ``[N, num_classes]``.
        reuse: reuse the variables of the scope.
        scope: the variable scope.
        fc_conv_padding: padding of ``fc6`` (``"VALID"``: a 7x7 map gives 1x1;
            ``"SAME"`` keeps the map for dense prediction).
        global_pool: average-pool ``fc7`` over space before the classifier.

    Returns:
        ``(logits, end_points)``: logits ``[N, num_classes]`` and a dict of every layer's
        output keyed by its full scope name.
    """
    return _vgg(inputs, [(1, 64), (1, 128), (2, 256), (2, 512), (2, 512)], num_classes, is_training,
                dropout_keep_prob, spatial_squeeze, reuse, scope, "vgg_a", fc_conv_padding, global_pool)


def vgg_16(inputs, num_classes: int = 1000, is_training: bool = True, dropout_keep_prob: float = 0.5,
           spatial_squeeze: bool = True, reuse=None, scope: str = "vgg_16", fc_conv_padding: str = "VALID",
           global_pool: bool = False):
    """VGG 16-layer model "D" (TF-Slim's ``vgg_16``; arguments as :func:`vgg_a`)."""
    return _vgg(inputs, [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)], num_classes, is_training,
                dropout_keep_prob, spatial_squeeze, reuse, scope, "vgg_16", fc_conv_padding, global_pool)


def vgg_19(inputs, num_classes: int = 1000, is_training: bool = True, dropout_keep_prob: float = 0.5,
           spatial_squeeze: bool = True, reuse=None, scope: str = "vgg_19", fc_conv_padding: str = "VALID",
           global_pool: bool = False):
    """VGG 19-layer model "E" (TF-Slim's ``vgg_19``; arguments as :func:`vgg_a`)."""
    return _vgg(inputs, [(2, 64), (2, 128), (4, 256), (4, 512), (4, 512)], num_classes, is_training,
                dropout_keep_prob, spatial_squeeze, reuse, scope, "vgg_19", fc_conv_padding, global_pool)


vgg_a.default_image_size = vgg_16.default_image_size = vgg_19.default_image_size = VGG_IMAGE_SIZE


def cifar_weights_initializer(seed=None):
    """Uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``: the weights' initializer of :func:`vgg_cifar`.

    Behind batch normalisation the scale of a convolution's weights does not change what
    the layer computes, only how far a gradient step moves it: the step relative to the
    weights is about ``lr * |g| / |w|`` and ``|g|`` shrinks as ``1 / |w|``, so the effective
    learning rate is ``lr / |w|^2``. Weight decay brings ``|w|`` to an equilibrium only after
    about ``1 / (lr * wd)`` steps, longer than a CIFAR run of a few thousand steps, so the
    initial scale sets the effective rate for the whole run. This scale (PyTorch's default
    for ``Conv2d`` and ``Linear``: variance ``1 / (3 fan_in)``) is 3x smaller in variance
    than Glorot's and 6x smaller than He's; see docs/training.md, "The default recipe".
    """
    return variance_scaling_initializer(factor=1.0 / 3.0, mode="FAN_IN", uniform=True, seed=seed)


def vgg_cifar_arg_scope(weight_decay: float = 5e-4, batch_norm: bool = True, batch_norm_decay: float = 0.99,
                        batch_norm_epsilon: float = 1e-3, weights_initializer=None):
    """Defaults of :func:`vgg_cifar`: ReLU, L2 weight decay on weights, zero biases, SAME
    padding, and batch normalisation (with a learned scale) after each convolution.

    Args:
        weight_decay: the layers' ``l2_regularizer`` on their weights (0: none; ``minislim
            train`` decays every variable in the optimizer instead, as PyTorch does).
        batch_norm: batch normalisation after each convolution.
        batch_norm_decay, batch_norm_epsilon: its moving-average decay and epsilon.
        weights_initializer: the weights' initializer (default :func:`cifar_weights_initializer`).
    """
    normalizer = dict(normalizer_fn=layers.batch_norm,
                      normalizer_params={"decay": batch_norm_decay, "epsilon": batch_norm_epsilon,
                                         "scale": True}) if batch_norm else {}
    regularizer = l2_regularizer(weight_decay) if weight_decay else None
    initializer = weights_initializer if weights_initializer is not None else cifar_weights_initializer()
    with arg_scope([layers.conv2d, layers.fully_connected], activation_fn=relu,
                   weights_initializer=initializer, weights_regularizer=regularizer,
                   biases_initializer=zeros_initializer()):
        with arg_scope([layers.conv2d], padding="SAME", **normalizer) as arg_sc:
            return arg_sc


def vgg_cifar(inputs, num_classes: int = 10, is_training: bool = True, dropout_keep_prob: float = 1.0,
              widths=(32, 64, 128), depth: int = 2, fc_width: int = 256, reuse=None,
              scope: str = "vgg_cifar"):
    """A small VGG for 32x32 images: ``[conv3x3 x depth, pool] x len(widths)``, fc, dropout, logits.

    Batch normalisation, weight decay and the weights' initializer come from
    :func:`vgg_cifar_arg_scope`; the logits layer starts with zero weights (the first
    prediction is uniform, the first loss ``ln(num_classes)``).

    Args:
        inputs: ``[N, 32, 32, 3]`` float images (normalised per channel).
        num_classes: outputs of the last layer.
        is_training: batch norm uses batch statistics and updates its moving averages, and
            dropout is active; False for evaluation.
        dropout_keep_prob: keep probability of the dropout before the logits; 1.0 (no
            dropout) by default: this small net underfits 20 epochs of augmented CIFAR-10,
            and dropout 0.5 cost it 2.5 points (docs/training.md, "The default recipe").
        widths: output channels of each block of convolutions.
        depth: convolutions per block.
        fc_width: width of the fully connected layer.
        reuse, scope: as for every TF-Slim net.

    Returns:
        ``(logits [N, num_classes], end_points)``.
    """
    with variable_scope(scope, "vgg_cifar", reuse=reuse) as sc:
        end_points_collection = sc.name + "_end_points"
        with arg_scope([layers.conv2d, layers.fully_connected, layers.max_pool2d],
                                 outputs_collections=end_points_collection):
            with arg_scope([layers.batch_norm, layers.dropout], is_training=is_training):
                net = inputs
                for i, width in enumerate(widths, start=1):
                    net = layers.repeat(net, depth, layers.conv2d, width, [3, 3], scope=f"conv{i}")
                    net = layers.max_pool2d(net, [2, 2], scope=f"pool{i}")
                net = layers.flatten(net, scope="flatten")
                net = layers.fully_connected(net, fc_width, scope="fc1")
                net = layers.dropout(net, dropout_keep_prob, scope="dropout1")
                # zero weights: the untrained net predicts 1/C for every class, so the first
                # loss is exactly ln(C) and the first steps cannot blow it up
                logits = layers.fully_connected(net, num_classes, activation_fn=None, normalizer_fn=None,
                                                weights_initializer=zeros_initializer(), scope="logits")
        end_points = convert_collection_to_dict(end_points_collection)
        return logits, end_points


vgg_cifar.default_image_size = 32
