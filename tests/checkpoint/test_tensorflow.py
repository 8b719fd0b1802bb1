"""TensorFlow checkpoints (V1 and V2) read, and V2 written, without TensorFlow.

The files under tests/fixtures/tf/ were written by TensorFlow 2.15 (tests/fixtures/
make_tf_checkpoints.py); ``expected.npz`` holds what TensorFlow itself reads back from
them, and the logits tf_slim computed for the tiny net.
"""
import os
import shutil
import struct

import numpy as np
import pytest

import minislim as slim
from minislim import cli
from minislim.checkpoint import crc32c as crc
from minislim.checkpoint import table
from minislim.checkpoint import tensorflow as tf_format
from minislim.checkpoint.format import CheckpointError

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "tf")
EXPECTED = np.load(os.path.join(FIXTURES, "expected.npz"), allow_pickle=False)
CHECKPOINTS = ["v2_dtypes.ckpt", "v1_dtypes.ckpt", "tiny_v2.ckpt", "tiny_v1.ckpt", "minislim_v2.ckpt"]


def expected_tensors(prefix: str) -> dict:
    return {key.split(":", 1)[1]: EXPECTED[key] for key in EXPECTED.files if key.startswith(prefix + ":")}


def copy_checkpoint(prefix: str, directory) -> str:
    for name in os.listdir(FIXTURES):
        if name.startswith(prefix):
            shutil.copy(os.path.join(FIXTURES, name), directory)
    return os.path.join(str(directory), prefix)


# CRC32C itself: tests/checkpoint/test_crc32c.py


# --- reading what TensorFlow wrote ------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", CHECKPOINTS)
def test_every_tensor_reads_as_tensorflow_reads_it(prefix):
    expected = expected_tensors(prefix)
    checkpoint = tf_format.open_checkpoint(os.path.join(FIXTURES, prefix))
    assert checkpoint.format == ("V1" if "v1" in prefix else "V2")
    assert checkpoint.shapes() == {name: value.shape for name, value in sorted(expected.items())}
    for name, value in expected.items():
        got = checkpoint.read(name)
        assert got.dtype == value.dtype, name
        np.testing.assert_array_equal(got, value, err_msg=name)


def test_the_fixtures_cover_every_dtype_partitions_scalars_and_empty_tensors():
    v2 = tf_format.open_checkpoint(os.path.join(FIXTURES, "v2_dtypes.ckpt"))
    assert set(v2.dtypes().values()) >= {"float32", "float64", "float16", "bfloat16", "int8", "int16", "int32",
                                         "int64", "uint8", "uint16", "bool", "complex64", "complex128", "string"}
    assert len(v2.entries["partitioned/weights"].slices) == 3
    assert len(tf_format.open_checkpoint(os.path.join(FIXTURES, "v1_dtypes.ckpt")).metas["partitioned/weights"]
               .slices) == 2
    assert len(tf_format.open_checkpoint(os.path.join(FIXTURES, "tiny_v2.ckpt")).entries["tiny/partitioned"]
               .slices) == 3
    assert v2.shapes()["scalar/float"] == () and v2.shapes()["empty/int"] == (2, 0, 4)
    np.testing.assert_array_equal(v2.read("partitioned/weights"),
                                  tf_format.open_checkpoint(os.path.join(FIXTURES, "v1_dtypes.ckpt"))
                                  .read("partitioned/weights"))


