"""Classify images with a TF-Slim zoo net and its checkpoint (``minislim predict``).

``load_image`` reads ``.npy`` arrays (``[H, W, 3]``, uint8 0..255 or float) with NumPy
alone, and other formats (JPEG, PNG, ...) with Pillow, an optional extra
(``pip install -e ".[images]"``). ``classify`` builds the net, restores the checkpoint
(a TensorFlow V1/V2 prefix or an ``.npz``), preprocesses each image as the zoo expects
(:mod:`minislim.preprocessing`) and returns the top classes with their probabilities.

>>> import numpy as np
>>> top_k(np.array([[0.1, 0.7, 0.2]]), k=2)
[[(1, 0.7), (2, 0.2)]]
"""
from __future__ import annotations

import os

import numpy as np

from minislim.autograd.grad_mode import no_grad
from minislim.autograd.tensor import Tensor
from minislim.checkpoint import assign_from_checkpoint_fn
from minislim.framework.graph import Graph
from minislim.framework.scopes import get_variable_scope, variable_scope
from minislim.framework.variables import get_variables_to_restore
from minislim.nets import nets_factory
from minislim.ops.softmax import softmax
from minislim.preprocessing import preprocessing_factory


class ImageError(ValueError):
    """An image cannot be read (missing, unreadable, wrong shape, or Pillow absent)."""


def load_image(path: str) -> np.ndarray:
    """``[H, W, 3]`` RGB pixels of ``path``: a ``.npy`` array, or an image file via Pillow."""
    if not os.path.isfile(path):
        raise ImageError(f"image {path!r} does not exist")
    if path.endswith(".npy"):
        try:
            image = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise ImageError(f"image {path!r}: not a readable .npy array ({error})") from None
    else:
        try:
            from PIL import Image
        except ImportError:
            raise ImageError(f"image {path!r}: decoding images needs Pillow; install it with "
                             "pip install -e \".[images]\" (or pip install pillow), or pass a .npy array "
                             "[H, W, 3]") from None
        try:
            with Image.open(path) as handle:
                image = np.asarray(handle.convert("RGB"))
        except OSError as error:
            raise ImageError(f"image {path!r}: Pillow cannot read it ({error})") from None
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"image {path!r}: expected [H, W, 3] RGB pixels, got shape {image.shape}")
    return image


def load_labels(path: str | None, num_classes: int) -> list | None:
    """Class names, one per line; 1000 names for a 1001-class net get ``background`` as class 0."""
    if path is None:
        return None
    with open(path, encoding="utf-8") as handle:
        names = [line.strip() for line in handle if line.strip()]
    if len(names) == num_classes - 1:
        names = ["background"] + names
    if len(names) != num_classes:
        raise ImageError(f"labels {path!r}: {len(names)} names for {num_classes} classes")
    return names


def top_k(probabilities: np.ndarray, k: int = 5) -> list:
    """Per row: ``[(class, probability), ...]``, the ``k`` largest, largest first."""
    out = []
    for row in np.asarray(probabilities):
        order = np.argsort(-row, kind="stable")[:k]
        out.append([(int(i), round(float(row[i]), 6)) for i in order])
    return out


def classify(net: str, checkpoint: str, images: list, num_classes: int | None = None, k: int = 5) -> list:
    """Top-``k`` ``(class, probability)`` lists, one per image (``[H, W, 3]`` arrays)."""
    if net not in nets_factory.networks_map or net not in preprocessing_factory.preprocessing_fn_map:
        known = sorted(set(nets_factory.networks_map) & set(preprocessing_factory.preprocessing_fn_map))
        raise ValueError(f"predict: unknown net {net!r}; known: {', '.join(known)}")
    num_classes = num_classes or nets_factory.zoo_num_classes[net]
    network_fn = nets_factory.get_network_fn(net, num_classes=num_classes, is_training=False)
    size = network_fn.default_image_size
    preprocess = preprocessing_factory.get_preprocessing(net)
    batch = np.stack([preprocess(image, size, size) for image in images]).astype(np.float32)
    with Graph().as_default(), no_grad():
        network_fn(Tensor(batch[:1]))                       # create the variables
        assign_from_checkpoint_fn(checkpoint, get_variables_to_restore())()
        with variable_scope(get_variable_scope(), reuse=True):
            logits, _ = network_fn(Tensor(batch))
    logits = logits.reshape(len(images), -1)
    return top_k(softmax(logits).numpy(), k)
