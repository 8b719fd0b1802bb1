"""Look a network up by name: ``get_network_fn("vgg_cifar", num_classes=10)``.

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
from minislim.nets import cifarnet, lenet, vgg

networks_map = {
    "vgg_a": vgg.vgg_a,
    "vgg_16": vgg.vgg_16,
    "vgg_19": vgg.vgg_19,
    "vgg_cifar": vgg.vgg_cifar,
    "lenet": lenet.lenet,
    "cifarnet": cifarnet.cifarnet,
}

arg_scopes_map = {
    "vgg_a": vgg.vgg_arg_scope,
    "vgg_16": vgg.vgg_arg_scope,
    "vgg_19": vgg.vgg_arg_scope,
    "vgg_cifar": vgg.vgg_cifar_arg_scope,
    "lenet": lenet.lenet_arg_scope,
    "cifarnet": cifarnet.cifarnet_arg_scope,
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
