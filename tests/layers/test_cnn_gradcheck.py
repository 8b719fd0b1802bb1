"""A small CNN of slim layers, built in Graph(dtype="float64"), passes gradcheck with respect
to its input and to every variable (central differences on each variable's buffer)."""
import numpy as np
import pytest

import minislim as slim

# float64 central differences with eps=1e-6: about 1e-9 relative accuracy; tanh keeps the
# network smooth (no ReLU kinks), random inputs make max-pool ties improbable.
RTOL, ATOL, EPS = 1e-5, 1e-7, 1e-6


def small_cnn(images):
    with slim.arg_scope([slim.conv2d, slim.conv2d_transpose, slim.separable_conv2d, slim.fully_connected],
                        activation_fn=slim.nn.tanh):
        net = slim.conv2d(images, 3, [3, 3], normalizer_fn=slim.batch_norm,
                          normalizer_params={"scale": True}, scope="conv1")
        net = slim.avg_pool2d(net, [2, 2], scope="pool1")
        net = slim.separable_conv2d(net, 4, [2, 2], depth_multiplier=2, scope="sep2")
        net = slim.conv2d_transpose(net, 2, [3, 3], stride=2, scope="up3")
        net = slim.max_pool2d(net, [2, 2], padding="SAME", scope="pool3")
        net = slim.flatten(net)
        net = slim.fully_connected(net, 5, normalizer_fn=slim.layer_norm, scope="fc4")
        net = slim.bias_add(net, scope="bias5")
        net = slim.fully_connected(net, 3, activation_fn=None, scope="logits")
    return slim.softmax(net)


@pytest.fixture
def model():
    with slim.Graph(dtype="float64").as_default() as graph:
        model = slim.make_template("cnn", small_cnn)
        images = np.random.default_rng(0).standard_normal((2, 6, 6, 2))
        model(images)
        rng = np.random.default_rng(1)
        for v in slim.get_trainable_variables():  # no zero biases or unit gammas: a generic point
            v.assign(v.data + 0.3 * rng.standard_normal(v.shape))
        yield model, images, graph


def test_gradcheck_with_respect_to_the_input(model):
    net, images, graph = model
    with graph.as_default():
        assert net(images).dtype == np.float64
        slim.testing.gradcheck(net, [images], rtol=RTOL, atol=ATOL)


def wrong_variable_gradients(net, images, variables, analytic=lambda v: v.grad) -> list:
    """Names of the variables whose analytic gradient (of a random projection of the output)
    differs from central differences on the variable's buffer."""
    projection = np.random.default_rng(2).standard_normal(net(images).shape)

    def loss():
        return float((net(images).data * projection).sum())

    for v in variables:
        v.zero_grad()
    net(images).backward(projection)
    wrong = []
    for v in variables:
        numeric = np.zeros(v.shape)
        for index in np.ndindex(v.shape):
            old = v.data[index]
            v.data[index] = old + EPS
            plus = loss()
            v.data[index] = old - EPS
            minus = loss()
            v.data[index] = old
            numeric[index] = (plus - minus) / (2 * EPS)
        if not np.allclose(analytic(v), numeric, rtol=RTOL, atol=ATOL):
            wrong.append(v.name)
    return wrong


def test_gradcheck_with_respect_to_every_variable(model):
    net, images, graph = model
    with graph.as_default():
        variables = slim.get_trainable_variables()
        assert len(variables) == 14
        assert wrong_variable_gradients(net, images, variables) == []


def test_the_variable_check_catches_a_wrong_gradient(model):
    """A gradient off by 1% (as a buggy backward would give) is caught."""
    net, images, graph = model
    with graph.as_default():
        variables = slim.get_trainable_variables("cnn/(logits|conv1)/")
        assert wrong_variable_gradients(net, images, variables, analytic=lambda v: v.grad * 1.01) == [
            v.name for v in variables]
