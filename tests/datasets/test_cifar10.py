"""cifar10.load on small files in the official binary and python formats, plain and gzipped."""
import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from dataset_files import (cifar_records, python2_batch_pickle, python_batch_pickle,
                           random_cifar, write_bytes)
from minislim.datasets import DatasetError, cifar10


def write_batch(folder: Path, stem: str, images, labels, fmt: str, gz: bool) -> Path:
    """Write one batch: fmt is "binary", "python" (bytes keys), "python-str" or "python2"."""
    if fmt == "binary":
        return write_bytes(folder / f"{stem}.bin", cifar_records(images, labels), gz)
    if fmt == "python2":
        return write_bytes(folder / stem, python2_batch_pickle(images, labels), gz)
    blob = python_batch_pickle(images, labels, bytes_keys=(fmt == "python"))
    return write_bytes(folder / stem, blob, gz)


FORMATS = ["binary", "python", "python-str", "python2"]


# --------------------------------------------------------------------------- layout

def test_binary_record_layout_is_label_then_red_green_blue_planes(tmp_path):
    record = np.zeros(3073, dtype=np.uint8)
    record[0] = 7                                   # label
    record[1 + 2 * 1024 + 5 * 32 + 9] = 200        # blue plane, row 5, column 9
    record[1 + 0 * 1024 + 31 * 32 + 0] = 100       # red plane, last row, first column
    (tmp_path / "test_batch.bin").write_bytes(record.tobytes())
    images, labels = cifar10.load(tmp_path, split="test")
    assert images.shape == (1, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [7] and labels.dtype == np.int64
    assert images[0, 5, 9, 2] == 200 and images[0, 31, 0, 0] == 100
    assert int(images.sum()) == 300


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_the_same_arrays(tmp_path, rng, fmt, gz):
    parts = [random_cifar(rng, n) for n in (12, 7)]
    for number, (images, labels) in enumerate(parts, start=1):
        write_batch(tmp_path, f"data_batch_{number}", images, labels, fmt, gz)
    test = random_cifar(rng, 5)
    write_batch(tmp_path, "test_batch", *test, fmt, gz)

    images, labels = cifar10.load(tmp_path, split="train")
    np.testing.assert_array_equal(images, np.concatenate([p[0] for p in parts]))
    np.testing.assert_array_equal(labels, np.concatenate([p[1] for p in parts]))
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    assert images.flags.c_contiguous and images.flags.writeable
    test_images, test_labels = cifar10.load(str(tmp_path), split="test")
    np.testing.assert_array_equal(test_images, test[0])
    np.testing.assert_array_equal(test_labels, test[1])


def test_train_split_reads_whichever_batches_exist_in_number_order(tmp_path, rng):
    four, two = random_cifar(rng, 3), random_cifar(rng, 4)
    write_batch(tmp_path, "data_batch_4", *four, "binary", gz=True)
    write_batch(tmp_path, "data_batch_2", *two, "python", gz=False)
    images, labels = cifar10.load(tmp_path)
    np.testing.assert_array_equal(images, np.concatenate([two[0], four[0]]))
    np.testing.assert_array_equal(labels, np.concatenate([two[1], four[1]]))


def test_binary_file_is_preferred_to_python_twin_and_plain_to_gz(tmp_path, rng):
    binary, python, gz = random_cifar(rng, 2), random_cifar(rng, 3), random_cifar(rng, 4)
    write_batch(tmp_path, "test_batch", *binary, "binary", gz=False)
    write_batch(tmp_path, "test_batch", *gz, "binary", gz=True)
    write_batch(tmp_path, "test_batch", *python, "python", gz=False)
    _, labels = cifar10.load(tmp_path, split="test")
    np.testing.assert_array_equal(labels, binary[1])


def test_extracted_archive_folder_is_found_inside_the_data_dir(tmp_path, rng):
    inner = tmp_path / "cifar-10-batches-py"
    inner.mkdir()
    test = random_cifar(rng, 3)
    write_batch(inner, "test_batch", *test, "python2", gz=False)
    images, _ = cifar10.load(tmp_path, split="test")
    np.testing.assert_array_equal(images, test[0])


# --------------------------------------------------------------------------- subsets

def test_classes_by_int_or_name_keep_original_labels(cifar_dir):
    folder, (images, labels), _ = cifar_dir
    keep = np.isin(labels, [3, 5])
    for classes in ([3, 5], ["cat", "dog"], [5, "cat"], (np.int64(3), 5)):
        sub_images, sub_labels = cifar10.load(folder, classes=classes)
        np.testing.assert_array_equal(sub_labels, labels[keep])
        np.testing.assert_array_equal(sub_images, images[keep])


def test_num_examples_takes_the_first_after_class_filtering(cifar_dir):
    folder, (images, labels), _ = cifar_dir
    keep = np.flatnonzero(np.isin(labels, [0, 1, 2, 3, 4]))
    n = int(np.sum(keep < 30)) + 2          # two examples from the second batch file
    sub_images, sub_labels = cifar10.load(folder, num_examples=int(n), classes=range(5))
    np.testing.assert_array_equal(sub_labels, labels[keep[:n]])
    np.testing.assert_array_equal(sub_images, images[keep[:n]])
    first, _ = cifar10.load(folder, num_examples=5)
    np.testing.assert_array_equal(first, images[:5])


def test_asking_for_more_examples_than_exist_is_a_dataset_error(cifar_dir):
    folder, (_, labels), _ = cifar_dir
    with pytest.raises(DatasetError, match=f"asked for {len(labels) + 1} train examples"):
        cifar10.load(folder, num_examples=len(labels) + 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "validation"}, "split must be one of"),
    ({"num_examples": 0}, "num_examples must be a positive int"),
    ({"num_examples": 2.5}, "num_examples must be a positive int"),
    ({"classes": ["kitten"]}, "unknown class name 'kitten'"),
    ({"classes": [10]}, "classes must be names or ints in 0-9"),
    ({"classes": []}, "classes is empty"),
])
def test_bad_arguments_are_value_errors_but_not_dataset_errors(cifar_dir, kwargs, message):
    folder = cifar_dir[0]
    with pytest.raises(ValueError, match=message) as info:
        cifar10.load(folder, **kwargs)
    assert not isinstance(info.value, DatasetError)


