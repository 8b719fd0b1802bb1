"""The seed README's layer examples (TF-Slim's README), translated: tf.X -> slim.X, typos fixed."""
import numpy as np
import pytest

import minislim as slim


def model_variable_names():
    return [v.name for v in slim.get_model_variables()]


def test_conv2d_replaces_the_plain_tensorflow_block():
    input = np.random.default_rng(0).standard_normal((1, 6, 6, 64)).astype(np.float32)
    net = slim.conv2d(input, 128, [3, 3], scope="conv1_1")
    assert net.shape == (1, 6, 6, 128) and net.data.min() >= 0.0  # ReLU by default
    assert model_variable_names() == ["conv1_1/weights", "conv1_1/biases"]


def test_repeat_example_and_its_verbose_equivalents():
    net = np.zeros((1, 8, 8, 4), np.float32)
    net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope="conv3")
    net = slim.max_pool2d(net, [2, 2], scope="pool2")
    assert net.shape == (1, 4, 4, 256)
    assert [v.name for v in slim.get_variables(suffix="weights")] == [
        "conv3/conv3_1/weights", "conv3/conv3_2/weights", "conv3/conv3_3/weights"]
    with slim.Graph().as_default():
        net = np.zeros((1, 8, 8, 4), np.float32)
        for i in range(3):
            net = slim.conv2d(net, 256, [3, 3], scope="conv3/conv3_%d" % (i + 1))
        looped = [v.name for v in slim.get_variables()]
    assert looped == [v.name for v in slim.get_variables()]


def test_stack_of_fully_connected_layers():
    x = np.zeros((2, 16), np.float32)
    y = slim.stack(x, slim.fully_connected, [32, 64, 128], scope="fc")
    assert y.shape == (2, 128)
    assert model_variable_names() == ["fc/fc_1/weights", "fc/fc_1/biases", "fc/fc_2/weights",
                                      "fc/fc_2/biases", "fc/fc_3/weights", "fc/fc_3/biases"]
    assert [v.shape for v in slim.get_variables(suffix="weights")] == [(16, 32), (32, 64), (64, 128)]


def test_stack_of_convolutions_equals_the_verbose_way():
    x = np.zeros((1, 5, 5, 3), np.float32)
    slim.stack(x, slim.conv2d, [(32, [3, 3]), (32, [1, 1]), (64, [3, 3]), (64, [1, 1])], scope="core")
    stacked = [(v.name, v.shape) for v in slim.get_variables()]
    with slim.Graph().as_default():
        x = slim.conv2d(x, 32, [3, 3], scope="core/core_1")
        x = slim.conv2d(x, 32, [1, 1], scope="core/core_2")
        x = slim.conv2d(x, 64, [3, 3], scope="core/core_3")
        x = slim.conv2d(x, 64, [1, 1], scope="core/core_4")
        verbose = [(v.name, v.shape) for v in slim.get_variables()]
    assert stacked == verbose
    assert ("core/core_3/weights", (3, 3, 32, 64)) in stacked


def test_first_arg_scope_example():
    inputs = np.zeros((1, 47, 47, 3), np.float32)
    with slim.arg_scope([slim.conv2d], padding="SAME",
                        weights_initializer=slim.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
        net = slim.conv2d(inputs, 64, [11, 11], 4, scope="conv1")
        net = slim.conv2d(net, 128, [11, 11], padding="VALID", scope="conv2")
        net = slim.conv2d(net, 256, [11, 11], scope="conv3")
    assert net.shape == (1, 2, 2, 256)  # 47 -> SAME/4 -> 12 -> VALID 11 -> 2 -> SAME -> 2
    assert np.abs(slim.get_unique_variable("conv1/weights").data).max() <= 0.02
    assert len(slim.get_collection(slim.GraphKeys.REGULARIZATION_LOSSES)) == 3


def test_second_arg_scope_example_nested_scopes():
    inputs = np.random.default_rng(0).uniform(0, 10, (1, 20, 20, 3)).astype(np.float32)
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        activation_fn=slim.nn.relu,
                        weights_initializer=slim.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
        with slim.arg_scope([slim.conv2d], stride=1, padding="SAME"):
            net = slim.conv2d(inputs, 64, [11, 11], 4, padding="VALID", scope="conv1")
            net = slim.conv2d(net, 256, [5, 5],
                              weights_initializer=slim.truncated_normal_initializer(stddev=0.03),
                              scope="conv2")
            net = slim.fully_connected(net, 1000, activation_fn=None, scope="fc")
    assert net.shape == (1, 3, 3, 1000)  # (20 - 11) // 4 + 1 = 3; fc acts on the last axis
    assert np.abs(slim.get_unique_variable("conv2/weights").data).max() > 0.02  # stddev 0.03 won
    assert np.abs(slim.get_unique_variable("conv1/weights").data).max() <= 0.02
    assert net.data.min() < 0  # fc: activation_fn=None at the call site won over relu
    assert len(slim.get_collection(slim.GraphKeys.REGULARIZATION_LOSSES)) == 3


def vgg16(inputs):
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        activation_fn=slim.nn.relu,
                        weights_initializer=slim.truncated_normal_initializer(0.0, 0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
        net = slim.repeat(inputs, 2, slim.conv2d, 64, [3, 3], scope='conv1')
        net = slim.max_pool2d(net, [2, 2], scope='pool1')
        net = slim.repeat(net, 2, slim.conv2d, 128, [3, 3], scope='conv2')
        net = slim.max_pool2d(net, [2, 2], scope='pool2')
        net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope='conv3')
        net = slim.max_pool2d(net, [2, 2], scope='pool3')
        net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope='conv4')
        net = slim.max_pool2d(net, [2, 2], scope='pool4')
        net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope='conv5')
        net = slim.max_pool2d(net, [2, 2], scope='pool5')
        net = slim.fully_connected(net, 4096, scope='fc6')
        net = slim.dropout(net, 0.5, scope='dropout6')
        net = slim.fully_connected(net, 4096, scope='fc7')
        net = slim.dropout(net, 0.5, scope='dropout7')
        net = slim.fully_connected(net, 1000, activation_fn=None, scope='fc8')
    return net


@pytest.mark.slow  # 38 million weights to initialise: about 3 s
def test_the_vgg16_definition_runs_as_written():
    """A 32x32 image reaches pool5 as 1x1 (224x224 would work too, only slower)."""
    with slim.no_grad():
        net = vgg16(np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype(np.float32))
    assert net.shape == (1, 1, 1, 1000) and net.dtype == np.float32
    weights = [(v.name, v.shape) for v in slim.get_model_variables(suffix="weights")]
    assert len(weights) == 16
    assert weights[0] == ("conv1/conv1_1/weights", (3, 3, 3, 64))
    assert weights[6] == ("conv3/conv3_3/weights", (3, 3, 256, 256))
    assert weights[-3:] == [("fc6/weights", (512, 4096)), ("fc7/weights", (4096, 4096)),
                            ("fc8/weights", (4096, 1000))]
    assert len(slim.get_collection(slim.GraphKeys.REGULARIZATION_LOSSES)) == 16
