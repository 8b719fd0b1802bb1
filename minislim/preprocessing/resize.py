"""Bilinear resizing and central crops as TensorFlow 1 computes them.

TF 1's ``tf.image.resize_bilinear(images, size, align_corners=False)`` (the one TF-Slim's
preprocessing calls) maps output pixel ``y`` to input coordinate ``y * in_h / out_h``: the
top-left corners of the two grids coincide (no half-pixel shift), and the last input row
is repeated past the edge.

>>> import numpy as np
>>> resize_bilinear(np.array([[0.0], [2.0]]).reshape(2, 1, 1), 4, 1)[:, 0, 0].tolist()
[0.0, 1.0, 2.0, 2.0]
"""
from __future__ import annotations

import numpy as np


def _axis(in_size: int, out_size: int):
    """Source rows (or columns) and weights, computed in float32 as TensorFlow's kernel does."""
    position = np.arange(out_size, dtype=np.float32) * (np.float32(in_size) / np.float32(out_size))
    floor = np.floor(position)
    low = floor.astype(np.int64)
    high = np.minimum(np.ceil(position).astype(np.int64), in_size - 1)
    return low, high, (position - floor).astype(np.float32)


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``[H, W, C]`` -> ``[height, width, C]`` float32, TF 1's ``resize_bilinear`` (align_corners=False)."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"resize_bilinear: image must be [H, W, C], got shape {image.shape}")
    if height <= 0 or width <= 0 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"resize_bilinear: cannot resize {image.shape[:2]} to {(height, width)}")
    top, bottom, dy = _axis(image.shape[0], height)
    left, right, dx = _axis(image.shape[1], width)
    dx = dx[None, :, None]
    upper = image[top][:, left] + (image[top][:, right] - image[top][:, left]) * dx
    lower = image[bottom][:, left] + (image[bottom][:, right] - image[bottom][:, left]) * dx
    return upper + (lower - upper) * dy[:, None, None]


def central_crop(image: np.ndarray, fraction: float) -> np.ndarray:
    """The central ``fraction`` of the image, as ``tf.image.central_crop`` rounds it."""
    if not 0 < fraction <= 1:
        raise ValueError(f"central_crop: fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return image
    height, width = image.shape[:2]
    top = int((height - height * fraction) / 2)
    left = int((width - width * fraction) / 2)
    return image[top:height - top, left:width - left]


def crop_center(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """A ``height`` x ``width`` crop from the middle (offsets rounded down, as TF-Slim's VGG)."""
    if image.shape[0] < height or image.shape[1] < width:
        raise ValueError(f"crop_center: image {image.shape[:2]} is smaller than the crop {(height, width)}")
    top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return image[top:top + height, left:left + width]
