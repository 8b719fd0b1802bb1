"""VGG preprocessing (evaluation), as the TF-Slim zoo's VGG and ResNet v1 checkpoints expect.

Resize (bilinear) so the smaller side is ``resize_side`` (256), keeping the aspect ratio;
crop the central ``output_height`` x ``output_width``; subtract the ImageNet RGB means.
The pixels stay on the 0..255 scale.

>>> import numpy as np
>>> image = np.full((300, 400, 3), 128, dtype=np.uint8)
>>> out = preprocess_image(image, 224, 224)
>>> out.shape, out.dtype, [round(float(v), 2) for v in out[0, 0]]
((224, 224, 3), dtype('float32'), [4.32, 11.22, 24.06])
"""
from __future__ import annotations

import numpy as np

from minislim.preprocessing.resize import crop_center, resize_bilinear

R_MEAN, G_MEAN, B_MEAN = 123.68, 116.78, 103.94
RESIZE_SIDE = 256


def smallest_size_at_least(height: int, width: int, smallest_side: int) -> tuple:
    """The size whose smaller side is ``smallest_side``, computed in float32 and rounded to the
    nearest (ties to even), as TF-Slim's ``_smallest_size_at_least``."""
    scale = np.float32(smallest_side) / np.float32(min(height, width))
    return int(np.rint(np.float32(height) * scale)), int(np.rint(np.float32(width) * scale))


def preprocess_image(image, output_height: int, output_width: int, is_training: bool = False,
                     resize_side: int = RESIZE_SIDE) -> np.ndarray:
    """``[H, W, 3]`` RGB (0..255) -> ``[output_height, output_width, 3]`` float32, means removed.

    Raises:
        NotImplementedError: ``is_training=True`` (random crops and flips are not provided).
        ValueError: the image is not ``[H, W, 3]``.
    """
    if is_training:
        raise NotImplementedError("vgg_preprocessing: only evaluation preprocessing is provided")
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"vgg_preprocessing: image must be [H, W, 3] RGB, got shape {image.shape}")
    height, width = smallest_size_at_least(image.shape[0], image.shape[1], resize_side)
    image = resize_bilinear(image.astype(np.float32), height, width)
    image = crop_center(image, output_height, output_width)
    return (image - np.array([R_MEAN, G_MEAN, B_MEAN], dtype=np.float32)).astype(np.float32)