# --------------------------------------------------------------------------- bad files

def test_missing_directory_names_it(tmp_path):
    with pytest.raises(DatasetError, match="nowhere does not exist"):
        cifar10.load(tmp_path / "nowhere")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(DatasetError, match="is not a directory"):
        cifar10.load(tmp_path / "file")


def test_missing_batches_name_the_files_expected(tmp_path, rng):
    with pytest.raises(DatasetError, match=r"no CIFAR-10 training batches.*data_batch_1\.bin"):
        cifar10.load(tmp_path)
    write_batch(tmp_path, "data_batch_1", *random_cifar(rng, 2), "binary", gz=False)
    with pytest.raises(DatasetError, match=r"no CIFAR-10 test batch.*test_batch\.bin"):
        cifar10.load(tmp_path, split="test")


@pytest.mark.parametrize("size", [0, 3072, 3073 * 2 + 5])
def test_binary_size_not_a_whole_number_of_records_names_the_file(tmp_path, size):
    (tmp_path / "test_batch.bin").write_bytes(bytes(size))
    with pytest.raises(DatasetError, match=r"test_batch\.bin: size .* 3073-byte records"):
        cifar10.load(tmp_path, split="test")


def test_truncated_gzip_names_the_file(tmp_path, rng):
    path = write_batch(tmp_path, "test_batch", *random_cifar(rng, 4), "binary", gz=True)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match=r"test_batch\.bin\.gz: cannot read"):
        cifar10.load(tmp_path, split="test")


def test_not_gzip_at_all_names_the_file(tmp_path):
    (tmp_path / "test_batch.bin.gz").write_bytes(b"this is not gzip" * 300)
    with pytest.raises(DatasetError, match=r"test_batch\.bin\.gz"):
        cifar10.load(tmp_path, split="test")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("bad_label", [10, 255])
def test_label_out_of_range_names_the_file_and_example(tmp_path, rng, fmt, bad_label):
    images, labels = random_cifar(rng, 5)
    labels[3] = bad_label
    write_batch(tmp_path, "test_batch", images, labels, fmt, gz=False)
    with pytest.raises(DatasetError, match=f"test_batch.*: example 3 has label {bad_label}"):
        cifar10.load(tmp_path, split="test")


def python_file(tmp_path, obj, protocol=2) -> Path:
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


@pytest.mark.parametrize("obj, message", [
    ([1, 2, 3], "expected a pickled dict, got list"),
    ({b"labels": [1]}, "missing the entry 'data'"),
    ({b"data": np.zeros((2, 3072), np.uint8)}, "missing the entry 'labels'"),
    ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [1, 2]}, r"shape \[n, 3072\]"),
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [1, 2]}, "integer NumPy array"),
    ({b"data": [[0] * 3072], b"labels": [1]}, "integer NumPy array"),
    ({b"data": np.full((1, 3072), 300, np.int32), b"labels": [1]}, "0-255"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 2, 3]}, "2 images but 3 labels"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["a", "b"]}, "flat list of ints"),
    ({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, "holds no images"),
])
def test_malformed_python_batch_names_the_file(tmp_path, obj, message):
    python_file(tmp_path, obj)
    with pytest.raises(DatasetError, match=message) as info:
        cifar10.load(tmp_path, split="test")
    assert str(tmp_path / "test_batch") in str(info.value)


