"""Data files built to hurt (issue 12): a "billion laughs" pickle, IDX headers whose
dimensions overflow or outgrow the file, a gzip that would expand past DEFLATE's limit,
an array pickle that asks for a huge allocation. Each is a DatasetError naming the file,
in a time and memory proportional to the file."""
import gzip
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dataset_files import python_batch_pickle, random_cifar
from minislim.datasets import DatasetError, cifar10, mnist, safe_pickle

ROOT = str(Path(__file__).resolve().parents[2])


def billion_laughs(depth=40):
    """3 KB whose labels list, walked as a tree, has 2**depth leaves."""
    labels = [0]
    for _ in range(depth):
        labels = [labels, labels]
    return pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": labels}, protocol=2)


def test_a_billion_laughs_pickle_is_refused_at_once(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(billion_laughs())
    assert os.path.getsize(path) < 4000
    # in a child with a time limit: a loader that walks the tree would run for hours
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        from minislim.datasets import DatasetError, cifar10
        try:
            cifar10.load({str(tmp_path)!r})
        except DatasetError as error:
            print(error)
        """)], capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": ROOT})
    assert child.stdout.strip() == (f"{path}: refusing a pickle that refers to the same list twice (memo index 68): "
                                    "a shared container can make a small file expand without bound"), child.stderr


@pytest.mark.parametrize("make", [
    lambda: (lambda t: [t, t])((1, 2)),            # a tuple shared
    lambda: (lambda d: [d, d])({b"a": 1}),         # a dict shared
    lambda: (lambda s: [s, s])({1, 2}),            # a set shared (protocol 4 has set opcodes)
])
def test_any_shared_container_is_refused(make):
    for protocol in (2, 4, 5):
        with pytest.raises(pickle.UnpicklingError, match="refers to the same"):
            safe_pickle.loads(pickle.dumps(make(), protocol=protocol))


def test_shared_strings_and_recursion_free_data_still_load():
    name = b"shared"
    value = {b"names": [name, name, name], b"nested": [[1, [2, (3, 4)]], {b"k": {1, 2}}]}
    for protocol in (2, 4, 5):
        assert safe_pickle.loads(pickle.dumps(value, protocol=protocol)) == value


def test_an_array_pickle_cannot_ask_for_a_big_allocation():
    blob = pickle.dumps(np.zeros(3, np.uint8), protocol=2)
    bad = blob.replace(b"K\x00\x85", b"J\x00\xe8\xd4\xa5\x85", 1)  # _reconstruct's (0,) -> (2782193664,)
    assert bad != blob
    with pytest.raises(pickle.UnpicklingError, match="refusing _reconstruct of anything but an empty ndarray"):
        safe_pickle.loads(bad)


def test_labels_are_counted_before_they_are_converted(tmp_path, rng):
    images, labels = random_cifar(rng, 4)
    path = tmp_path / "data_batch_1"
    batch = pickle.loads(python_batch_pickle(images, labels))
    batch[b"labels"] = [0] * 5
    path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DatasetError, match="data_batch_1: 4 images but 5 labels"):
        cifar10.read_python_batch(path)
    batch[b"labels"] = [0, 1, b"2", 3]
    path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DatasetError, match="data_batch_1: 'labels' must be a flat list of ints"):
        cifar10.read_python_batch(path)


def idx_header(*dims):
    return bytes([0, 0, 8, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)


@pytest.mark.parametrize("dims, payload", [((2**22, 2**21, 2**21), 0),  # 2**64 values: 0 in int64 arithmetic
                                           ((2**32 - 1, 2**32 - 1, 2**32 - 1), 100), ((3, 28, 28), 100)])
def test_idx_dimensions_that_overflow_or_outgrow_the_file_are_refused(dims, payload, tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_header(*dims) + bytes(payload))
    with pytest.raises(DatasetError, match=f"{path}: the header says .* the file has {16 + payload}"):
        mnist.read_idx(path, ndim=3)


def test_a_gzipped_idx_claiming_more_than_deflate_can_give_is_refused(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(idx_header(2**20, 2**10, 2**10) + bytes(1000))
    with pytest.raises(DatasetError, match="more than .* gzipped bytes can hold"):
        mnist.read_idx(path, ndim=3)
    with gzip.open(path, "wb") as f:  # a plausible claim, cut short
        f.write(idx_header(100, 28, 28) + np.random.default_rng(0).bytes(1000))
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        mnist.read_idx(path, ndim=3)


def dtype_state_pickle(value, field, new):
    """``value`` pickled (protocol 2) with one field of its dtype's state replaced by ``new``.

    NumPy pickles a dtype as ``dtype(spec, False, True)`` (a fresh copy) followed by a
    BUILD with the state ``(3, endian, subarray, names, fields, elsize, alignment, flags)``.
    """
    blob = pickle.dumps(value, protocol=2)
    # after the endian string: subarray, names, fields (None), elsize, alignment (-1), flags (0)
    state = blob.index(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t")
    fields = {"subarray": (0, b"N"), "elsize": (3, b"J\xff\xff\xff\xff"), "flags": (13, b"K\x00")}
    at, old = fields[field]
    start = state + at
    assert blob[start:start + len(old)] == old
    return blob[:start] + new + blob[start + len(old):]


@pytest.mark.parametrize("field, new", [
    ("flags", b"K\x01"),                 # "holds Python objects": uint8 bytes taken for pointers
    ("flags", b"K\x3f"),                 # every flag, "list pickle" among them
    ("elsize", b"K\x40"),                # a uint8 of 64 bytes
    ("subarray", b"(K\x02K\x02t"),       # not a (dtype, shape) pair
])
def test_a_dtype_whose_pickled_state_lies_is_refused(field, new):
    """A dtype's state is applied in place by NumPy's __setstate__; flags that say a uint8
    holds Python objects make NumPy treat the pixels as object pointers (internal errors
    on NumPy 2, reference counts of garbage on older ones). Found by tests/test_fuzz_loaders.py."""
    blob = dtype_state_pickle(np.arange(6, dtype=np.uint8), field, new)
    with pytest.raises(pickle.UnpicklingError, match="refusing the dtype state"):
        safe_pickle.loads(blob)


@pytest.mark.parametrize("dtype", ["<u1", ">i4", "<f8", "|b1", "<c16", "S3", "<U2", "<M8[s]"])
def test_arrays_of_plain_dtypes_still_load_with_their_byte_order(dtype):
    value = np.arange(4).astype(dtype)
    for protocol in (2, 4, 5):
        blob = pickle.dumps(value, protocol=protocol)
        back = safe_pickle.loads(blob)
        assert back.dtype.str == pickle.loads(blob).dtype.str  # as NumPy's own unpickling gives it
        np.testing.assert_array_equal(back, value)


def test_numpy_ndarray_cannot_be_called_with_a_shape():
    """NumPy's pickles pass ``numpy.ndarray`` to ``_reconstruct`` as an argument; called
    itself, ``ndarray((10**9,), "u1")`` from 35 bytes would allocate a gigabyte."""
    blob = b"\x80\x02cnumpy\nndarray\n\x8a\x05" + (10**9).to_bytes(5, "little") + b"\x85X\x02\x00\x00\x00u1\x86R."
    with pytest.raises(pickle.UnpicklingError, match=r"refusing numpy\.ndarray\(\) called directly"):
        safe_pickle.loads(blob)


def test_an_array_state_whose_data_does_not_fill_its_shape_is_refused():
    blob = pickle.dumps(np.arange(6, dtype=np.uint8), protocol=2)
    bad = blob.replace(b"K\x06\x85", b"J\x00\xca\x9a\x3b\x85", 1)  # the state's shape (6,) -> (10**9,)
    assert bad != blob
    with pytest.raises(pickle.UnpicklingError, match=r"shape \(1000000000,\) of uint8 needs 1000000000 bytes, the "
                                                     r"pickle holds 6"):
        safe_pickle.loads(bad)


def test_an_object_array_whose_shape_lies_is_refused_without_crashing():
    """NumPy's ``ndarray.__setstate__`` of an object array longer than its list of items
    crashes the interpreter (a segmentation fault): object arrays are refused, in a child
    process so that the suite survives the crash this guards against."""
    blob = pickle.dumps(np.array([1, 2], dtype=object), protocol=2)
    bad = blob.replace(b"K\x02\x85", b"J\x00\xca\x9a\x3b\x85", 1)  # shape (2,) -> (10**9,)
    assert bad != blob
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import pickle
        from minislim.datasets import safe_pickle
        try:
            safe_pickle.loads({bad!r})
        except pickle.UnpicklingError as error:
            print(error)
        """)], capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
    assert child.returncode == 0, (child.returncode, child.stderr)
    assert "refusing to unpickle numpy.dtype('O8'): object arrays" in child.stdout
