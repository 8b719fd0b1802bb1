"""Test helpers: writers for small data set files in the official formats, independent of the loaders.

The tests build every byte themselves (record layout, pickles, IDX headers) so that a
loader that agrees with its own writer but not with the official format still fails.
"""
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Official binary layout: per image, a label byte then the R, G and B planes."""
    out = bytearray()
    for image, label in zip(images, labels):
        out.append(int(label))
        for channel in range(3):
            out += image[:, :, channel].tobytes()  # 32 rows of 32 bytes
    return bytes(out)


def write_bytes(path: Path, data: bytes, gz: bool) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def python_batch_pickle(images, labels, bytes_keys=True, protocol=2):
    """A batch as the python version stores it: dict of data [n, 3072] and labels."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    key = (lambda k: k.encode()) if bytes_keys else (lambda k: k)
    batch = {key("batch_label"): b"testing batch 1 of 1" if bytes_keys else "testing",
             key("labels"): [int(v) for v in labels],
             key("data"): np.ascontiguousarray(data),
             key("filenames"): [b"img_%d.png" % i for i in range(len(labels))]}
    return pickle.dumps(batch, protocol=protocol)


def python2_batch_pickle(images, labels) -> bytes:
    """The bytes Python 2's cPickle (protocol 2) writes for a CIFAR-10 python batch.

    Python 2 ``str`` values appear as SHORT_BINSTRING/BINSTRING opcodes and the array
    is rebuilt with numpy.core.multiarray._reconstruct, as in the official archive.
    """
    def short_string(s: bytes) -> bytes:
        return b"U" + bytes([len(s)]) + s

    def int32(v: int) -> bytes:
        return b"J" + struct.pack("<i", v)

    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072).tobytes()
    out = b"\x80\x02}("                                       # PROTO 2, {}, MARK
    out += short_string(b"data")
    out += b"cnumpy.core.multiarray\n_reconstruct\n"
    out += b"cnumpy\nndarray\n" + int32(0) + b"\x85" + short_string(b"b") + b"\x87R"
    out += b"(" + int32(1) + int32(len(images)) + int32(3072) + b"\x86"    # (1, shape,
    out += b"cnumpy\ndtype\n" + short_string(b"u1") + int32(0) + int32(1) + b"\x87R"
    out += (b"(" + int32(3) + short_string(b"|") + b"NNN" + int32(-1) + int32(-1)
            + int32(0) + b"tb")                               # dtype state
    out += b"\x89" + b"T" + struct.pack("<i", len(data)) + data + b"tb"  # False, raw)
    out += short_string(b"labels") + b"](" + b"".join(int32(int(v)) for v in labels) + b"e"
    out += short_string(b"batch_label") + short_string(b"training batch 1 of 5")
    out += b"u."                                              # SETITEMS, STOP
    return out


def random_cifar(rng: np.random.Generator, n: int, classes=range(10)):
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = rng.permutation(np.resize(np.asarray(list(classes)), n)).astype(np.int64)
    return images, labels


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(">" + "I" * array.ndim,
                                                                  *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
