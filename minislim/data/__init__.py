"""The input pipeline: seeded mini-batches, augmentation, normalisation, prefetch.

>>> import numpy as np
>>> from minislim import data
>>> images = np.zeros((10, 32, 32, 3), dtype=np.uint8)
>>> labels = np.arange(10)
>>> mean, std = np.array([0.5, 0.5, 0.5]), np.array([0.25, 0.25, 0.25])
>>> augment = data.Compose([data.RandomCrop(32, padding=4), data.RandomFlip(),
...                         data.Normalize(mean, std)])
>>> pipe = data.batches(images, labels, batch_size=4, augment=augment, seed=1)
>>> [(x.shape, x.dtype.name, y.shape) for x, y in pipe]
[((4, 32, 32, 3), 'float32', (4,)), ((4, 32, 32, 3), 'float32', (4,)), ((2, 32, 32, 3), 'float32', (2,))]
"""
from minislim.data.augment import Compose, RandomCrop, RandomFlip
from minislim.data.normalize import Normalize, channel_stats, normalize
from minislim.data.pipeline import Batches, batches

__all__ = ["batches", "Batches", "Compose", "RandomCrop", "RandomFlip", "Normalize",
           "channel_stats", "normalize"]
