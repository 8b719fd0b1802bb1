"""MNIST and Fashion-MNIST from IDX files, plain or gzipped.

A data directory holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each may end in ``.gz``; the
names with a dot, ``train-images.idx3-ubyte``, are accepted too). An IDX file is a
big-endian header, ``0x00 0x00 <type> <ndim>`` then one uint32 per dimension, followed by
the values; both files here hold unsigned bytes (type ``0x08``), images with 3 dimensions
``[N, rows, cols]`` and labels with 1.

Without a data directory the loader reads :data:`DEFAULT_DIR`
(``/usr/share/datasets/fashion-mnist``, which Debian's ``dataset-fashion-mnist`` package
installs) when it exists. Images come back NHWC, ``[N, 28, 28, 1]``, like every image in
minislim.

>>> import gzip, os, tempfile
>>> import numpy as np
>>> folder = tempfile.mkdtemp()
>>> images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
>>> with open(os.path.join(folder, "t10k-images-idx3-ubyte"), "wb") as f:
...     _ = f.write(bytes([0, 0, 8, 3]) + np.array([2, 28, 28], ">u4").tobytes()
...                 + images.astype(np.uint8).tobytes())
>>> with gzip.open(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), "wb") as f:
...     _ = f.write(bytes([0, 0, 8, 1]) + np.array([2], ">u4").tobytes() + bytes([7, 2]))
>>> x, y = load(folder, split="test")
>>> x.shape, x.dtype, y.tolist()
((2, 28, 28, 1), dtype('uint8'), [7, 2])
"""
from __future__ import annotations

import math
import os
import zlib
from typing import Optional, Tuple, Union

import numpy as np

from minislim.datasets.files import DatasetError, check_directory, find_file, open_file

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
SPLITS = {"train": "train", "test": "t10k"}
UBYTE = 0x08
NUM_CLASSES = 10
MAX_GZIP_RATIO = 1100  # DEFLATE cannot shrink data more than about 1032 times

PathLike = Union[str, "os.PathLike[str]"]


