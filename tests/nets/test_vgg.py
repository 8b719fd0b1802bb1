"""Contracts of the VGG nets (TF-Slim's vgg_test): variable names, end points, shapes,
parameter counts; and the small vgg_cifar."""
import numpy as np
import pytest

import minislim as slim
from minislim.nets import vgg

VGG16_BLOCKS = [2, 2, 3, 3, 3]


def images(n, size, channels=3):
    return slim.tensor(np.random.default_rng(0).random((n, size, size, channels), dtype=np.float32))


def expected_vgg_end_points(scope, blocks):
    names = []
    for block, repeats in enumerate(blocks, start=1):
        names += [f"{scope}/conv{block}/conv{block}_{i}" for i in range(1, repeats + 1)]
        names.append(f"{scope}/pool{block}")
    return names + [f"{scope}/fc6", f"{scope}/fc7", f"{scope}/fc8"]


def build(net_fn, size=32, **kwargs):
    with slim.arg_scope(vgg.vgg_arg_scope()):
        return net_fn(images(1, size), fc_conv_padding="SAME", spatial_squeeze=False, **kwargs)


@pytest.mark.parametrize("net_fn, scope, blocks", [
    (vgg.vgg_a, "vgg_a", [1, 1, 2, 2, 2]),
    (vgg.vgg_16, "vgg_16", VGG16_BLOCKS),
    (vgg.vgg_19, "vgg_19", [2, 2, 4, 4, 4]),
])
def test_end_points_and_variable_names_follow_tf_slim(net_fn, scope, blocks):
    logits, end_points = build(net_fn, num_classes=10)
    assert list(end_points) == expected_vgg_end_points(scope, blocks)
    expected_vars = []
    for name in expected_vgg_end_points(scope, blocks):
        if "pool" not in name:
            expected_vars += [f"{name}/weights", f"{name}/biases"]
    assert [v.name for v in slim.get_model_variables()] == expected_vars
    assert logits.shape == (1, 1, 1, 10)


def test_vgg_16_has_138_357_544_parameters_at_1000_classes():
    build(vgg.vgg_16, num_classes=1000)
    total = sum(v.size for v in slim.get_model_variables())
    assert total == 138_357_544
    assert slim.get_variables("vgg_16/fc6")[0].shape == (7, 7, 512, 4096)


def test_vgg_regularizes_every_weight_once():
    build(vgg.vgg_a, num_classes=10)
    weights = [v for v in slim.get_model_variables() if v.name.endswith("weights")]
    assert len(slim.losses.get_regularization_losses()) == len(weights) == 11


def test_without_classes_the_net_returns_fc7_features():
    net, end_points = build(vgg.vgg_a, num_classes=0)
    assert net.shape == (1, 1, 1, 4096)
    assert "vgg_a/fc8" not in end_points


def test_global_pool_averages_fc7_over_space():
    net, end_points = build(vgg.vgg_a, num_classes=0, global_pool=True, size=64)
    assert end_points["global_pool"].shape == (1, 1, 1, 4096)


def test_spatial_squeeze_needs_a_1x1_map():
    with slim.arg_scope(vgg.vgg_arg_scope()):
        with pytest.raises(ValueError, match="vgg_a: spatial_squeeze needs a 1x1 map"):
            vgg.vgg_a(images(1, 64), num_classes=10, fc_conv_padding="SAME")


@pytest.mark.slow
def test_vgg_a_on_224_images_gives_squeezed_logits_like_tf_slim():
    with slim.arg_scope(vgg.vgg_arg_scope()):
        logits, end_points = vgg.vgg_a(images(1, 224), num_classes=1000, is_training=False)
    assert logits.shape == (1, 1000)
    assert end_points["vgg_a/pool5"].shape == (1, 7, 7, 512)
    assert end_points["vgg_a/fc6"].shape == (1, 1, 1, 4096)


def test_vgg_cifar_shapes_names_and_batch_norm():
    with slim.arg_scope(vgg.vgg_cifar_arg_scope()):
        logits, end_points = vgg.vgg_cifar(images(4, 32))
    assert logits.shape == (4, 10)
    names = [v.name for v in slim.get_trainable_variables()]
    # TF-Slim 1.1 creates gamma before beta for rank-4 inputs (Keras' layer; checked in tests/tfslim)
    assert names[:3] == ["vgg_cifar/conv1/conv1_1/weights", "vgg_cifar/conv1/conv1_1/BatchNorm/gamma",
                         "vgg_cifar/conv1/conv1_1/BatchNorm/beta"]
    assert "vgg_cifar/conv1/conv1_1/biases" not in names  # a normalizer replaces the biases
    assert "vgg_cifar/conv1/conv1_1/BatchNorm/moving_mean" in [v.name for v in slim.get_model_variables()]
    assert end_points["vgg_cifar/pool3"].shape == (4, 4, 4, 128)
    assert end_points["vgg_cifar/fc1"].shape == (4, 256)
    # 6 convs (+BN beta/gamma), fc1, logits
    conv = 3 * 3 * (3 * 32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 128 + 128 * 128)
    bn = 2 * 2 * (32 + 64 + 128)
    dense = 2048 * 256 + 256 + 256 * 10 + 10
    assert sum(v.size for v in slim.get_trainable_variables()) == conv + bn + dense


def test_vgg_cifar_is_configurable():
    with slim.arg_scope(vgg.vgg_cifar_arg_scope(batch_norm=False)):
        logits, end_points = vgg.vgg_cifar(images(2, 32), widths=(8, 16), depth=3, fc_width=32,
                                           num_classes=5)
    assert logits.shape == (2, 5)
    assert "vgg_cifar/conv2/conv2_3" in end_points and "vgg_cifar/conv3/conv3_1" not in end_points
    assert not any("BatchNorm" in v.name for v in slim.get_variables())
    assert end_points["vgg_cifar/pool2"].shape == (2, 8, 8, 16)


def test_vgg_cifar_in_evaluation_mode_is_deterministic():
    x = images(2, 32)
    template = slim.make_template("net", lambda t, training: vgg.vgg_cifar(t, is_training=training)[0])
    with slim.arg_scope(vgg.vgg_cifar_arg_scope()):
        template(x, True)
        a, b = template(x, False), template(x, False)
    np.testing.assert_array_equal(a.data, b.data)
