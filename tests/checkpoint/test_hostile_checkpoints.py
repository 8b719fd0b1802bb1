"""Checkpoints built to hurt (issue 12): a .npy header that lies about its shape (a memory
bomb), the same entry twice, a compressed member that claims to expand past DEFLATE's
limit. Each is a CheckpointError naming the file, before anything big is allocated."""
import io
import os
import struct
import zipfile

import numpy as np
import pytest

from minislim import checkpoint
from minislim.checkpoint.format import CheckpointError, read_npz, write_npz


def npy_bytes(array, shape=None):
    """A .npy member for ``array``, its header's shape replaced by ``shape`` (text) if given."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    raw = buffer.getvalue()
    if shape is not None:
        raw = raw.replace(repr(array.shape).encode(), shape.encode(), 1)
    return raw


def test_a_header_claiming_terabytes_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", npy_bytes(np.zeros(3, np.float32), "(1000000000000,)"))
    assert os.path.getsize(path) < 300
    with pytest.raises(CheckpointError, match=r"bomb.npz'.*entry 'w'.*header says shape \(1000000000000,\) of float32 "
                                              r"\(4000000000000 bytes\), the entry holds \d+ bytes"):
        checkpoint.read(path)


@pytest.mark.parametrize("shape", ["(2, 3)", "(1,)", "(0,)", "(4294967296, 4294967296, 2)", "(-1,)"])
def test_any_header_that_disagrees_with_its_data_is_refused(shape, tmp_path):
    path = tmp_path / "lies.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", npy_bytes(np.zeros(3, np.float32), shape))
    with pytest.raises(CheckpointError, match="lies.npz"):
        read_npz(path)


def test_an_entry_stored_twice_is_refused(tmp_path):
    path = tmp_path / "twice.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", npy_bytes(np.zeros(3, np.float32)))
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("w.npy", npy_bytes(np.ones(3, np.float32)))
    with pytest.raises(CheckpointError, match="twice.npz'.*entry 'w' appears twice"):
        read_npz(path)


def test_a_compressed_member_claiming_more_than_deflate_can_give_is_refused(tmp_path):
    path = tmp_path / "zipbomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("w.npy", npy_bytes(np.zeros(1000, np.float32)))
    raw = bytearray(path.read_bytes())
    # claim 10**9 uncompressed bytes in the central directory's record of the member
    central = raw.index(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, 10**9)
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="zipbomb.npz'.*claims 1000000000 bytes"):
        read_npz(path)


def test_honest_files_still_load(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.asfortranarray(np.eye(3)),
              "text": np.array("hello"), "empty": np.zeros((0, 4)), "scalar": np.int64(7)}
    write_npz(tmp_path / "stored.npz", arrays)
    np.savez_compressed(tmp_path / "compressed.npz", **arrays)
    for name in ("stored.npz", "compressed.npz"):
        loaded = read_npz(tmp_path / name)
        assert sorted(loaded) == sorted(arrays)
        for key, value in arrays.items():
            np.testing.assert_array_equal(loaded[key], value)
            assert loaded[key].dtype == np.asarray(value).dtype