@pytest.mark.parametrize("blob", [b"", b"garbage that is not a pickle", b"\x80\x02}q\x00(U"])
def test_corrupt_pickle_is_a_dataset_error(tmp_path, blob):
    (tmp_path / "test_batch").write_bytes(blob)
    with pytest.raises(DatasetError, match="test_batch"):
        cifar10.load(tmp_path, split="test")


class RunsShellCommand:
    """A pickle that, when loaded by pickle.load, would run a shell command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_pickle_that_would_run_a_command_is_refused_and_does_not_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    batch = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [RunsShellCommand(marker)]}
    python_file(tmp_path, batch, protocol=protocol)
    with pytest.raises(DatasetError, match=r"test_batch: refusing to unpickle .*system"):
        cifar10.load(tmp_path, split="test")
    assert not marker.exists()
    # The same bytes do run the command with an ordinary pickle.load: the test is real.
    pickle.loads((tmp_path / "test_batch").read_bytes())
    assert marker.exists()


def test_malicious_gzipped_meta_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    with gzip.open(tmp_path / "batches.meta.gz", "wb") as f:
        f.write(pickle.dumps({b"label_names": RunsShellCommand(marker)}))
    with pytest.raises(DatasetError, match=r"batches\.meta\.gz: refusing to unpickle"):
        cifar10.class_names(tmp_path)
    assert not marker.exists()


# --------------------------------------------------------------------------- class names

def test_class_names_from_text_meta_python_meta_or_defaults(tmp_path):
    assert cifar10.class_names(tmp_path) == list(cifar10.CLASS_NAMES)
    names = [f"class{i}" for i in range(10)]
    (tmp_path / "batches.meta").write_bytes(pickle.dumps(
        {b"label_names": [n.encode() for n in names], b"num_cases_per_batch": 10000}, protocol=2))
    assert cifar10.class_names(tmp_path) == names
    (tmp_path / "batches.meta.txt").write_text("\n".join(reversed(names)) + "\n\n")
    assert cifar10.class_names(tmp_path) == names[::-1]


def test_class_names_are_used_to_resolve_class_arguments(cifar_dir):
    folder, (_, labels), _ = cifar_dir
    (folder / "batches.meta.txt").write_text("\n".join(f"c{i}" for i in range(10)))
    _, sub_labels = cifar10.load(folder, classes=["c7"])
    np.testing.assert_array_equal(sub_labels, labels[labels == 7])


def test_meta_file_with_wrong_number_of_names_names_the_file(tmp_path):
    (tmp_path / "batches.meta.txt").write_text("a\nb\n")
    with pytest.raises(DatasetError, match=r"batches\.meta\.txt: expected 10 class names, got 2"):
        cifar10.class_names(tmp_path)


# --------------------------------------------------------------------------- writing

@pytest.mark.parametrize("name", ["test_batch.bin", "test_batch.bin.gz"])
def test_write_binary_batch_gives_the_official_bytes(tmp_path, rng, name):
    images, labels = random_cifar(rng, 6)
    cifar10.write_binary_batch(tmp_path / name, images, labels)
    path = tmp_path / name
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    assert raw == cifar_records(images, labels)


def test_gzipped_batch_bytes_are_reproducible(tmp_path, rng):
    images, labels = random_cifar(rng, 3)
    cifar10.write_binary_batch(tmp_path / "a.bin.gz", images, labels)
    cifar10.write_binary_batch(tmp_path / "b.bin.gz", images, labels)
    assert (tmp_path / "a.bin.gz").read_bytes() == (tmp_path / "b.bin.gz").read_bytes()


def test_write_subset_takes_the_first_examples_of_each_class_in_file_order(cifar_dir, tmp_path):
    folder, (images, labels), (test_images, test_labels) = cifar_dir
    out = tmp_path / "subset"
    per_class, test_per_class = 2, 1       # the fixture has 5 and 1-2 of each class
    cifar10.write_subset(folder, out, per_class, test_per_class, compresslevel=1)
    assert sorted(os.listdir(out)) == ["batches.meta.txt", "data_batch_1.bin.gz",
                                       "test_batch.bin.gz"]
    sub_images, sub_labels = cifar10.load(out)
    expected = sorted(i for c in range(10) for i in np.flatnonzero(labels == c)[:per_class])
    np.testing.assert_array_equal(sub_labels, labels[expected])
    np.testing.assert_array_equal(sub_images, images[expected])
    test_images_out, test_labels_out = cifar10.load(out, split="test")
    expected = sorted(np.flatnonzero(test_labels == c)[0] for c in range(10))
    np.testing.assert_array_equal(test_labels_out, test_labels[expected])
    np.testing.assert_array_equal(test_images_out, test_images[expected])
    assert cifar10.class_names(out) == list(cifar10.CLASS_NAMES)


def test_write_subset_refuses_a_source_with_too_few_images_of_a_class(cifar_dir, tmp_path):
    folder = cifar_dir[0]
    with pytest.raises(DatasetError, match="the train split has only"):
        cifar10.write_subset(folder, tmp_path / "subset", per_class_train=100)
