"""Data sets as NumPy arrays: CIFAR-10 (with a subset embedded in the package) and MNIST.

Every loader returns ``(images [N, H, W, C] uint8, labels [N] int64)`` and reports a
missing, truncated or corrupt file with a :class:`DatasetError` (a ``ValueError``) whose
message names the file. This package needs only NumPy.

>>> from minislim import datasets
>>> images, labels = datasets.cifar10.load(split="test", num_examples=4)
>>> images.shape, labels.shape
((4, 32, 32, 3), (4,))
"""
from minislim.datasets import cifar10, mnist
from minislim.datasets.files import DatasetError

__all__ = ["cifar10", "mnist", "DatasetError"]