def owner(array):
    """What finally holds an array's memory: itself (a copy) or the buffer it is a view of."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


def reblocked_v1(directory, block_size: int) -> str:
    """v1_dtypes.ckpt (one data block) with TensorFlow's entries written again in blocks of
    about ``block_size`` bytes, as a large V1 checkpoint has them."""
    source = os.path.join(FIXTURES, "v1_dtypes.ckpt")
    entries = [(key, bytes(value)) for key, value in table.read_table(open(source, "rb").read()).items()]
    path = os.path.join(str(directory), "reblocked.ckpt")
    with open(path, "wb") as handle:
        table.write_table(handle, entries, block_size=block_size)
    return path


@pytest.mark.parametrize("view_at_least", [64, 1 << 16])
def test_v1_tensors_read_from_many_blocks_the_large_ones_as_aligned_views(tmp_path, monkeypatch, view_at_least):
    monkeypatch.setattr(tf_format, "_VIEW_AT_LEAST", view_at_least)   # vgg_16's tensors are megabytes
    path = reblocked_v1(tmp_path, block_size=512)
    checkpoint = tf_format.open_checkpoint(path)
    assert len({handle for _, handle, _ in checkpoint.blocks.values()}) >= 10
    views = 0
    for name, value in expected_tensors("v1_dtypes.ckpt").items():
        got = checkpoint.read(name)
        assert got.dtype == value.dtype, name
        np.testing.assert_array_equal(got, value, err_msg=name)
        if not isinstance(owner(got), np.ndarray) or owner(got).nbytes > got.nbytes:   # a view of a block's buffer
            views += 1
            assert got.flags.writeable and got.flags.aligned, name
    assert views >= 1 if view_at_least == 64 else views == 0
    if view_at_least == 64:   # the largest tensor of its block: placed on a 64-byte boundary
        assert checkpoint.read("big/weights").ctypes.data % 64 == 0


def test_a_v1_block_is_checked_when_a_tensor_in_it_is_read(tmp_path):
    path = reblocked_v1(tmp_path, block_size=512)
    checkpoint = tf_format.open_checkpoint(path)
    _, (offset, size), _ = checkpoint.blocks[tf_format.slice_key("big/weights", [(0, -1)] * 3)]
    data = bytearray(open(path, "rb").read())
    data[offset + size // 2] ^= 0x01             # inside big/weights' values
    open(path, "wb").write(data)
    damaged = tf_format.open_checkpoint(path)    # the list of tensors is in another block: it still opens
    assert damaged.shapes() == checkpoint.shapes()
    np.testing.assert_array_equal(damaged.read("float32/matrix"), checkpoint.read("float32/matrix"))
    with pytest.raises(CheckpointError, match="data block .* fails its checksum"):
        damaged.read("big/weights")


def test_bfloat16_is_read_as_float32_exactly():
    value = tf_format.open_checkpoint(os.path.join(FIXTURES, "v2_dtypes.ckpt")).read("bfloat16/vector")
    assert value.dtype == np.float32
    assert np.all(value.view(np.uint32) & 0xFFFF == 0)   # only bfloat16's 16 bits are set


def test_slice_keys_are_tensorflows_ordered_code():
    index = table.read_table(table.open_bytes(os.path.join(FIXTURES, "v2_dtypes.ckpt.index")))
    keys = [key for key in index if key.startswith(b"\x00")]
    expected = {tf_format.slice_key("partitioned/weights", [(start, length), (0, -1)])
                for start, length in ((0, 2), (2, 3), (5, 1))}
    assert set(keys) == expected
    assert tf_format.slice_key("a", [(0, -1)]) == b"\x00a\x00\x01\x01\x01\x80\x7f"
    assert tf_format._signed_number_increasing(1000) == b"\xc3\xe8"
    assert tf_format._signed_number_increasing(-1000) == b"\x3c\x18"


# --- the tiny net: weights from TensorFlow, logits compared with tf_slim's ----------------------------------

def tiny_net(images):
    """tests/fixtures/make_tf_checkpoints.py's tiny_net, in minislim."""
    with slim.variable_scope("tiny"):
        net = slim.conv2d(images, 4, [3, 3], scope="conv1")
        net = slim.max_pool2d(net, [2, 2], scope="pool1")
        net = slim.conv2d(net, 6, [3, 3], normalizer_fn=slim.batch_norm,
                          normalizer_params={"is_training": False, "scale": True}, scope="conv2")
        net = slim.avg_pool2d(net, [2, 2], scope="pool2")
        net = slim.flatten(net)
        return slim.fully_connected(net, 5, activation_fn=None, scope="logits")


@pytest.mark.parametrize("prefix", ["tiny_v1.ckpt", "tiny_v2.ckpt"])
def test_a_tf_slim_net_restored_from_its_tensorflow_checkpoint_gives_tensorflows_logits(prefix):
    logits = tiny_net(slim.tensor(EXPECTED["tiny/image"]))
    assert not np.allclose(logits.numpy(), EXPECTED["tiny/logits"], atol=1e-2)  # random init differs
    init_fn = slim.assign_from_checkpoint_fn(os.path.join(FIXTURES, prefix), slim.get_variables_to_restore())
    result = init_fn()
    assert len(result.restored) == 9   # every variable of the net; the checkpoint's partitioned one is extra
    with slim.variable_scope(slim.get_variable_scope(), reuse=True):
        logits = tiny_net(slim.tensor(EXPECTED["tiny/image"]))
    np.testing.assert_allclose(logits.numpy(), EXPECTED["tiny/logits"], rtol=1e-5, atol=1e-5)


