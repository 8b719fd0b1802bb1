"""CIFAR-10: the official binary and python versions, plain or gzipped, and an embedded subset.

A data directory holds the files of the official archives, each plain or ``.gz``:

* binary version: ``data_batch_1.bin`` ... ``data_batch_5.bin``, ``test_batch.bin``,
  ``batches.meta.txt``. A record is 3073 bytes: one label byte, then the 32x32 red
  plane, the green plane and the blue plane, rows top to bottom.
* python version: ``data_batch_1`` ... ``data_batch_5``, ``test_batch``, ``batches.meta``.
  Each is a pickled dict with ``b"data"`` (uint8 ``[n, 3072]``, the same plane order) and
  ``b"labels"`` (n ints). These are read with a restricted unpickler that refuses anything
  but plain data and NumPy arrays (:mod:`minislim.datasets.safe_pickle`).

The training split is every ``data_batch_*`` file present (at least one), in number
order. A directory that holds ``cifar-10-batches-bin`` or ``cifar-10-batches-py`` (an
extracted archive) is searched there. Without a data directory the loaders read the
subset embedded in the package: 500 training and 100 test images of each class
(``minislim/datasets/embedded/README.txt`` says how it was made).

>>> images, labels = load(split="test", num_examples=6, classes=["cat", "dog"])
>>> images.shape, images.dtype, labels.dtype
((6, 32, 32, 3), dtype('uint8'), dtype('int64'))
>>> sorted(set(labels.tolist()))   # labels keep their CIFAR-10 values: cat 3, dog 5
[3, 5]
>>> class_names()[3]
'cat'
"""
from __future__ import annotations

import gzip
import os
import pickle
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from minislim.datasets import safe_pickle
from minislim.datasets.files import (DatasetError, check_directory, find_file, open_file,
                                     read_bytes)

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")
NUM_CLASSES = 10
HEIGHT, WIDTH, CHANNELS = 32, 32, 3
IMAGE_BYTES = HEIGHT * WIDTH * CHANNELS      # 3072
RECORD_BYTES = 1 + IMAGE_BYTES               # 3073: label byte + image
NUM_TRAIN_BATCHES = 5
SPLITS = ("train", "test")
ARCHIVE_FOLDERS = ("cifar-10-batches-bin", "cifar-10-batches-py")
EMBEDDED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "embedded")

PathLike = Union[str, "os.PathLike[str]"]


# ----------------------------------------------------------------------------- public API

