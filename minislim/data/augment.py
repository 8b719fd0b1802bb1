"""Random augmentation of image batches: pad-and-crop, horizontal flip, and composition.

A transform is any callable ``transform(images, rng) -> images`` taking a batch
``[N, H, W, C]`` and a ``numpy.random.Generator``; all its randomness comes from ``rng``,
so a pipeline that hands it a seeded generator gets the same batch every time. Each
transform works on the whole batch at once (fancy indexing, no Python loop over images).

>>> import numpy as np
>>> images = np.arange(2 * 4 * 4 * 1, dtype=np.uint8).reshape(2, 4, 4, 1)
>>> augment = Compose([RandomCrop(4, padding=1), RandomFlip()])
>>> out = augment(images, np.random.default_rng(0))
>>> out.shape, out.dtype
((2, 4, 4, 1), dtype('uint8'))
>>> RandomFlip(p=1.0)(images, np.random.default_rng(0))[0, 0, :, 0].tolist()
[3, 2, 1, 0]
"""
from __future__ import annotations

from typing import Callable, Sequence, Tuple, Union

import numpy as np

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _check_batch(name: str, images: np.ndarray) -> None:
    if images.ndim != 4:
        raise ValueError(f"{name}: images must be [N, H, W, C], got shape {images.shape}")


def pad(images: np.ndarray, padding: int) -> np.ndarray:
    """Return ``images`` ``[N, H, W, C]`` with ``padding`` zeros on each side of H and W."""
    n, h, w, c = images.shape
    out = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dtype=images.dtype)
    out[:, padding:padding + h, padding:padding + w] = images
    return out


def crop(images: np.ndarray, top: np.ndarray, left: np.ndarray,
         size: Tuple[int, int]) -> np.ndarray:
    """Cut a ``size`` window out of each image at its own offset, in one gather.

    Args:
        images: ``[N, H, W, C]``.
        top: ``[N]`` row offsets; ``left``: ``[N]`` column offsets.
        size: ``(OH, OW)``, the window.

    Returns:
        ``[N, OH, OW, C]``: ``out[i] = images[i, top[i]:top[i]+OH, left[i]:left[i]+OW]``.
    """
    oh, ow = size
    rows = top[:, None] + np.arange(oh)              # [N, OH]
    cols = left[:, None] + np.arange(ow)             # [N, OW]
    batch = np.arange(len(images))[:, None, None]    # [N, 1, 1]
    return images[batch, rows[:, :, None], cols[:, None, :]]   # [N, OH, OW, C]


class RandomCrop:
    """Pad each image with zeros, then cut a random ``size`` window out of it.

    ``RandomCrop(32, padding=4)`` is the standard CIFAR-10 augmentation: every image moves
    by up to 4 pixels in each direction. Each image gets its own offset, drawn uniformly.

    Args:
        size: ``OH`` (square) or ``(OH, OW)``, at most the padded height and width.
        padding: zeros added on each side of H and W before cropping. Padding happens on
            the values it is given: zero is black on uint8 images, the mean on
            normalised ones.
    """

    def __init__(self, size: Union[int, Tuple[int, int]], padding: int = 0):
        self.size = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
        if len(self.size) != 2 or min(self.size) <= 0:
            raise ValueError(f"RandomCrop: size must be a positive int or (OH, OW), got {size!r}")
        if padding < 0:
            raise ValueError(f"RandomCrop: padding must be >= 0, got {padding}")
        self.padding = int(padding)

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch("RandomCrop", images)
        padded = pad(images, self.padding) if self.padding else images
        oh, ow = self.size
        spare_h, spare_w = padded.shape[1] - oh, padded.shape[2] - ow
        if spare_h < 0 or spare_w < 0:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded images "
                             f"{padded.shape[1:3]}")
        top = rng.integers(0, spare_h + 1, size=len(images))
        left = rng.integers(0, spare_w + 1, size=len(images))
        return crop(padded, top, left, self.size)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomFlip:
    """Mirror each image left-right with probability ``p``.

    Args:
        p: probability of a flip, per image.
    """

    def __init__(self, p: float = 0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomFlip: p must lie in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch("RandomFlip", images)
        flip = rng.random(len(images)) < self.p                 # [N]
        return np.where(flip[:, None, None, None], images[:, :, ::-1], images)

    def __repr__(self) -> str:
        return f"RandomFlip(p={self.p})"


class Compose:
    """Apply transforms one after the other, each with the same generator.

    Args:
        transforms: callables ``(images, rng) -> images``, applied in order.
    """

    def __init__(self, transforms: Sequence[Transform]):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for transform in self.transforms:
            images = transform(images, rng)
        return images

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"
