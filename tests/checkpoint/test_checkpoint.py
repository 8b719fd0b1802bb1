"""slim.checkpoint: round trips, strict restore errors, unsafe and broken files, subsets."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import minislim as slim
from minislim import checkpoint
from minislim.checkpoint import CheckpointError
from minislim.optimizers import Momentum


def make_model(classes=3, dtype=None):
    with slim.variable_scope("net"):
        with slim.variable_scope("conv1"):
            w = slim.model_variable("weights", shape=[2, 2], dtype=dtype)
            b = slim.model_variable("biases", shape=[2], initializer=slim.zeros_initializer(), dtype=dtype)
        with slim.variable_scope("logits"):
            head = slim.model_variable("weights", shape=[2, classes], dtype=dtype)
    return [w, b, head]


def train_once(variables, optimizer):
    loss = sum((v * v).sum() for v in variables)
    optimizer.minimize(loss, variables)


def test_round_trip_restores_variables_slots_step_and_extra(tmp_path):
    variables = make_model()
    opt = Momentum(0.1, 0.9)
    train_once(variables, opt)
    rng_state = np.random.default_rng(5).bit_generator.state  # 128-bit ints inside
    extra = {"rng": rng_state, "data": {"epoch": 2, "order": np.arange(4, dtype=np.int32)}, "t": (1, 2.5)}
    path = checkpoint.save(tmp_path / "model.ckpt-1", variables, optimizer=opt, global_step=1, extra=extra)
    assert path.endswith("model.ckpt-1.npz")
    saved = [v.data.copy() for v in variables]
    slots = [opt.get_slot(v, "momentum").data.copy() for v in variables]

    slim.reset_default_graph()
    fresh, opt2 = make_model(), Momentum(0.1, 0.9)
    result = checkpoint.restore(path, fresh, optimizer=opt2)
    assert result.global_step == 1
    for v, value, slot in zip(fresh, saved, slots):
        np.testing.assert_array_equal(v.data, value)
        np.testing.assert_array_equal(opt2.get_slot(v, "momentum").data, slot)
    assert result.extra["rng"] == rng_state and result.extra["t"] == (1, 2.5)
    np.testing.assert_array_equal(result.extra["data"]["order"], np.arange(4))
    assert result.extra["data"]["order"].dtype == np.int32
    assert opt2.iterations == opt.iterations == 1


def test_list_variables_and_load_variable(tmp_path):
    variables = make_model()
    opt = Momentum(0.1, 0.9)
    train_once(variables, opt)
    path = checkpoint.save(tmp_path / "c", variables, optimizer=opt, global_step=3)
    names = dict(checkpoint.list_variables(path))
    assert names["net/conv1/weights"] == (2, 2) and names["net/conv1/weights/momentum"] == (2, 2)
    assert names["global_step"] == ()
    assert not any(name.startswith("minislim:") for name in names)
    np.testing.assert_array_equal(checkpoint.load_variable(path, "net/logits/weights"), variables[2].data)


def test_strict_restore_lists_every_problem_names_the_file_and_assigns_nothing(tmp_path):
    path = checkpoint.save(tmp_path / "old", make_model(classes=3))
    slim.reset_default_graph()
    w, b, head = make_model(classes=5, dtype="float64")  # every entry now differs in dtype or shape
    with slim.variable_scope("net"):
        extra = slim.variable("new_layer", shape=[1])
    before = [v.data.copy() for v in (w, b, head, extra)]
    with pytest.raises(CheckpointError) as info:
        checkpoint.restore(path, [w, head, extra])  # b left out: its entry is unexpected
    message = str(info.value)
    assert str(path) in message and "nothing was assigned" in message
    assert "missing from the checkpoint (1):\n    net/new_layer" in message
    assert "unexpected in the checkpoint" in message and "net/conv1/biases" in message
    assert "net/logits/weights: checkpoint [2, 3], variable [2, 5]" in message
    assert "net/conv1/weights: checkpoint float32, variable float64" in message
    for v, value in zip((w, b, head, extra), before):
        np.testing.assert_array_equal(v.data, value)


def test_optimizer_of_another_kind_is_reported(tmp_path):
    variables = make_model()
    opt = Momentum(0.1, 0.9)
    train_once(variables, opt)
    path = checkpoint.save(tmp_path / "c", variables, optimizer=opt)
    with pytest.raises(CheckpointError, match="(?s)optimizer is Momentum, the given one is Adam.*keeps no slot 'momentum'"):
        checkpoint.restore(path, variables, optimizer=slim.optimizers.Adam())
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        checkpoint.restore(checkpoint.save(tmp_path / "d", variables), variables, optimizer=Momentum(0.1, 0.9))


class _Exploit:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickled_object_in_the_npz_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(str(marker))
    np.savez(path, **{"net/conv1/weights": payload})
    with pytest.raises(CheckpointError, match="'net/conv1/weights' holds pickled Python objects"):
        checkpoint.restore(path, make_model())
    assert not marker.exists()
    # a bare pickle renamed to .npz is not even a zip
    (tmp_path / "bare.npz").write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(CheckpointError, match="not a readable .npz"):
        checkpoint.list_variables(tmp_path / "bare.npz")
    assert not marker.exists()


def test_truncated_file_names_the_file_and_the_entry_cut_off(tmp_path):
    make_model()
    with slim.variable_scope("net"):
        slim.variable("big", shape=[1000])
    path = checkpoint.save(tmp_path / "model.ckpt-9", slim.get_variables())
    data = open(path, "rb").read()
    for size, where in ((0, ""), (10, ""), (len(data) // 2, "entry 'net/big' is cut off"),
                        (len(data) - 5, "the zip index at the end is cut off")):
        with open(path, "wb") as f:
            f.write(data[:size])
        with pytest.raises(CheckpointError) as info:
            checkpoint.restore(path, slim.get_variables())
        assert str(path) in str(info.value) and "truncated" in str(info.value)
        assert where in str(info.value)


def test_corrupt_member_names_the_file_and_the_entry(tmp_path):
    path = checkpoint.save(tmp_path / "c", make_model())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("net/logits/weights.npy")
    data = bytearray(open(path, "rb").read())
    data[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF  # flip a byte of the array
    open(path, "wb").write(bytes(data))
    with pytest.raises(CheckpointError, match="'net/logits/weights' is truncated or corrupt"):
        checkpoint.restore(path, slim.get_variables())


def test_a_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    variables = make_model()
    path = checkpoint.save(tmp_path / "c", variables)
    before = open(path, "rb").read()

    def explode(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np.lib.format, "write_array", explode)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(tmp_path / "c", variables)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["c.npz"]


def test_latest_checkpoint_orders_by_step_and_ignores_temporaries(tmp_path):
    variables = make_model()
    assert checkpoint.latest_checkpoint(tmp_path) is None
    for step in (9, 10, 2):
        checkpoint.save(checkpoint.checkpoint_path(tmp_path, step), variables, global_step=step)
    (tmp_path / ".model.ckpt-11.npz.abc.tmp").write_bytes(b"half")
    assert checkpoint.latest_checkpoint(tmp_path).endswith("model.ckpt-10.npz")
    assert checkpoint.restore(tmp_path, variables).global_step == 10  # a directory means its newest


def test_assign_from_checkpoint_fn_restores_a_subset_for_fine_tuning(tmp_path):
    path = checkpoint.save(tmp_path / "pretrained", make_model(classes=3))
    trained = [v.data.copy() for v in slim.get_variables()]
    slim.reset_default_graph()
    w, b, head = make_model(classes=10)
    with pytest.raises(CheckpointError, match=r"net/logits/weights: checkpoint \[2, 3\], variable \[2, 10\]"):
        checkpoint.assign_from_checkpoint_fn(path, slim.get_variables())
    init_fn = slim.checkpoint.assign_from_checkpoint_fn(path, slim.get_variables_to_restore(exclude=["net/logits"]))
    head_before = head.data.copy()
    init_fn()
    np.testing.assert_array_equal(w.data, trained[0])
    np.testing.assert_array_equal(head.data, head_before)


def test_assign_from_checkpoint_fn_can_skip_missing_variables_with_a_warning(tmp_path):
    path = checkpoint.save(tmp_path / "pretrained", make_model())
    with slim.variable_scope("net"):
        slim.variable("new", shape=[1])
    with pytest.raises(CheckpointError, match="missing from the checkpoint"):
        checkpoint.assign_from_checkpoint_fn(path, slim.get_variables())
    with pytest.warns(UserWarning, match="net/new"):
        init_fn = checkpoint.assign_from_checkpoint_fn(path, slim.get_variables(), ignore_missing_vars=True)
    assert init_fn().restored == ["net/conv1/weights", "net/conv1/biases", "net/logits/weights"]
    with pytest.raises(CheckpointError, match="var_list is empty"):
        checkpoint.assign_from_checkpoint_fn(path, [])


def test_renaming_with_a_dict(tmp_path):
    variables = make_model()
    path = checkpoint.save(tmp_path / "c", {"old/" + v.name: v for v in variables})
    assert dict(checkpoint.list_variables(path)).keys() >= {"old/net/conv1/weights"}
    checkpoint.restore(path, {"old/" + v.name: v for v in variables})


def test_a_plain_npz_of_arrays_is_accepted_as_version_0(tmp_path):
    w, b, head = make_model()
    np.savez(tmp_path / "converted.npz", **{v.name: np.full(v.shape, 7, np.float32) for v in (w, b, head)})
    contents = checkpoint.read(tmp_path / "converted.npz")
    assert contents.version == 0
    checkpoint.restore(tmp_path / "converted.npz", [w, b, head])
    assert np.all(head.data == 7)


def test_a_newer_format_version_is_refused(tmp_path):
    from minislim.checkpoint.format import VERSION_KEY, write_npz
    write_npz(str(tmp_path / "future.npz"), {VERSION_KEY: np.asarray(99)})
    with pytest.raises(CheckpointError, match="format version 99"):
        checkpoint.read(tmp_path / "future.npz")
