"""TF-Slim's model zoo in minislim: names, shapes, end points, parameter counts and outputs.

The facts come from tf_slim 1.1.0 itself (tests/fixtures/make_tf_checkpoints.py wrote
tests/fixtures/tf/zoo_facts.json and, for a few nets, tf_slim's logits for deterministic
weights), except MobileNet v1, which tf_slim does not ship: its counts come from the table
in TF-Slim's ``nets/mobilenet_v1.py`` (models repository).

The name and shape tests build each net with zero-filled variables (drawing 60 million
random numbers would only slow the suite down; the values play no part in names and shapes).
"""
import json
import os
import sys

import numpy as np
import pytest

import minislim as slim
import minislim.framework.variables as variables_module
from minislim.nets import mobilenet_v1, nets_factory

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
FACTS = json.load(open(os.path.join(FIXTURES, "tf", "zoo_facts.json")))["nets"]
EXPECTED = np.load(os.path.join(FIXTURES, "tf", "expected.npz"), allow_pickle=False)
sys.path.insert(0, FIXTURES)
from zoo_weights import formula_weights  # noqa: E402

# Trainable parameters at the zoo's class counts, as tf_slim 1.1.0 counts them.
TRAINABLE_PARAMETERS = {
    "alexnet_v2": 50_303_912,
    "overfeat": 145_704_424,
    "inception_v1": 6_618_649,
    "inception_v3": 27_145_970,
    "resnet_v1_50": 25_557_032,
    "resnet_v1_101": 44_549_160,
    "resnet_v1_152": 60_192_808,
    "resnet_v2_50": 25_570_409,
    "resnet_v2_101": 44_579_945,
    "resnet_v2_152": 60_238_953,
}
# Keyword defaults of tf_slim 1.1.0's nets (printed by inspect.signature in the TensorFlow venv);
# collection and fused-kernel options, which minislim has no use for, are left out.
TF_SLIM_DEFAULTS = {
    'alexnet_v2': {'num_classes': 1000, 'is_training': True, 'dropout_keep_prob': 0.5, 'spatial_squeeze': True, 'scope': 'alexnet_v2'},
    'alexnet_v2_arg_scope': {'weight_decay': 0.0005},
    'overfeat': {'num_classes': 1000, 'is_training': True, 'dropout_keep_prob': 0.5, 'spatial_squeeze': True, 'scope': 'overfeat'},
    'overfeat_arg_scope': {'weight_decay': 0.0005},
    'inception_v1': {'num_classes': 1000, 'is_training': True, 'dropout_keep_prob': 0.8, 'spatial_squeeze': True, 'reuse': None, 'scope': 'InceptionV1'},
    'inception_v1_arg_scope': {'weight_decay': 4e-05, 'use_batch_norm': True},
    'inception_v3': {'num_classes': 1000, 'is_training': True, 'dropout_keep_prob': 0.8, 'min_depth': 16, 'depth_multiplier': 1.0, 'spatial_squeeze': True, 'reuse': None, 'create_aux_logits': True, 'scope': 'InceptionV3'},
    'inception_v3_arg_scope': {'weight_decay': 4e-05, 'batch_norm_decay': 0.9997, 'batch_norm_epsilon': 0.001},
    'resnet_v1_50': {'num_classes': None, 'is_training': True, 'global_pool': True, 'output_stride': None, 'reuse': None, 'scope': 'resnet_v1_50'},
    'resnet_v1_101': {'num_classes': None, 'is_training': True, 'global_pool': True, 'output_stride': None, 'reuse': None, 'scope': 'resnet_v1_101'},
    'resnet_v1_152': {'num_classes': None, 'is_training': True, 'global_pool': True, 'output_stride': None, 'reuse': None, 'scope': 'resnet_v1_152'},
    'resnet_v2_50': {'num_classes': None, 'is_training': True, 'global_pool': True, 'output_stride': None, 'reuse': None, 'scope': 'resnet_v2_50'},
    'resnet_v2_101': {'num_classes': None, 'is_training': True, 'global_pool': True, 'output_stride': None, 'reuse': None, 'scope': 'resnet_v2_101'},
    'resnet_v2_152': {'num_classes': None, 'is_training': True, 'global_pool': True, 'output_stride': None, 'reuse': None, 'scope': 'resnet_v2_152'},
    'resnet_arg_scope': {'weight_decay': 0.0001, 'batch_norm_decay': 0.997, 'batch_norm_epsilon': 1e-05, 'batch_norm_scale': True},
}


