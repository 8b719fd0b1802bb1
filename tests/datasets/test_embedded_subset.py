"""The CIFAR-10 subset shipped in the package: its size, its counts, how it was made."""
import configparser
import fnmatch
import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from minislim.datasets import cifar10

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "data" / "cifar-10-batches-bin"
EMBEDDED = Path(cifar10.EMBEDDED_DIR)
FILES = ["batches.meta.txt", "data_batch_1.bin.gz", "test_batch.bin.gz"]


def test_embedded_files_are_present_and_at_most_20_mb():
    for name in FILES:
        assert (EMBEDDED / name).is_file(), name
    total = sum((EMBEDDED / name).stat().st_size for name in FILES)
    assert total <= 20 * 2 ** 20


def test_package_data_patterns_cover_the_embedded_files():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["minislim.datasets"].split(",")]
    for name in FILES + ["README.txt"]:
        assert any(fnmatch.fnmatch(f"embedded/{name}", p) for p in patterns), name


@pytest.mark.parametrize("split, per_class", [("train", 500), ("test", 100)])
def test_embedded_split_is_balanced_and_used_without_a_data_dir(split, per_class):
    images, labels = cifar10.load(split=split)
    assert images.shape == (10 * per_class, 32, 32, 3) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [per_class] * 10
    assert 40 < images.mean() < 200                  # real photographs, not zeros
    assert cifar10.class_names() == list(cifar10.CLASS_NAMES)


def test_embedded_subset_stores_the_official_binary_layout():
    raw = gzip.decompress((EMBEDDED / "test_batch.bin.gz").read_bytes())
    assert len(raw) == 1000 * 3073
    images, labels = cifar10.load(split="test", num_examples=1)
    assert raw[0] == labels[0]
    assert raw[1:1025] == images[0, :, :, 0].tobytes()


@pytest.mark.skipif(not SOURCE.is_dir(), reason=f"source data {SOURCE} absent")
def test_write_subset_rebuilds_the_embedded_records_from_the_source(tmp_path):
    cifar10.write_subset(SOURCE, tmp_path, 500, 100, compresslevel=1)
    for name in FILES:
        built, shipped = (tmp_path / name).read_bytes(), (EMBEDDED / name).read_bytes()
        if name.endswith(".gz"):
            built, shipped = gzip.decompress(built), gzip.decompress(shipped)
        assert built == shipped, name
    assert os.path.getsize(EMBEDDED / "README.txt") > 0
