"""Classify images with a TF-Slim zoo net and its checkpoint (``minislim predict``).

``load_image`` reads ``.npy`` arrays (``[H, W, 3]``, uint8 0..255 or float) with NumPy
alone, and other formats (JPEG, PNG, ...) with Pillow, an optional extra
(``pip install -e ".[images]"``). ``classify`` builds the net, restores the checkpoint
(a TensorFlow V1/V2 prefix or an ``.npz``), preprocesses each image as the zoo expects
(:mod:`minislim.preprocessing`) and returns the top classes with their probabilities.

The net's variables are created *from* the checkpoint (:func:`variables_from_checkpoint`,
one tensor read at a time), then the net runs once with ``reuse``: no random initial
values are drawn only to be overwritten, so memory stays at the weights plus what one
layer needs (vgg_16: 528 MiB of weights, the float64 draw of its fc6 alone would be
822 MiB more) and the net runs once, not twice.

>>> import numpy as np
>>> top_k(np.array([[0.1, 0.7, 0.2]]), k=2)
[[(1, 0.7), (2, 0.2)]]
"""
from __future__ import annotations

import os

import numpy as np

from minislim.autograd.grad_mode import no_grad
from minislim.autograd.tensor import Tensor
from minislim.checkpoint import CheckpointError
from minislim.checkpoint import tensorflow as tf_format
from minislim.checkpoint.saving import read, resolve_path
from minislim.framework.graph import Graph
from minislim.framework.scopes import AUTO_REUSE, get_variable_scope, variable_scope
from minislim.framework.variables import get_variables, variable
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


def variables_from_checkpoint(path: str) -> set:
    """Create a variable for each float tensor of the checkpoint, holding its saved value; their names.

    Tensors are read one at a time (a TensorFlow checkpoint) and copied into their variable.
    A name that lies *under* another tensor's name (``.../weights/Momentum``,
    ``.../weights/ExponentialMovingAverage``) is an optimizer slot or a moving-average shadow,
    not a variable of the net, and is skipped; so are non-float tensors (``global_step``).
    """
    path = resolve_path(path)
    if tf_format.find(path) == path:
        checkpoint = tf_format.open_checkpoint(path)
        names, load = list(checkpoint.shapes()), checkpoint.read
    else:
        arrays = read(path).variables
        names, load = list(arrays), arrays.__getitem__
    known, created = set(names), set()
    for name in names:
        parts = name.split("/")
        if any("/".join(parts[:i]) in known for i in range(1, len(parts))):
            continue
        value = load(name)
        if value.dtype.kind == "f":
            variable(name, initializer=value, dtype=value.dtype, trainable=False)
            created.add(name)
        del value
    return created


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
        restored = variables_from_checkpoint(checkpoint)
        try:
            with variable_scope(get_variable_scope(), reuse=AUTO_REUSE):   # reuse the restored, create the missing
                logits, _ = network_fn(Tensor(batch))
        except ValueError as error:                       # a variable of another shape than the net's
            raise CheckpointError(f"predict: {net} does not fit the checkpoint {checkpoint!r}: {error}") from None
        missing = [v.name for v in get_variables() if v.name not in restored]   # in the order the net made them
        if missing:
            raise CheckpointError(f"predict: the checkpoint {checkpoint!r} lacks {len(missing)} variable(s) of "
                                  f"{net}: {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}")
    logits = logits.reshape(len(images), -1)
    return top_k(softmax(logits).numpy(), k)