def test_restore_helpers_accept_a_tensorflow_prefix_like_an_npz(tmp_path):
    prefix = os.path.join(FIXTURES, "tiny_v2.ckpt")
    tiny_net(slim.tensor(EXPECTED["tiny/image"]))
    names = [name for name, _ in slim.checkpoint.list_variables(prefix)]
    assert "tiny/conv2/BatchNorm/moving_variance" in names and "tiny/partitioned" in names
    for alias in (prefix + ".index", prefix + ".data-00000-of-00001"):
        assert slim.checkpoint.list_variables(alias) == slim.checkpoint.list_variables(prefix)
    np.testing.assert_array_equal(slim.checkpoint.load_variable(prefix, "tiny/partitioned"),
                                  EXPECTED["tiny/partitioned"])
    report = slim.checkpoint.diff(prefix, exclude=["tiny/logits"])
    assert "tiny/partitioned" in report.unexpected and "tiny/conv1/weights" in report.restored
    # var_list as a dict of checkpoint names (renaming), and ignore_missing_vars
    with slim.variable_scope("renamed"):
        bias = slim.variable("b", shape=[4])
        extra = slim.variable("not_there", shape=[2])
    with pytest.warns(UserWarning, match="nope"):
        init_fn = slim.assign_from_checkpoint_fn(prefix, {"tiny/conv1/biases": bias, "nope": extra},
                                                 ignore_missing_vars=True)
    init_fn()
    np.testing.assert_array_equal(bias.numpy(), EXPECTED["tiny_v2.ckpt:tiny/conv1/biases"])
    with pytest.raises(CheckpointError, match="nope"):
        slim.assign_from_checkpoint_fn(prefix, {"nope": extra})


def test_a_directory_with_tensorflows_checkpoint_file_resolves_to_its_prefix(tmp_path):
    copy_checkpoint("tiny_v2.ckpt", tmp_path)
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "tiny_v2.ckpt"\n'
                                         'all_model_checkpoint_paths: "tiny_v2.ckpt"\n')
    assert slim.checkpoint.resolve_path(str(tmp_path)) == os.path.join(str(tmp_path), "tiny_v2.ckpt")
    assert len(slim.checkpoint.list_variables(str(tmp_path))) == 10


# --- writing V2 -------------------------------------------------------------------------------------------

def test_write_v2_is_what_tensorflow_read_back_and_is_byte_for_byte_reproducible(tmp_path):
    expected = expected_tensors("minislim_v2.ckpt")
    assert len(expected) >= 15
    prefix = tf_format.write_v2(str(tmp_path / "again.ckpt"), expected)
    for suffix in (".index", ".data-00000-of-00001"):
        with open(prefix + suffix, "rb") as ours, open(os.path.join(FIXTURES, "minislim_v2.ckpt" + suffix),
                                                       "rb") as committed:
            assert ours.read() == committed.read(), suffix
    for name, value in tf_format.read_all(prefix).items():
        np.testing.assert_array_equal(value, expected[name])


def test_convert_round_trips_through_npz_and_back(tmp_path):
    source = os.path.join(FIXTURES, "v1_dtypes.ckpt")
    npz = slim.checkpoint.convert(source, str(tmp_path / "model.npz"))
    back = slim.checkpoint.convert(npz, str(tmp_path / "model.ckpt"))
    original, final = tf_format.read_all(source), tf_format.read_all(back)
    assert sorted(original) == sorted(final)
    for name in original:
        np.testing.assert_array_equal(final[name], original[name], err_msg=name)
    assert slim.checkpoint.read(npz).global_step == 1234


def test_a_model_saved_here_goes_to_tensorflow_with_its_slots(tmp_path):
    w = slim.variable("fc/weights", shape=[3, 2])
    optimizer = slim.optimizers.Momentum(0.1, 0.9)
    loss = (w * w).sum()
    optimizer.minimize(loss, [w])
    path = slim.checkpoint.save(str(tmp_path / "model.ckpt-3"), [w], optimizer=optimizer, global_step=3)
    prefix = slim.checkpoint.convert(path, str(tmp_path / "tf" / "model.ckpt-3"))
    names = dict(slim.checkpoint.list_variables(prefix))
    assert names["fc/weights"] == (3, 2) and names["global_step"] == ()
    assert any(name.startswith("fc/weights/") for name in names)   # the momentum slot


def test_write_v2_refuses_an_object_array(tmp_path):
    with pytest.raises(CheckpointError, match="'bad'.*object"):
        tf_format.write_v2(str(tmp_path / "x.ckpt"), {"bad": np.array([object()])})


# --- damaged files give the reader's own error -------------------------------------------------------------

def read_everything(prefix):
    checkpoint = tf_format.open_checkpoint(prefix)
    return {name: checkpoint.read(name) for name in checkpoint.shapes()}