def load(data_dir: Optional[PathLike] = None, split: str = "train",
         num_examples: Optional[int] = None,
         classes: Optional[Sequence[Union[int, str]]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Load a CIFAR-10 split as NHWC uint8 images and int64 labels.

    Args:
        data_dir: a directory with the official files (see the module docstring);
            ``None`` reads the subset embedded in the package.
        split: ``"train"`` (every ``data_batch_*`` present) or ``"test"`` (``test_batch``).
        num_examples: keep only the first ``num_examples`` examples (file order, after
            the class filter): deterministic. ``None`` keeps them all.
        classes: keep only these classes, given as label ints (0-9) or class names.
            Labels keep their original CIFAR-10 values (as a ``filter`` in ``tf.data``
            would); to get ``0..k-1`` use ``np.searchsorted(sorted(ids), labels)``.

    Returns:
        ``(images, labels)``: images ``[N, 32, 32, 3]`` uint8 (RGB), labels ``[N]`` int64.

    Raises:
        DatasetError: a missing directory or file, a truncated or corrupt file, a label out
            of range, or fewer examples than ``num_examples``. The message names the file.
        ValueError: a bad ``split``, ``num_examples`` or ``classes`` argument.
    """
    if split not in SPLITS:
        raise ValueError(f"cifar10.load: split must be one of {SPLITS}, got {split!r}")
    if num_examples is not None and (isinstance(num_examples, bool)
                                     or not isinstance(num_examples, (int, np.integer))
                                     or num_examples <= 0):
        raise ValueError(f"cifar10.load: num_examples must be a positive int or None, "
                         f"got {num_examples!r}")
    folder = _resolve_dir(data_dir)
    keep = None if classes is None else _class_ids(classes, folder)

    images_parts, labels_parts = [], []
    for path in _split_files(folder, split):
        images, labels = read_batch(path)
        if keep is not None:
            mask = np.isin(labels, keep)
            images, labels = images[mask], labels[mask]
        images_parts.append(images)
        labels_parts.append(labels)
        if num_examples is not None and sum(len(x) for x in labels_parts) >= num_examples:
            break
    images = np.concatenate(images_parts) if len(images_parts) > 1 else images_parts[0]
    labels = np.concatenate(labels_parts) if len(labels_parts) > 1 else labels_parts[0]

    if num_examples is not None:
        if len(labels) < num_examples:
            which = "" if keep is None else f" of classes {keep}"
            where = "the embedded CIFAR-10 subset" if folder == EMBEDDED_DIR else folder
            raise DatasetError(f"{where}: asked for {num_examples} {split} examples{which}, "
                               f"the data holds only {len(labels)}")
        images, labels = images[:num_examples].copy(), labels[:num_examples].copy()
    return images, labels


def class_names(data_dir: Optional[PathLike] = None) -> List[str]:
    """Return the ten class names, from ``batches.meta.txt`` or ``batches.meta``.

    A directory without a meta file gives the standard names (:data:`CLASS_NAMES`).

    Raises:
        DatasetError: the meta file does not hold exactly ten names.
    """
    folder = _resolve_dir(data_dir)
    path = find_file(folder, ["batches.meta.txt", "batches.meta"])
    if path is None:
        return list(CLASS_NAMES)
    if path.endswith((".txt", ".txt.gz")):
        try:
            text = read_bytes(path).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}: not a text file: {exc}") from None
        names = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        meta = _unpickle(path)
        names = _entry(meta, "label_names", path)
        if not isinstance(names, (list, tuple)):
            raise DatasetError(f"{path}: label_names must be a list, got {type(names).__name__}")
        names = [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]
        if not all(isinstance(n, str) for n in names):
            raise DatasetError(f"{path}: label_names must be strings")
    if len(names) != NUM_CLASSES:
        raise DatasetError(f"{path}: expected {NUM_CLASSES} class names, got {len(names)}")
    return names


def read_batch(path: PathLike) -> Tuple[np.ndarray, np.ndarray]:
    """Read one batch file: binary (``*.bin``, ``*.bin.gz``) or python (anything else).

    Returns:
        ``(images [n, 32, 32, 3] uint8, labels [n] int64)``.

    Raises:
        DatasetError: the file is missing, truncated, corrupt or has a label out of range.
    """
    path = os.fspath(path)
    if path.endswith((".bin", ".bin.gz")):
        return read_binary_batch(path)
    return read_python_batch(path)


def read_binary_batch(path: PathLike) -> Tuple[np.ndarray, np.ndarray]:
    """Read a file of the binary version (3073-byte records), plain or ``.gz``."""
    path = os.fspath(path)
    raw = read_bytes(path)
    if len(raw) == 0 or len(raw) % RECORD_BYTES:
        raise DatasetError(
            f"{path}: size {len(raw)} bytes is not a whole, nonzero number of "
            f"{RECORD_BYTES}-byte records (1 label byte + 32*32*3 pixels): truncated or "
            "not a CIFAR-10 binary batch")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    _check_labels(labels, path)
    planes = records[:, 1:].reshape(-1, CHANNELS, HEIGHT, WIDTH)    # [n, C, H, W]
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), labels


def read_python_batch(path: PathLike) -> Tuple[np.ndarray, np.ndarray]:
    """Read a file of the python version (a pickled dict), plain or ``.gz``, safely."""
    path = os.fspath(path)
    batch = _unpickle(path)
    data = _entry(batch, "data", path)
    labels = _entry(batch, "labels", path)
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "ui":
        raise DatasetError(f"{path}: 'data' must be an integer NumPy array, got "
                           f"{getattr(data, 'dtype', type(data).__name__)}")
    if data.ndim != 2 or data.shape[1] != IMAGE_BYTES:
        raise DatasetError(f"{path}: 'data' must have shape [n, {IMAGE_BYTES}], "
                           f"got {data.shape}")
    if data.size and (data.min() < 0 or data.max() > 255):
        raise DatasetError(f"{path}: pixel values must lie in 0-255")
    # the lengths first, then the items: nothing is converted before it is known to be small
    if isinstance(labels, (list, tuple)):
        if len(labels) != len(data):
            raise DatasetError(f"{path}: {len(data)} images but {len(labels)} labels")
        if not all(isinstance(v, (int, np.integer)) for v in labels):
            raise DatasetError(f"{path}: 'labels' must be a flat list of ints")
    try:
        labels = np.asarray(labels)
    except Exception as exc:  # ragged or odd contents
        raise DatasetError(f"{path}: 'labels' is not a list of ints: {exc}") from None
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "ui"):
        raise DatasetError(f"{path}: 'labels' must be a flat list of ints, got "
                           f"shape {labels.shape} dtype {labels.dtype}")
    if len(labels) != len(data):
        raise DatasetError(f"{path}: {len(data)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise DatasetError(f"{path}: the batch holds no images")
    labels = labels.astype(np.int64)
    _check_labels(labels, path)
    planes = data.astype(np.uint8, copy=False).reshape(-1, CHANNELS, HEIGHT, WIDTH)
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), labels


def write_binary_batch(path: PathLike, images: np.ndarray, labels: np.ndarray,
                       compresslevel: int = 9) -> None:
    """Write images and labels in the binary layout; gzipped when ``path`` ends in ``.gz``.

    The gzip stream carries no file name and no time stamp, so the same arrays always
    give the same bytes.

    Args:
        path: the file to write.
        images: ``[n, 32, 32, 3]`` uint8.
        labels: ``[n]`` ints in 0-9.
        compresslevel: gzip level (1 fastest - 9 smallest).
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.shape[1:] != (HEIGHT, WIDTH, CHANNELS) or images.dtype != np.uint8:
        raise ValueError(f"write_binary_batch: images must be uint8 [n, 32, 32, 3], got "
                         f"{images.dtype} {images.shape}")
    if labels.shape != (len(images),) or (labels.size and (labels.min() < 0
                                                           or labels.max() >= NUM_CLASSES)):
        raise ValueError(f"write_binary_batch: labels must be [{len(images)}] ints in 0-9, "
                         f"got shape {labels.shape}")
    records = np.empty((len(images), RECORD_BYTES), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = images.transpose(0, 3, 1, 2).reshape(len(images), IMAGE_BYTES)
    path = os.fspath(path)
    with open(path, "wb") as raw:
        if path.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", compresslevel=compresslevel,
                               fileobj=raw, mtime=0) as f:
                f.write(records.tobytes())
        else:
            raw.write(records.tobytes())


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Return the indices of the first ``per_class`` examples of each class, in file order.

    >>> first_per_class(np.array([0, 1, 0, 0, 1, 1, 1]), 2).tolist()
    [0, 1, 2, 4]
    """
    chosen = [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def write_subset(src_dir: PathLike, dst_dir: PathLike, per_class_train: int = 500,
                 per_class_test: int = 100, compresslevel: int = 9) -> List[str]:
    """Write a class-balanced subset of a CIFAR-10 directory in the gzipped binary layout.

    Takes the first ``per_class_train`` training images of each class and the first
    ``per_class_test`` test images of each class, in file order (so the subset is the
    same every time), and writes ``data_batch_1.bin.gz``, ``test_batch.bin.gz`` and
    ``batches.meta.txt`` into ``dst_dir``. This is how the embedded subset was made::

        python -c "from minislim.datasets import cifar10; \\
                   cifar10.write_subset('../shared/data/cifar-10-batches-bin', \\
                                        'minislim/datasets/embedded')"

    Returns:
        The paths written.

    Raises:
        DatasetError: the source is unreadable or has too few images of some class.
    """
    dst_dir = os.fspath(dst_dir)
    os.makedirs(dst_dir, exist_ok=True)
    written = []
    for split, per_class, name in (("train", per_class_train, "data_batch_1.bin.gz"),
                                   ("test", per_class_test, "test_batch.bin.gz")):
        images, labels = load(src_dir, split)
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        if counts.min() < per_class:
            raise DatasetError(f"{src_dir}: the {split} split has only {counts.min()} images "
                               f"of class {int(counts.argmin())}, {per_class} needed")
        index = first_per_class(labels, per_class)
        path = os.path.join(dst_dir, name)
        write_binary_batch(path, images[index], labels[index], compresslevel=compresslevel)
        written.append(path)
    path = os.path.join(dst_dir, "batches.meta.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(class_names(src_dir)) + "\n")
    written.append(path)
    return written


# ----------------------------------------------------------------------------- helpers

_KNOWN_FILES = ([f"data_batch_{i}{ext}" for i in range(1, NUM_TRAIN_BATCHES + 1)
                 for ext in (".bin", "")] + ["test_batch.bin", "test_batch"])


def _resolve_dir(data_dir: Optional[PathLike]) -> str:
    """The directory to read: the embedded subset, ``data_dir``, or its archive folder."""
    if data_dir is None:
        return EMBEDDED_DIR
    folder = os.fspath(data_dir)
    check_directory(folder, "cifar10")
    if find_file(folder, _KNOWN_FILES) is None:
        for sub in ARCHIVE_FOLDERS:
            inner = os.path.join(folder, sub)
            if os.path.isdir(inner) and find_file(inner, _KNOWN_FILES) is not None:
                return inner
    return folder


def _split_files(folder: str, split: str) -> List[str]:
    """Paths of the split's batch files (binary preferred to python for each batch)."""
    if split == "test":
        path = find_file(folder, ["test_batch.bin", "test_batch"])
        if path is None:
            raise DatasetError(f"{folder}: no CIFAR-10 test batch: expected test_batch.bin "
                               "or test_batch (optionally .gz)")
        return [path]
    paths = [find_file(folder, [f"data_batch_{i}.bin", f"data_batch_{i}"])
             for i in range(1, NUM_TRAIN_BATCHES + 1)]
    paths = [p for p in paths if p is not None]
    if not paths:
        raise DatasetError(f"{folder}: no CIFAR-10 training batches: expected "
                           f"data_batch_1.bin ... data_batch_{NUM_TRAIN_BATCHES}.bin or "
                           f"data_batch_1 ... data_batch_{NUM_TRAIN_BATCHES} (optionally .gz)")
    return paths


def _class_ids(classes: Sequence[Union[int, str]], folder: str) -> List[int]:
    if isinstance(classes, (str, bytes, int)):
        classes = [classes]
    names = None
    ids = []
    for c in classes:
        if isinstance(c, str):
            names = names if names is not None else class_names(folder)
            if c not in names:
                raise ValueError(f"cifar10.load: unknown class name {c!r}; "
                                 f"the classes are {names}")
            ids.append(names.index(c))
        elif isinstance(c, (int, np.integer)) and not isinstance(c, bool) \
                and 0 <= c < NUM_CLASSES:
            ids.append(int(c))
        else:
            raise ValueError(f"cifar10.load: classes must be names or ints in 0-9, got {c!r}")
    if not ids:
        raise ValueError("cifar10.load: classes is empty")
    return sorted(set(ids))


def _check_labels(labels: np.ndarray, path: str) -> None:
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        raise DatasetError(f"{path}: example {int(bad[0])} has label {int(labels[bad[0]])}, "
                           f"expected 0-{NUM_CLASSES - 1}")


def _unpickle(path: str):
    try:
        with open_file(path) as f:
            return safe_pickle.load(f)
    except pickle.UnpicklingError as exc:
        raise DatasetError(f"{path}: {exc}") from None
    except Exception as exc:  # a corrupt pickle can fail in many ways; all are data errors
        raise DatasetError(f"{path}: not a valid CIFAR-10 python batch: "
                           f"{type(exc).__name__}: {exc}") from None


def _entry(batch, key: str, path: str):
    """``batch[key]``, whether the pickle stored the key as bytes (Python 2) or str."""
    if not isinstance(batch, dict):
        raise DatasetError(f"{path}: expected a pickled dict, got {type(batch).__name__}")
    for k in (key.encode("ascii"), key):
        if k in batch:
            return batch[k]
    keys = sorted(repr(k)[:40] if isinstance(k, (str, bytes)) else type(k).__name__ for k in batch)
    raise DatasetError(f"{path}: missing the entry {key!r} (keys: {keys[:10]})")
