"""Layer 9: networks with TF-Slim's scopes: VGG (and a small VGG for CIFAR), LeNet, CifarNet.

``nets_factory.get_network_fn(name, num_classes, weight_decay, is_training)`` looks one up.
"""
from minislim.nets import cifarnet, lenet, nets_factory, vgg

__all__ = ["vgg", "lenet", "cifarnet", "nets_factory"]
