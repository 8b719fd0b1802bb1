"""``minislim predict``: a zoo net, a TensorFlow checkpoint, images in, top-5 classes out."""
import json
import os
import sys

import numpy as np
import pytest

import minislim as slim
from minislim import cli, predict
from minislim.checkpoint import tensorflow as tf_format
from minislim.nets import nets_factory
from minislim.preprocessing import preprocessing_factory

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
sys.path.insert(0, FIXTURES)
from zoo_weights import formula_weights  # noqa: E402

FACTS = json.load(open(os.path.join(FIXTURES, "tf", "zoo_facts.json")))["nets"]


@pytest.fixture(scope="module")
def inception_checkpoint(tmp_path_factory):
    """inception_v1's variables (names and shapes as tf_slim's), deterministic values, in a V2 file."""
    prefix = str(tmp_path_factory.mktemp("zoo") / "inception_v1.ckpt")
    weights = {name: formula_weights(name, shape) for name, shape in FACTS["inception_v1"]["variables"]}
    return tf_format.write_v2(prefix, weights)


def expected_top5(prefix, image):
    network_fn = nets_factory.get_network_fn("inception_v1", num_classes=1001)
    batch = preprocessing_factory.get_preprocessing("inception_v1")(image, 224, 224)[None]
    with slim.Graph().as_default():
        network_fn(slim.tensor(batch))
        for variable in slim.get_variables():
            variable.assign(slim.checkpoint.load_variable(prefix, variable.name))
        with slim.variable_scope(slim.get_variable_scope(), reuse=True):
            logits, _ = network_fn(slim.tensor(batch))
    probabilities = slim.nn.softmax(logits).numpy()[0]
    return [(int(i), float(probabilities[i])) for i in np.argsort(-probabilities)[:5]]


def test_predict_prints_the_top_5_classes_of_each_image(inception_checkpoint, tmp_path, capsys, rng):
    image = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    np.save(tmp_path / "photo.npy", image)
    labels = tmp_path / "labels.txt"
    labels.write_text("".join(f"name{i}\n" for i in range(1000)))      # 1000 names: background is added
    assert cli.main(["predict", "--net", "inception_v1", "--checkpoint", inception_checkpoint,
                     "--labels", str(labels), str(tmp_path / "photo.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("photo.npy:") and len(lines) == 6
    expected = expected_top5(inception_checkpoint, image)
    for line, (index, probability) in zip(lines[1:], expected):
        shown_probability, _, shown_index, name = line.split()
        assert int(shown_index) == index and name == ("background" if index == 0 else f"name{index - 1}")
        assert abs(float(shown_probability) - probability) < 1e-4
    assert expected[0][1] > expected[4][1]      # distinct probabilities: the order is a real check


def test_images_need_pillow_unless_npy(tmp_path, monkeypatch):
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG not really")
    monkeypatch.setitem(sys.modules, "PIL", None)        # as if Pillow were not installed
    with pytest.raises(predict.ImageError, match='pip install -e ".\\[images\\]"'):
        predict.load_image(str(path))
    np.save(tmp_path / "gray.npy", np.zeros((5, 6), np.uint8))
    assert predict.load_image(str(tmp_path / "gray.npy")).shape == (5, 6, 3)
    np.save(tmp_path / "bad.npy", np.zeros((5, 6, 4), np.uint8))
    with pytest.raises(predict.ImageError, match="expected \\[H, W, 3\\]"):
        predict.load_image(str(tmp_path / "bad.npy"))


def test_pillow_decodes_a_png_when_installed(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    image_module.fromarray(pixels).save(tmp_path / "small.png")
    np.testing.assert_array_equal(predict.load_image(str(tmp_path / "small.png")), pixels)


def test_predict_errors_are_one_line(tmp_path, capsys, inception_checkpoint):
    assert cli.main(["predict", "--net", "inception_v1", "--checkpoint", inception_checkpoint,
                     str(tmp_path / "missing.npy")]) == 2
    assert "missing.npy' does not exist" in capsys.readouterr().err
    np.save(tmp_path / "x.npy", np.zeros((30, 30, 3), np.uint8))
    assert cli.main(["predict", "--net", "resnet_v1_50", "--checkpoint", inception_checkpoint,
                     str(tmp_path / "x.npy")]) == 1         # the checkpoint lacks resnet's variables
    assert "resnet_v1_50/conv1/weights" in capsys.readouterr().err
    assert cli.main(["predict", "--net", "lenet", "--checkpoint", inception_checkpoint, str(tmp_path / "x.npy")]) == 2
    assert "unknown net 'lenet'" in capsys.readouterr().err


def test_variables_come_from_the_checkpoint_without_slots_or_steps(tmp_path):
    """predict creates the net's variables from the checkpoint's values: optimizer slots and
    moving-average shadows (names under another tensor's name) and integer tensors are left out."""
    rng = np.random.default_rng(0)
    weights = {"net/w": rng.standard_normal((3, 2)).astype(np.float32), "net/w/Momentum": np.ones((3, 2), np.float32),
               "net/b/ExponentialMovingAverage": np.zeros(2, np.float32), "net/b": np.arange(2, dtype=np.float32),
               "global_step": np.int64(5)}
    for prefix in (tf_format.write_v2(str(tmp_path / "model.ckpt"), weights), str(tmp_path / "model.npz")):
        if prefix.endswith(".npz"):
            np.savez(prefix, **weights)
        with slim.Graph().as_default():
            assert predict.variables_from_checkpoint(prefix) == {"net/w", "net/b"}
            assert sorted(v.name for v in slim.get_variables()) == ["net/b", "net/w"]
            np.testing.assert_array_equal(slim.get_unique_variable("net/w").numpy(), weights["net/w"])


def test_a_checkpoint_of_another_class_count_is_a_clear_error(inception_checkpoint, tmp_path):
    image = np.zeros((40, 40, 3), np.uint8)
    with pytest.raises(slim.checkpoint.CheckpointError, match="inception_v1 does not fit the checkpoint .*"
                                                              "InceptionV1/Logits/Conv2d_0c_1x1/weights"):
        predict.classify("inception_v1", inception_checkpoint, [image], num_classes=10)
