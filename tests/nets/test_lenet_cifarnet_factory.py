"""LeNet, CifarNet and the nets factory."""
import numpy as np
import pytest

import minislim as slim
from minislim.nets import cifarnet, lenet, nets_factory


def images(n, size, channels):
    return slim.tensor(np.random.default_rng(0).random((n, size, size, channels), dtype=np.float32))


def test_lenet_end_points_and_names():
    with slim.arg_scope(lenet.lenet_arg_scope()):
        logits, end_points = lenet.lenet(images(2, 28, 1))
    assert logits.shape == (2, 10)
    assert list(end_points) == ["conv1", "pool1", "conv2", "pool2", "Flatten", "fc3", "dropout3", "Logits",
                                "Predictions"]
    assert end_points["pool2"].shape == (2, 7, 7, 64)
    np.testing.assert_allclose(end_points["Predictions"].data.sum(axis=1), 1.0, rtol=1e-5)
    assert [v.name for v in slim.get_model_variables()] == [
        f"LeNet/{layer}/{kind}" for layer in ["conv1", "conv2", "fc3", "fc4"] for kind in ["weights", "biases"]]


def test_cifarnet_end_points_and_parameter_count():
    with slim.arg_scope(cifarnet.cifarnet_arg_scope()):
        logits, end_points = cifarnet.cifarnet(images(2, 32, 3))
    assert logits.shape == (2, 10)
    assert end_points["pool2"].shape == (2, 8, 8, 64)
    expected = (5 * 5 * 3 * 64 + 64) + (5 * 5 * 64 * 64 + 64) + (4096 * 384 + 384) + (384 * 192 + 192) + (192 * 10 + 10)
    assert sum(v.size for v in slim.get_model_variables()) == expected
    # fc3 and fc4 are regularized, the logits are not (TF-Slim)
    assert len(slim.losses.get_regularization_losses()) == 2


@pytest.mark.parametrize("name, size, channels", [("lenet", 28, 1), ("cifarnet", 32, 3), ("vgg_cifar", 32, 3)])
def test_factory_builds_each_net_with_its_arg_scope(name, size, channels):
    net_fn = nets_factory.get_network_fn(name, num_classes=7, weight_decay=1e-4, is_training=True)
    assert net_fn.default_image_size == size
    logits, _ = net_fn(images(2, size, channels))
    assert logits.shape == (2, 7)
    assert slim.losses.get_regularization_losses()


def test_factory_rejects_an_unknown_name_and_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown network 'resnet'.*vgg_cifar"):
        nets_factory.get_network_fn("resnet", num_classes=10)
