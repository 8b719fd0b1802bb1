"""Layer 9: networks with TF-Slim's scopes: VGG (and a small VGG for CIFAR), LeNet, CifarNet,
and TF-Slim's zoo: AlexNet v2, OverFeat, Inception V1 and V3, ResNet v1 and v2, MobileNet v1.

``nets_factory.get_network_fn(name, num_classes, weight_decay, is_training)`` looks one up.
"""
from minislim.nets import (alexnet, cifarnet, inception_v1, inception_v3, lenet, mobilenet_v1, nets_factory,
                           overfeat, resnet_utils, resnet_v1, resnet_v2, vgg)

__all__ = ["vgg", "lenet", "cifarnet", "nets_factory", "alexnet", "overfeat", "inception_v1", "inception_v3",
           "resnet_utils", "resnet_v1", "resnet_v2", "mobilenet_v1"]