# Deep nets are built on small images (their variables do not depend on the image size).
SMALL_IMAGE = {"resnet_v1_101": 64, "resnet_v1_152": 64, "resnet_v2_101": 64, "resnet_v2_152": 64}


@pytest.fixture
def zero_variables(monkeypatch):
    monkeypatch.setattr(variables_module, "_initial_value",
                        lambda name, shape, dtype, initializer: np.zeros(shape, dtype))


def build(name: str, size: int):
    network_fn = nets_factory.get_network_fn(name, num_classes=nets_factory.zoo_num_classes[name])
    return network_fn(slim.tensor(np.zeros((1, size, size, 3), np.float32)))


def trainable_parameters() -> int:
    return sum(v.size for v in slim.get_trainable_variables())


@pytest.mark.parametrize("name", sorted(TRAINABLE_PARAMETERS))
def test_variables_end_points_and_parameter_count_are_tf_slims(name, zero_variables):
    facts = FACTS[name]
    assert facts["trainable_parameters"] == TRAINABLE_PARAMETERS[name]
    assert nets_factory.zoo_num_classes[name] == facts["num_classes"]
    size = SMALL_IMAGE.get(name, facts["image_size"])
    assert nets_factory.get_network_fn(name, 1).default_image_size == facts["image_size"]
    _, end_points = build(name, size)
    got = sorted([v.name, list(v.shape)] for v in slim.get_variables())
    assert got == sorted(facts["variables"])
    assert trainable_parameters() == TRAINABLE_PARAMETERS[name]
    if size == facts["image_size"]:
        assert {key: list(value.shape) for key, value in end_points.items()} == facts["end_points"]
    else:
        assert list(end_points) == list(facts["end_points"])


@pytest.mark.parametrize("name", ["inception_v1", "inception_v3", "resnet_v1_50", "resnet_v2_50"])
def test_outputs_match_tf_slims_for_the_same_weights(name):
    pixels, expected = EXPECTED[f"zoo/{name}/pixels"], EXPECTED[f"zoo/{name}/logits"]
    image = pixels.astype(np.float32) / np.float32(127.5) - np.float32(1.0)   # as the fixture script
    logits, _ = build(name, image.shape[1])
    for variable in slim.get_variables():
        variable.assign(formula_weights(variable.name, variable.shape))
    with slim.variable_scope(slim.get_variable_scope(), reuse=True):
        logits, _ = nets_factory.get_network_fn(name, num_classes=nets_factory.zoo_num_classes[name])(
            slim.tensor(image))
    assert logits.shape == expected.shape
    scale = np.abs(expected).max()
    assert scale > 0.1    # the weights carry a signal through the whole net
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-3, atol=1e-4 * scale)


