"""Inception preprocessing (evaluation), as the zoo's Inception, MobileNet and ResNet v2
checkpoints expect: scale to [0, 1], crop the central ``central_fraction`` (0.875),
resize (bilinear) to ``height`` x ``width``, map to [-1, 1].

>>> import numpy as np
>>> out = preprocess_image(np.full((100, 80, 3), 255, dtype=np.uint8), 32, 32)
>>> out.shape, float(out.min()), float(out.max())
((32, 32, 3), 1.0, 1.0)
"""
from __future__ import annotations

import numpy as np

from minislim.preprocessing.resize import central_crop, resize_bilinear


def preprocess_image(image, height: int, width: int, is_training: bool = False,
                     central_fraction: float = 0.875) -> np.ndarray:
    """``[H, W, 3]`` RGB -> ``[height, width, 3]`` float32 in [-1, 1].

    uint8 images are divided by 255; float images are taken to be in [0, 1] already (as
    TF's ``convert_image_dtype`` does).

    Raises:
        NotImplementedError: ``is_training=True`` (random distortions are not provided).
        ValueError: the image is not ``[H, W, 3]``.
    """
    if is_training:
        raise NotImplementedError("inception_preprocessing: only evaluation preprocessing is provided")
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"inception_preprocessing: image must be [H, W, 3] RGB, got shape {image.shape}")
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / np.float32(255)
    image = central_crop(image.astype(np.float32), central_fraction) if central_fraction else image
    image = resize_bilinear(image, height, width)
    return ((image - np.float32(0.5)) * np.float32(2.0)).astype(np.float32)
