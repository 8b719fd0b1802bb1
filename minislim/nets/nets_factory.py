"""Look a network up by name: ``get_network_fn("vgg_cifar", num_classes=10)``.

The TF-Slim zoo's nets are here under their TF-Slim names (``inception_v1``,
``resnet_v1_50``, ``mobilenet_v1``, ...); :data:`zoo_num_classes` gives the number of
classes of their ImageNet checkpoints. ``mobilenet_v1``'s arg_scope takes
``is_training`` itself, as in TF-Slim.

The returned function applies the net's ``arg_scope`` (with ``weight_decay``) and calls
the net with ``num_classes`` and ``is_training`` bound, like TF-Slim's ``nets_factory``.

>>> import numpy as np
>>> import minislim as slim
>>> net_fn = get_network_fn("lenet", num_classes=10)
>>> logits, _ = net_fn(slim.tensor(np.zeros((1, 28, 28, 1), dtype=np.float32)))
>>> logits.shape, net_fn.default_image_size
((1, 10), 28)
"""
from __future__ import annotations

import functools

from minislim.framework.arg_scope import arg_scope
from minislim.nets import (alexnet, cifarnet, inception_v1, inception_v3, lenet, mobilenet_v1, overfeat,
                           resnet_utils, resnet_v1, resnet_v2, vgg)

networks_map = {
    "vgg_a": vgg.vgg_a,
    "vgg_16": vgg.vgg_16,
    "vgg_19": vgg.vgg_19,
    "vgg_cifar": vgg.vgg_cifar,
    "lenet": lenet.lenet,
    "cifarnet": cifarnet.cifarnet,
    "alexnet_v2": alexnet.alexnet_v2,
    "overfeat": overfeat.overfeat,
    "inception_v1": inception_v1.inception_v1,
    "inception_v3": inception_v3.inception_v3,
    "resnet_v1_50": resnet_v1.resnet_v1_50,
    "resnet_v1_101": resnet_v1.resnet_v1_101,
    "resnet_v1_152": resnet_v1.resnet_v1_152,
    "resnet_v2_50": resnet_v2.resnet_v2_50,
    "resnet_v2_101": resnet_v2.resnet_v2_101,
    "resnet_v2_152": resnet_v2.resnet_v2_152,
    "mobilenet_v1": mobilenet_v1.mobilenet_v1,
}

arg_scopes_map = {
    "vgg_a": vgg.vgg_arg_scope,
    "vgg_16": vgg.vgg_arg_scope,
    "vgg_19": vgg.vgg_arg_scope,
    "vgg_cifar": vgg.vgg_cifar_arg_scope,
    "lenet": lenet.lenet_arg_scope,
    "cifarnet": cifarnet.cifarnet_arg_scope,
    "alexnet_v2": alexnet.alexnet_v2_arg_scope,
    "overfeat": overfeat.overfeat_arg_scope,
    "inception_v1": inception_v1.inception_v1_arg_scope,
    "inception_v3": inception_v3.inception_v3_arg_scope,
    "resnet_v1_50": resnet_utils.resnet_arg_scope,
    "resnet_v1_101": resnet_utils.resnet_arg_scope,
    "resnet_v1_152": resnet_utils.resnet_arg_scope,
    "resnet_v2_50": resnet_utils.resnet_arg_scope,
    "resnet_v2_101": resnet_utils.resnet_arg_scope,
    "resnet_v2_152": resnet_utils.resnet_arg_scope,
    "mobilenet_v1": mobilenet_v1.mobilenet_v1_arg_scope,
}

# Classes of the TF-Slim zoo's ImageNet checkpoints: 1001 (class 0 is "background") for the
# Inception, MobileNet and ResNet v2 ones, 1000 for VGG and ResNet v1.
zoo_num_classes = {
    "vgg_a": 1000, "vgg_16": 1000, "vgg_19": 1000, "alexnet_v2": 1000, "overfeat": 1000,
    "inception_v1": 1001, "inception_v3": 1001, "mobilenet_v1": 1001,
    "resnet_v1_50": 1000, "resnet_v1_101": 1000, "resnet_v1_152": 1000,
    "resnet_v2_50": 1001, "resnet_v2_101": 1001, "resnet_v2_152": 1001,
}


class UnknownNetworkError(ValueError):
    """The name is not in :data:`networks_map`."""


def get_network_fn(name: str, num_classes: int, weight_decay: float = 0.0, is_training: bool = False,
                   **arg_scope_kwargs):
    """Return ``network_fn(images, **kwargs) -> (logits, end_points)`` for the net ``name``.

    Args:
        name: one of :data:`networks_map`.
        num_classes: outputs of the last layer.
        weight_decay: L2 weight decay passed to the net's arg_scope function.
        is_training: bound into every call (dropout, batch norm).
        **arg_scope_kwargs: extra arguments of the arg_scope function (e.g. ``batch_norm``
            for ``vgg_cifar``).

    Raises:
        UnknownNetworkError: for an unknown ``name`` (the message lists the known ones).
    """
    if name not in networks_map:
        raise UnknownNetworkError(f"unknown network {name!r}; known networks: {', '.join(sorted(networks_map))}")
    func = networks_map[name]

    @functools.wraps(func)
    def network_fn(images, **kwargs):
        scope = arg_scopes_map[name](weight_decay=weight_decay, **arg_scope_kwargs)
        with arg_scope(scope):
            return func(images, num_classes=num_classes, is_training=is_training, **kwargs)

    network_fn.default_image_size = getattr(func, "default_image_size", None)
    return network_fn