def test_mobilenet_v1_matches_tf_slims_published_counts(zero_variables):
    """TF-Slim's mobilenet_v1.py tabulates its base: 3,185,088 convolution weights at 1.0,
    1,800,144 at 0.75; with batch norm's gamma and beta and the 1001-class logits that makes
    4,233,001 trainable parameters (4,231,976 for 1000 classes, the paper's 4.2 million)."""
    logits, end_points = build("mobilenet_v1", 224)
    weights = [v for v in slim.get_variables() if v.name.endswith("weights") and "/Logits/" not in v.name]
    assert sum(v.size for v in weights) == 3_185_088
    assert trainable_parameters() == 4_233_001
    assert logits.shape == (1, 1001)
    assert end_points["Conv2d_13_pointwise"].shape == (1, 7, 7, 1024)
    assert end_points["AvgPool_1a"].shape == (1, 1, 1, 1024)
    names = {v.name for v in slim.get_variables()}
    assert {"MobilenetV1/Conv2d_0/weights", "MobilenetV1/Conv2d_1_depthwise/depthwise_weights",
            "MobilenetV1/Conv2d_1_depthwise/BatchNorm/gamma", "MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_variance",
            "MobilenetV1/Logits/Conv2d_1c_1x1/weights", "MobilenetV1/Logits/Conv2d_1c_1x1/biases"} <= names
    assert len(names) == 27 * 5 + 2  # 27 convolutions with 4 batch-norm variables each, 2 for the logits


def test_mobilenet_v1_depth_multiplier_thins_every_layer(zero_variables):
    with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope(is_training=False)):
        net, end_points = mobilenet_v1.mobilenet_v1_base(slim.tensor(np.zeros((1, 128, 128, 3), np.float32)),
                                                         depth_multiplier=0.75)
    weights = [v for v in slim.get_variables() if v.name.endswith("weights")]
    assert sum(v.size for v in weights) == 1_800_144
    assert net.shape == (1, 4, 4, 768)
    with pytest.raises(ValueError, match="depth_multiplier must be > 0"):
        mobilenet_v1.mobilenet_v1_base(slim.tensor(np.zeros((1, 32, 32, 3), np.float32)), depth_multiplier=0)


def test_the_factory_knows_every_zoo_net_and_its_class_count():
    zoo = {"alexnet_v2", "overfeat", "inception_v1", "inception_v3", "resnet_v1_50", "resnet_v1_101", "resnet_v1_152",
           "resnet_v2_50", "resnet_v2_101", "resnet_v2_152", "mobilenet_v1", "vgg_16", "vgg_19"}
    assert zoo <= set(nets_factory.networks_map) and zoo <= set(nets_factory.arg_scopes_map)
    assert {name for name, classes in nets_factory.zoo_num_classes.items() if classes == 1001} == {
        "inception_v1", "inception_v3", "mobilenet_v1", "resnet_v2_50", "resnet_v2_101", "resnet_v2_152"}


def test_spatial_squeeze_on_a_wrong_image_size_is_a_clear_error(zero_variables):
    with pytest.raises(ValueError, match="alexnet_v2: spatial_squeeze needs a 1x1 map, got shape \\(1, 2, 2, 1000\\)"):
        build("alexnet_v2", 256)


def test_resnet_output_stride_keeps_the_resolution_with_atrous_convolution(zero_variables):
    from minislim.nets import resnet_v1
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
        net, _ = resnet_v1.resnet_v1_50(slim.tensor(np.zeros((1, 64, 64, 3), np.float32)), output_stride=8,
                                        global_pool=False)
    assert net.shape == (1, 8, 8, 2048)
    with pytest.raises(ValueError, match="multiple of 4"):
        resnet_v1.resnet_v1_50(slim.tensor(np.zeros((1, 64, 64, 3), np.float32)), output_stride=6, reuse=True)


@pytest.mark.parametrize("name", sorted(TF_SLIM_DEFAULTS))
def test_keyword_defaults_are_tf_slims(name):
    import inspect

    from minislim.nets import alexnet, inception_v1, inception_v3, overfeat, resnet_utils, resnet_v1, resnet_v2
    modules = [alexnet, inception_v1, inception_v3, overfeat, resnet_utils, resnet_v1, resnet_v2]
    function = next(getattr(module, name) for module in modules if hasattr(module, name))
    ours = {key: p.default for key, p in inspect.signature(function).parameters.items()}
    for key, default in TF_SLIM_DEFAULTS[name].items():
        assert key in ours and ours[key] == default, (name, key, ours.get(key), default)