def load(data_dir: Optional[PathLike] = None, split: str = "train",
         num_examples: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Load an MNIST-style split as NHWC uint8 images and int64 labels.

    Args:
        data_dir: a directory with the IDX files; ``None`` reads :data:`DEFAULT_DIR`.
        split: ``"train"`` (``train-*``) or ``"test"`` (``t10k-*``).
        num_examples: keep only the first ``num_examples`` examples (``None``: all).

    Returns:
        ``(images, labels)``: images ``[N, rows, cols, 1]`` uint8 (``[N, 28, 28, 1]`` for
        MNIST and Fashion-MNIST), labels ``[N]`` int64.

    Raises:
        DatasetError: a missing directory or file, a bad magic number, dimensions that do
            not match the file's size, image and label counts that differ, no images, or
            a label out of 0-9. The message names the file.
        ValueError: a bad ``split`` or ``num_examples``.
    """
    if split not in SPLITS:
        raise ValueError(f"mnist.load: split must be one of {tuple(SPLITS)}, got {split!r}")
    if num_examples is not None and (isinstance(num_examples, bool)
                                     or not isinstance(num_examples, (int, np.integer))
                                     or num_examples <= 0):
        raise ValueError(f"mnist.load: num_examples must be a positive int or None, "
                         f"got {num_examples!r}")
    if data_dir is None:
        if not os.path.isdir(DEFAULT_DIR):
            raise DatasetError(f"mnist: no data_dir given and the default {DEFAULT_DIR} is "
                               "absent (apt-get install dataset-fashion-mnist provides it)")
        folder = DEFAULT_DIR
    else:
        folder = os.fspath(data_dir)
        check_directory(folder, "mnist")

    prefix = SPLITS[split]
    images_path = _find(folder, prefix, "images", 3)
    labels_path = _find(folder, prefix, "labels", 1)
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise DatasetError(f"{images_path}: {len(images)} images but {labels_path} holds "
                           f"{len(labels)} labels")
    if len(images) == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise DatasetError(f"{images_path}: the file holds no images (its header says {images.shape})")
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise DatasetError(f"{labels_path}: example {int(bad[0])} has label {int(labels[bad[0]])}, "
                           f"expected 0-{NUM_CLASSES - 1}")
    if num_examples is not None:
        if num_examples > len(labels):
            raise DatasetError(f"{folder}: asked for {num_examples} {split} examples, "
                               f"the data holds only {len(labels)}")
        images, labels = images[:num_examples].copy(), labels[:num_examples]
    return images[..., None], labels.astype(np.int64)


def class_names(data_dir: Optional[PathLike] = None) -> list:
    """The ten class names: Fashion-MNIST's when the folder's name says ``fashion`` (as
    :data:`DEFAULT_DIR` does), else the digits ``"0"`` ... ``"9"`` (IDX files hold no names).

    >>> class_names("/data/mnist")[:3], class_names()[:3]
    (['0', '1', '2'], ['T-shirt/top', 'Trouser', 'Pullover'])
    """
    folder = os.path.basename(os.path.normpath(os.fspath(DEFAULT_DIR if data_dir is None else data_dir)))
    return list(FASHION_CLASS_NAMES) if "fashion" in folder.lower() else [str(digit) for digit in range(10)]


def read_idx(path: PathLike, ndim: Optional[int] = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes, plain or ``.gz``.

    Args:
        path: the file.
        ndim: the number of dimensions expected (``None``: any).

    Returns:
        A uint8 array shaped as the header says.

    Raises:
        DatasetError: bad magic number, unexpected dimensions, or a size that does not
            match the header.
    """
    path = os.fspath(path)
    try:
        with open_file(path) as f:
            head = f.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0:
                raise DatasetError(f"{path}: not an IDX file (bad magic number {head.hex() or 'empty'})")
            if head[2] != UBYTE:
                raise DatasetError(f"{path}: IDX value type 0x{head[2]:02x} is not supported, "
                                   "expected 0x08 (unsigned byte)")
            found = head[3]
            if ndim is not None and found != ndim:
                raise DatasetError(f"{path}: expected an IDX file with {ndim} dimension(s) "
                                   f"(magic 0x0000080{ndim}), got {found}")
            dims = f.read(4 * found)
            if len(dims) < 4 * found:
                raise DatasetError(f"{path}: truncated header ({4 + len(dims)} bytes)")
            shape = tuple(int.from_bytes(dims[4 * i:4 * i + 4], "big") for i in range(found))
            expected = math.prod(shape)  # a Python int: [2**22, 2**21, 2**21] does not wrap around
            _check_idx_size(path, shape, expected)
            values = _read_at_most(f, expected + 1)  # one byte more: a file longer than its header says
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read the file: {exc}") from None
    if len(values) != expected:
        raise DatasetError(f"{path}: the header says {shape} = {4 + 4 * found + expected} bytes, the file "
                           f"has {4 + 4 * found + len(values)} (truncated or corrupt)")
    if max(shape, default=0) > 2**31:  # (0, 2**31, 2**31) holds no values but no array has that shape
        raise DatasetError(f"{path}: the header's dimensions {shape} are too large for an array")
    return np.frombuffer(values, dtype=np.uint8).reshape(shape).copy()


def _read_at_most(f, size: int, chunk: int = 1 << 16) -> bytes:
    """Up to ``size`` bytes of ``f``, in chunks: a gzip stream's ``read(size)`` would allocate
    ``size`` bytes before finding out how many there are."""
    parts, left = [], size
    while left > 0:
        part = f.read(min(chunk, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _check_idx_size(path: str, shape: tuple, expected: int) -> None:
    """Compare the header's size with the file's before reading: a header is not a promise.

    A plain file must hold exactly ``expected`` values after its header; a gzipped one
    cannot expand more than DEFLATE allows (about 1032 times), so a header claiming more
    is refused before anything is allocated.
    """
    header = 4 + 4 * len(shape)
    size = os.path.getsize(path)
    if path.endswith(".gz"):
        if expected > MAX_GZIP_RATIO * size:
            raise DatasetError(f"{path}: the header says {shape} = {header + expected} bytes, more than "
                               f"{size} gzipped bytes can hold (corrupt)")
    elif size != header + expected:
        raise DatasetError(f"{path}: the header says {shape} = {header + expected} bytes, the file "
                           f"has {size} (truncated or corrupt)")


def _find(folder: str, prefix: str, kind: str, ndim: int) -> str:
    names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    path = find_file(folder, names)
    if path is None:
        raise DatasetError(f"{folder}: missing {names[0]} (or {names[0]}.gz)")
    return path
