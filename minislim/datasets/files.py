"""Reading data set files: the error type, plain-or-gzip reading, finding a file by name.

Every loader in :mod:`minislim.datasets` reports a bad file with a :class:`DatasetError`
whose message starts with the file's path, so a user can tell which file to fix. It is a
``ValueError``, and the command line maps it to exit code 1 (a data error).

>>> import gzip, os, tempfile
>>> folder = tempfile.mkdtemp()
>>> with gzip.open(os.path.join(folder, "hello.bin.gz"), "wb") as f:
...     _ = f.write(b"abc")
>>> path = find_file(folder, ["hello.bin"])
>>> os.path.basename(path), read_bytes(path)
('hello.bin.gz', b'abc')
>>> find_file(folder, ["missing.bin"]) is None
True
"""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Iterable, Optional


class DatasetError(ValueError):
    """A data set file is missing, truncated, corrupt or holds values out of range."""


def find_file(folder: str, names: Iterable[str]) -> Optional[str]:
    """Return the path of the first of ``names`` present in ``folder``, plain or ``.gz``.

    For each name in order, the plain file is preferred to its ``.gz`` twin.

    Args:
        folder: the directory to look in.
        names: candidate file names, most preferred first.

    Returns:
        The path found, or ``None`` when no candidate exists.
    """
    for name in names:
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
    return None


def open_file(path: str):
    """Open ``path`` for binary reading, decompressing on the fly when it ends in ``.gz``."""
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_bytes(path: str) -> bytes:
    """Return the whole (decompressed) content of ``path``.

    Raises:
        DatasetError: the file cannot be read or is not a valid gzip stream (truncated,
            corrupt).
    """
    try:
        with open_file(path) as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read the file: {exc}") from None


def check_directory(data_dir: str, dataset: str) -> None:
    """Raise :class:`DatasetError` unless ``data_dir`` is an existing directory."""
    if not os.path.isdir(data_dir):
        what = "is not a directory" if os.path.exists(data_dir) else "does not exist"
        raise DatasetError(f"{dataset}: data directory {data_dir} {what}")
