"""``get_preprocessing(name)``: the zoo net's preprocessing function, by net name (TF-Slim's table).

>>> import numpy as np
>>> fn = get_preprocessing("inception_v1")
>>> fn(np.zeros((50, 60, 3), np.uint8), 224, 224).shape
(224, 224, 3)
"""
from __future__ import annotations

from minislim.preprocessing import inception_preprocessing, vgg_preprocessing

preprocessing_fn_map = {
    "alexnet_v2": vgg_preprocessing, "overfeat": vgg_preprocessing,
    "vgg_a": vgg_preprocessing, "vgg_16": vgg_preprocessing, "vgg_19": vgg_preprocessing,
    "resnet_v1_50": vgg_preprocessing, "resnet_v1_101": vgg_preprocessing, "resnet_v1_152": vgg_preprocessing,
    "inception_v1": inception_preprocessing, "inception_v3": inception_preprocessing,
    "mobilenet_v1": inception_preprocessing,
    "resnet_v2_50": inception_preprocessing, "resnet_v2_101": inception_preprocessing,
    "resnet_v2_152": inception_preprocessing,
}


def get_preprocessing(name: str, is_training: bool = False):
    """``fn(image, output_height, output_width) -> ndarray`` for the net ``name``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in preprocessing_fn_map:
        raise ValueError(f"get_preprocessing: no preprocessing for {name!r}; known: "
                         f"{', '.join(sorted(preprocessing_fn_map))}")
    module = preprocessing_fn_map[name]

    def preprocessing_fn(image, output_height: int, output_width: int, **kwargs):
        return module.preprocess_image(image, output_height, output_width, is_training=is_training, **kwargs)

    return preprocessing_fn
