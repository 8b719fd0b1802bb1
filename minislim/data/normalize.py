"""Per-channel normalisation: statistics from the training set, and the transform.

uint8 images are first scaled to ``[0, 1]`` (divided by 255); the statistics are on that
scale, as in most published recipes (CIFAR-10's mean is about ``[0.49, 0.48, 0.45]``).
Float images are used as they are.

>>> import numpy as np
>>> images = np.zeros((2, 4, 4, 3), dtype=np.uint8)
>>> images[1] = [255, 51, 0]                     # second image: one colour
>>> mean, std = channel_stats(images)
>>> mean.round(3).tolist(), std.round(3).tolist()
([0.5, 0.1, 0.0], [0.5, 0.1, 0.0])
>>> out = normalize(images, mean, [0.5, 0.1, 1.0])
>>> out.dtype, out[:, 0, 0].tolist()
(dtype('float32'), [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]])
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np

from minislim.kernels.reduce import channel_sums

ArrayLike = Union[np.ndarray, Sequence[float]]


def _scale(images: np.ndarray) -> float:
    return 1.0 / 255.0 if images.dtype == np.uint8 else 1.0


def channel_stats(images: np.ndarray, chunk_size: int = 2048) -> Tuple[np.ndarray, np.ndarray]:
    """Return the mean and standard deviation of each channel over all images and pixels.

    Computed in float64, a chunk of images at a time (the whole set is never converted at
    once). uint8 images are counted into a 256-bin histogram per channel, from which the
    mean and the variance follow exactly; float images take two passes (the mean, then
    the squared deviations). The standard deviation is the population one (divided by the
    count, not count - 1).

    Args:
        images: ``[N, H, W, C]``, uint8 (scaled to ``[0, 1]`` first) or float.
        chunk_size: images per chunk.

    Returns:
        ``(mean [C], std [C])`` float64 arrays.
    """
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"channel_stats: images must be a nonempty [N, H, W, C] array, "
                         f"got shape {images.shape}")
    channels = images.shape[3]
    count = images.shape[0] * images.shape[1] * images.shape[2]
    chunks = [images[i:i + chunk_size].reshape(-1, channels)
              for i in range(0, len(images), chunk_size)]            # views: [pixels, C]
    if images.dtype == np.uint8:
        hist = np.zeros((channels, 256))
        for chunk in chunks:
            for c in range(channels):
                hist[c] += np.bincount(chunk[:, c], minlength=256)
        values = np.arange(256) / 255.0
        mean = hist @ values / count
        variance = np.sum(hist * (values - mean[:, None]) ** 2, axis=1) / count
        return mean, np.sqrt(variance)
    total = np.zeros(channels)
    for chunk in chunks:
        total += channel_sums(chunk.astype(np.float64))
    mean = total / count
    squares = np.zeros(channels)
    for chunk in chunks:
        deviation = chunk.astype(np.float64) - mean
        squares += np.einsum("pc,pc->c", deviation, deviation)
    return mean, np.sqrt(squares / count)


def normalize(images: np.ndarray, mean: ArrayLike, std: ArrayLike,
              out: Optional[np.ndarray] = None) -> np.ndarray:
    """Return ``(images * s - mean) / std`` in float32 (``s`` = 1/255 for uint8, else 1).

    Args:
        images: ``[..., C]`` uint8 or float.
        mean: ``[C]`` channel means on the ``[0, 1]`` scale (see :func:`channel_stats`).
        std: ``[C]`` positive channel standard deviations.
        out: optional float32 array to write into.

    Returns:
        float32 array, the shape of ``images``.
    """
    images = np.asarray(images)
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    channels = images.shape[-1] if images.ndim else 0
    if mean.shape != (channels,) or std.shape != (channels,):
        raise ValueError(f"normalize: mean and std must have shape ({channels},) for images "
                         f"of shape {images.shape}, got {mean.shape} and {std.shape}")
    if not np.all(std > 0):
        raise ValueError(f"normalize: std must be positive, got {std.tolist()}")
    # One multiply-add per value: x * (s / std) + (-mean / std).
    gain = (_scale(images) / std).astype(np.float32)
    bias = (-mean / std).astype(np.float32)
    result = np.multiply(images, gain, out=out, dtype=np.float32)
    result += bias
    return result


class Normalize:
    """The transform form of :func:`normalize`, for a pipeline's ``augment``.

    Deterministic: it ignores the random generator it is given.
    """

    def __init__(self, mean: ArrayLike, std: ArrayLike):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean and std must be [C] vectors of one length, "
                             f"got shapes {self.mean.shape} and {self.std.shape}")
        if not np.all(self.std > 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, images: np.ndarray, rng: Optional[np.random.Generator] = None) -> np.ndarray:
        return normalize(images, self.mean, self.std)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.round(4).tolist()}, std={self.std.round(4).tolist()})"
