"""Property-based tests of the loaders (issue 12): a valid checkpoint, CIFAR-10 binary and
python batch, and IDX file are truncated, have bytes flipped or header fields changed at
random. Every result is either the right data (or, where the format has no checksum,
well-formed data) or the loader's own error naming the file, within a second and a
memory bounded by a small multiple of the file's size."""
import gzip
import io
import os
import pickle
import tempfile
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minislim import checkpoint
from minislim.checkpoint.format import CheckpointError
from minislim.datasets import DatasetError, cifar10, mnist

# an exception NumPy could only report as "ignored" (a broken dtype freed) fails the test too
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
FAST = settings(max_examples=60, deadline=1000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FOLDER = tempfile.mkdtemp(prefix="minislim-fuzz-")
RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
LABELS = np.array([3, 0, 9])


def file_bytes(write, name):
    path = os.path.join(FOLDER, "valid-" + name)
    write(path)
    with open(path, "rb") as f:
        return f.read()


def write_checkpoint(path):
    arrays = {"net/w": RNG.standard_normal((4, 3)).astype(np.float32), "net/b": np.zeros(3, np.float32)}

    class Var:
        def __init__(self, name, value):
            self.name, self.data, self.shape, self.dtype = name, value, value.shape, value.dtype
    checkpoint.save(path, [Var(k, v) for k, v in arrays.items()], global_step=7, extra={"note": [1, 2]})


CHECKPOINT = file_bytes(write_checkpoint, "model.ckpt-7.npz")
CHECKPOINT_VALUES = checkpoint.read(os.path.join(FOLDER, "valid-model.ckpt-7.npz"))
CIFAR_BINARY = file_bytes(lambda p: cifar10.write_binary_batch(p, IMAGES, LABELS), "data_batch_1.bin")
CIFAR_PYTHON = {protocol: pickle.dumps({b"data": IMAGES.transpose(0, 3, 1, 2).reshape(3, 3072),
                                        b"labels": LABELS.tolist(), b"filenames": [b"a.png", b"b.png", b"c.png"]},
                                       protocol=protocol) for protocol in (2, 4)}
IDX = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (3, 28, 28)) + IMAGES[:, :28, :28, 0].tobytes()


@st.composite
def mutated(draw, original: bytes, header_size: int):
    """``original`` truncated, with 1-4 bytes flipped, or with bytes of its header replaced."""
    data = bytearray(original)
    kind = draw(st.sampled_from(["truncate", "flip", "header"]))
    if kind == "truncate":
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    positions = st.integers(0, len(data) - 1) if kind == "flip" else st.integers(0, header_size - 1)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(positions)] ^= draw(st.integers(1, 255))
    return bytes(data)


def run_bounded(load, path):
    """``load(path)``: its result, or the exception it raised; and the peak of traced memory."""
    tracemalloc.start()
    try:
        try:
            result = load(path)
        except Exception as error:  # judged by the caller
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def load_mutated(data, name, load, error_type, gz=False):
    path = os.path.join(FOLDER, name)
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
        f.write(data)
    size = os.path.getsize(path)
    result, peak = run_bounded(load, path)
    assert peak <= 50 * max(len(data), size) + 2**20, f"{peak} bytes traced for a {size}-byte file"
    if isinstance(result, Exception):
        assert isinstance(result, error_type), f"{type(result).__name__}: {result}"
        assert path in str(result), result
    return result


@FAST
@given(mutated(CHECKPOINT, header_size=len(CHECKPOINT)))
def test_a_mutated_checkpoint_loads_right_or_fails_naming_the_file(data):
    result = load_mutated(data, "model.ckpt-7.npz", checkpoint.read, CheckpointError)
    if not isinstance(result, Exception):  # a zip checks every entry's CRC: right data or nothing
        assert result.global_step == 7 and result.extra == CHECKPOINT_VALUES.extra
        assert sorted(result.variables) == sorted(CHECKPOINT_VALUES.variables)
        for name, value in CHECKPOINT_VALUES.variables.items():
            np.testing.assert_array_equal(result.variables[name], value)


def check_cifar(result, size=None):
    if not isinstance(result, Exception):
        images, labels = result
        assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 3) and labels.shape == (len(images),)
        assert labels.min() >= 0 and labels.max() <= 9
        if size is not None:
            assert len(images) * 3073 == size


@FAST
@given(mutated(CIFAR_BINARY, header_size=3073), st.booleans())
def test_a_mutated_cifar_binary_batch_is_well_formed_or_fails_naming_the_file(data, gz):
    name = "data_batch_1.bin.gz" if gz else "data_batch_1.bin"
    check_cifar(load_mutated(data, name, cifar10.read_batch, DatasetError, gz=gz), size=len(data))


@FAST
@given(st.sampled_from([2, 4]).flatmap(lambda p: mutated(CIFAR_PYTHON[p], header_size=200)))
def test_a_mutated_cifar_python_batch_is_well_formed_or_fails_naming_the_file(data):
    check_cifar(load_mutated(data, "data_batch_1", cifar10.read_batch, DatasetError))


@FAST
@given(mutated(IDX, header_size=16), st.booleans())
def test_a_mutated_idx_file_is_well_formed_or_fails_naming_the_file(data, gz):
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    result = load_mutated(data, name, lambda p: mnist.read_idx(p, ndim=3), DatasetError, gz=gz)
    if not isinstance(result, Exception):
        assert result.dtype == np.uint8 and result.ndim == 3 and 16 + result.size == len(data)


@FAST
@given(st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3), st.integers(0, 3000))
def test_idx_header_dimensions_are_checked_against_the_file(dims, payload):
    data = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(payload)
    result = load_mutated(data, "t10k-images-idx3-ubyte", lambda p: mnist.read_idx(p, ndim=3), DatasetError)
    if not isinstance(result, Exception):
        assert result.shape == tuple(dims)


@FAST
@given(st.lists(st.integers(-2, 2**40), min_size=0, max_size=4))
def test_a_checkpoint_entry_with_any_header_shape_loads_right_or_fails(shape):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.arange(6, dtype=np.float32))
    header = buffer.getvalue().replace(b"(6,)", repr(tuple(shape)).encode(), 1)
    import zipfile
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("w.npy", header)
    result = load_mutated(target.getvalue(), "shape.npz", checkpoint.format.read_npz, CheckpointError)
    if not isinstance(result, Exception):
        np.testing.assert_array_equal(result["w"].ravel(), np.arange(6, dtype=np.float32))


def test_the_valid_files_load():
    """The unmutated files are the right data (so a mutation that changes nothing passes for the right reason)."""
    assert isinstance(load_mutated(CHECKPOINT, "model.ckpt-7.npz", checkpoint.read, CheckpointError),
                      checkpoint.saving.CheckpointContents)
    for data, name in ((CIFAR_BINARY, "data_batch_1.bin"), (CIFAR_PYTHON[2], "data_batch_1")):
        images, labels = load_mutated(data, name, cifar10.read_batch, DatasetError)
        np.testing.assert_array_equal(images, IMAGES)
        np.testing.assert_array_equal(labels, LABELS)
    np.testing.assert_array_equal(load_mutated(IDX, "idx", lambda p: mnist.read_idx(p, ndim=3), DatasetError),
                                  IMAGES[:, :28, :28, 0])


@pytest.fixture(scope="module", autouse=True)
def clean_folder():
    yield
    for name in os.listdir(FOLDER):
        os.remove(os.path.join(FOLDER, name))
    os.rmdir(FOLDER)
