"""Fixtures for the data set tests: small files in the official formats in tmp dirs."""
import numpy as np
import pytest

from dataset_files import cifar_records, random_cifar, write_bytes


@pytest.fixture
def cifar_dir(tmp_path, rng):
    """A directory with two binary training batches and a test batch; returns the arrays."""
    parts = [random_cifar(rng, n) for n in (30, 20)]
    for number, (images, labels) in enumerate(parts, start=1):
        write_bytes(tmp_path / f"data_batch_{number}.bin", cifar_records(images, labels), False)
    test = random_cifar(rng, 15)
    write_bytes(tmp_path / "test_batch.bin", cifar_records(*test), False)
    train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return tmp_path, train, test