@pytest.mark.parametrize("prefix,damaged", [("tiny_v2.ckpt", ".index"), ("tiny_v1.ckpt", "")])
def test_every_flipped_byte_is_caught_or_harmless(tmp_path, prefix, damaged):
    path = copy_checkpoint(prefix, tmp_path)
    good = read_everything(path)
    original = open(path + damaged, "rb").read()
    caught = 0
    for position in range(0, len(original), 3 if damaged else 11):
        data = bytearray(original)
        data[position] ^= 0x5A
        with open(path + damaged, "wb") as handle:
            handle.write(data)
        try:
            got = read_everything(path)
        except CheckpointError:
            caught += 1
            continue
        assert sorted(got) == sorted(good), position
        for name in good:          # only the footer's padding may change and still read
            np.testing.assert_array_equal(got[name], good[name])
    assert caught > 0


@pytest.mark.parametrize("suffix", [".index", ".data-00000-of-00001"])
def test_truncated_files_give_a_clear_error(tmp_path, suffix):
    path = copy_checkpoint("tiny_v2.ckpt", tmp_path)
    original = open(path + suffix, "rb").read()
    for length in range(0, len(original), 13):
        with open(path + suffix, "wb") as handle:
            handle.write(original[:length])
        with pytest.raises(CheckpointError):
            read_everything(path)


def test_flipped_tensor_bytes_fail_the_tensor_checksum(tmp_path):
    path = copy_checkpoint("tiny_v2.ckpt", tmp_path)
    data = bytearray(open(path + ".data-00000-of-00001", "rb").read())
    data[10] ^= 1
    open(path + ".data-00000-of-00001", "wb").write(data)
    with pytest.raises(CheckpointError, match="tensor 'tiny/.*checksum mismatch"):
        read_everything(path)


def write_index(path, entries):
    header = tf_format.encode([(1, 0, 1)])
    with open(path + ".index", "wb") as handle:
        table.write_table(handle, [(b"", header)] + entries)


def test_an_unsupported_dtype_or_a_wrong_byte_count_names_the_tensor(tmp_path):
    prefix = str(tmp_path / "odd.ckpt")
    open(prefix + ".data-00000-of-00001", "wb").write(bytes(16))
    shape = tf_format.encode_shape([2])
    write_index(prefix, [(b"handle", tf_format.encode([(1, 0, 20), (2, 2, shape), (5, 0, 8)])),
                         (b"short", tf_format.encode([(1, 0, 1), (2, 2, shape), (5, 0, 4)]))])
    checkpoint = tf_format.open_checkpoint(prefix)
    with pytest.raises(CheckpointError, match="'handle' has dtype resource"):
        checkpoint.read("handle")
    with pytest.raises(CheckpointError, match="'short': float32 of shape \\[2\\] needs 8 bytes, the index says 4"):
        checkpoint.read("short")


def test_a_snappy_compressed_block_is_a_clear_error(tmp_path):
    prefix = str(tmp_path / "snappy.ckpt")
    write_index(prefix, [])
    data = bytearray(open(prefix + ".index", "rb").read())
    # the first block (the data block) is followed by its trailer: type byte, masked CRC
    _, index_handle = table.read_footer(bytes(data))
    block_size = len(table._block_bytes([(b"", tf_format.encode([(1, 0, 1)]))], 16))
    data[block_size] = 1
    data[block_size + 1:block_size + 5] = struct.pack("<I", crc.mask(crc.crc32c(b"\x01", crc.crc32c(
        bytes(data[:block_size])))))
    open(prefix + ".index", "wb").write(data)
    with pytest.raises(CheckpointError, match="compressed \\(snappy\\)"):
        tf_format.open_checkpoint(prefix)


def test_not_a_checkpoint_is_named(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello" * 20)
    with pytest.raises(CheckpointError, match="not a TensorFlow checkpoint"):
        tf_format.open_checkpoint(str(path))


# --- the command line ------------------------------------------------------------------------------------

def test_cli_summary_lists_a_tensorflow_checkpoint_from_its_index(capsys):
    assert cli.main(["summary", "--checkpoint", os.path.join(FIXTURES, "v1_dtypes.ckpt")]) == 0
    out = capsys.readouterr().out
    assert "partitioned/weights" in out and "(6, 4)" in out and "complex128" in out


def test_cli_convert_writes_npz_and_tensorflow(tmp_path, capsys):
    npz = str(tmp_path / "tiny.npz")
    assert cli.main(["convert", os.path.join(FIXTURES, "tiny_v1.ckpt"), npz]) == 0
    assert cli.main(["convert", npz, str(tmp_path / "tiny.ckpt")]) == 0
    out = capsys.readouterr().out
    assert "wrote .npz" in out and "TensorFlow V2 checkpoint" in out
    assert os.path.exists(str(tmp_path / "tiny.ckpt.index"))
    assert cli.main(["convert", str(tmp_path / "missing.ckpt"), npz]) == 1
    assert "missing.ckpt" in capsys.readouterr().err
