"""mnist.load on IDX files written by the tests, plain and gzipped, and on Fashion-MNIST."""
import os
import struct

import numpy as np
import pytest

from dataset_files import idx_bytes, write_bytes
from minislim.datasets import DatasetError, mnist


def write_split(folder, prefix, images, labels, gz=False, dotted=False):
    sep = "." if dotted else "-"
    write_bytes(folder / f"{prefix}-images{sep}idx3-ubyte", idx_bytes(images), gz)
    write_bytes(folder / f"{prefix}-labels{sep}idx1-ubyte", idx_bytes(labels), gz)


def random_split(rng, n):
    return (rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, size=n).astype(np.uint8))


def test_idx_header_is_big_endian_dims_then_row_major_bytes(tmp_path):
    images = np.zeros((2, 28, 28), np.uint8)
    images[1, 3, 20] = 99                              # image 1, row 3, column 20
    raw = bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 28, 28) + images.tobytes()
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(raw)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 4, 9]))
    x, y = mnist.load(tmp_path, split="test")
    assert x.shape == (2, 28, 28, 1) and x.dtype == np.uint8
    assert x[1, 3, 20, 0] == 99 and int(x.sum()) == 99
    assert y.tolist() == [4, 9] and y.dtype == np.int64


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("dotted", [False, True], ids=["hyphen", "dot"])
def test_both_splits_load_plain_or_gz_with_either_file_naming(tmp_path, rng, gz, dotted):
    train, test = random_split(rng, 9), random_split(rng, 4)
    write_split(tmp_path, "train", *train, gz=gz, dotted=dotted)
    write_split(tmp_path, "t10k", *test, gz=gz, dotted=dotted)
    for split, (images, labels) in (("train", train), ("test", test)):
        x, y = mnist.load(str(tmp_path), split=split)
        np.testing.assert_array_equal(x[..., 0], images)
        np.testing.assert_array_equal(y, labels)
        assert x.flags.writeable


def test_num_examples_takes_the_first(tmp_path, rng):
    images, labels = random_split(rng, 6)
    write_split(tmp_path, "train", images, labels)
    x, y = mnist.load(tmp_path, num_examples=4)
    np.testing.assert_array_equal(x[..., 0], images[:4])
    np.testing.assert_array_equal(y, labels[:4])
    with pytest.raises(DatasetError, match="asked for 7 train examples"):
        mnist.load(tmp_path, num_examples=7)


def test_bad_split_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        mnist.load(tmp_path, split="valid")


def test_missing_files_and_directory_are_named(tmp_path, rng):
    with pytest.raises(DatasetError, match="does not exist"):
        mnist.load(tmp_path / "absent")
    with pytest.raises(DatasetError, match="missing train-images-idx3-ubyte"):
        mnist.load(tmp_path)
    write_bytes(tmp_path / "train-images-idx3-ubyte", idx_bytes(random_split(rng, 2)[0]), False)
    with pytest.raises(DatasetError, match="missing train-labels-idx1-ubyte"):
        mnist.load(tmp_path)


def corrupt(tmp_path, rng, images_raw=None, labels_raw=None):
    images, labels = random_split(rng, 3)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(images_raw or idx_bytes(images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(labels_raw or idx_bytes(labels))


@pytest.mark.parametrize("which, raw, message", [
    ("images", b"\x01\x00\x08\x03" + bytes(12), "bad magic number 01000803"),
    ("images", b"\x00", "bad magic number 00"),
    ("images", b"\x00\x00\x0d\x03" + struct.pack(">III", 1, 1, 1) + bytes(4),
     "value type 0x0d is not supported"),
    ("images", idx_bytes(np.zeros(5, np.uint8)), "expected an IDX file with 3 dimension"),
    ("labels", idx_bytes(np.zeros((3, 1), np.uint8)), "expected an IDX file with 1 dimension"),
    ("images", idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-1], "truncated or corrupt"),
    ("images", idx_bytes(np.zeros((3, 28, 28), np.uint8)) + b"\x00", "truncated or corrupt"),
    ("images", b"\x00\x00\x08\x03\x00\x00", "truncated header"),
])
def test_corrupt_files_name_the_file(tmp_path, rng, which, raw, message):
    corrupt(tmp_path, rng, **{f"{which}_raw": raw})
    with pytest.raises(DatasetError, match=message) as info:
        mnist.load(tmp_path)
    assert f"train-{which}-idx" in str(info.value)


def test_image_and_label_counts_must_agree(tmp_path, rng):
    corrupt(tmp_path, rng, labels_raw=idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(DatasetError, match="3 images but .*train-labels-idx1-ubyte holds 4"):
        mnist.load(tmp_path)


def test_without_data_dir_the_default_location_is_used(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(mnist, "DEFAULT_DIR", str(tmp_path / "absent"))
    with pytest.raises(DatasetError, match="no data_dir given .*dataset-fashion-mnist"):
        mnist.load()
    write_split(tmp_path, "t10k", *random_split(rng, 2), gz=True)
    monkeypatch.setattr(mnist, "DEFAULT_DIR", str(tmp_path))
    assert mnist.load(split="test")[0].shape == (2, 28, 28, 1)


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_installed_fashion_mnist_test_split_has_1000_images_per_class():
    images, labels = mnist.load(split="test")
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10
    assert 0 < images.mean() < 255


def test_class_names_are_fashions_when_the_folder_says_so(tmp_path):
    assert mnist.class_names(tmp_path / "Fashion-MNIST")[9] == "Ankle boot"
    assert mnist.class_names(str(tmp_path / "fashion") + "/") == list(mnist.FASHION_CLASS_NAMES)
    assert mnist.class_names(tmp_path / "mnist") == [str(d) for d in range(10)]
    assert mnist.class_names() == list(mnist.FASHION_CLASS_NAMES)  # the default folder is Fashion-MNIST
