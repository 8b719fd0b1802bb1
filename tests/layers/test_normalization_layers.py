"""batch_norm (training, inference, moving averages, names) and layer_norm."""
import numpy as np
import pytest

import minislim as slim
from minislim import GraphKeys

EPS = 0.001


def batch(shape=(16, 3), mean=4.0, std=3.0, seed=0):
    return np.random.default_rng(seed).normal(mean, std, size=shape).astype(np.float32)


def var(name):
    return slim.get_unique_variable(name)


# --- names and collections ----------------------------------------------------------------

def test_called_directly_with_scope_bn():
    slim.batch_norm(batch(), scale=True, scope="bn")
    assert [v.name for v in slim.get_model_variables()] == ["bn/beta", "bn/gamma", "bn/moving_mean",
                                                             "bn/moving_variance"]
    assert [v.name for v in slim.get_trainable_variables()] == ["bn/beta", "bn/gamma"]
    assert not var("bn/moving_mean").requires_grad and not var("bn/moving_mean").trainable


def test_as_normalizer_of_conv1_and_fc():
    slim.conv2d(batch((2, 4, 4, 3)), 5, [3, 3], normalizer_fn=slim.batch_norm, scope="conv1")
    slim.fully_connected(batch((4, 3)), 2, normalizer_fn=slim.batch_norm, scope="fc")
    assert var("conv1/BatchNorm/moving_mean").shape == (5,)
    assert var("fc/BatchNorm/moving_mean").shape == (2,)
    assert var("fc/BatchNorm/moving_variance").data.tolist() != [1.0, 1.0]  # updated by the pass


def test_default_scope_and_variables_collections():
    slim.batch_norm(batch(), variables_collections={"moving_mean": ["stats"]})
    assert [v.name for v in slim.get_collection("stats")] == ["BatchNorm/moving_mean"]


# --- training -----------------------------------------------------------------------------

def test_training_normalises_each_channel_with_the_batch_statistics():
    x = batch((8, 5, 5, 3))
    y = slim.batch_norm(x, scope="bn").data
    assert np.allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    expected = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + EPS)
    assert np.allclose(y, expected, atol=1e-4)


def test_moving_averages_after_several_training_steps():
    x = batch((10, 2))
    decay = 0.9
    for step in range(1, 4):
        slim.batch_norm(x, decay=decay, scope="bn", reuse=True if step > 1 else None)
        kept = decay ** step
        assert var("bn/moving_mean").data == pytest.approx((1 - kept) * x.mean(0), rel=1e-5)
        unbiased = x.var(0, ddof=1)  # the moving variance follows the unbiased batch variance
        assert var("bn/moving_variance").data == pytest.approx(kept * 1.0 + (1 - kept) * unbiased, rel=1e-5)


def test_moving_averages_are_updated_in_place():
    slim.batch_norm(batch(), scope="bn")
    buffer = var("bn/moving_mean").data
    slim.batch_norm(batch(seed=1), scope="bn", reuse=True)
    assert var("bn/moving_mean").data is buffer
    assert slim.get_collection(GraphKeys.UPDATE_OPS) == []


def test_inference_uses_the_moving_averages_and_leaves_them_alone():
    x = batch((6, 3))
    slim.batch_norm(x, scale=True, scope="bn")  # create the variables
    var("bn/moving_mean").assign(np.array([1.0, 2.0, 3.0]))
    var("bn/moving_variance").assign(np.array([4.0, 1.0, 0.25]))
    var("bn/gamma").assign(np.array([2.0, 1.0, 1.0]))
    var("bn/beta").assign(np.array([0.0, 0.5, 0.0]))
    y = slim.batch_norm(x, scale=True, is_training=False, scope="bn", reuse=True).data
    expected = (x - [1, 2, 3]) / np.sqrt(np.array([4.0, 1.0, 0.25]) + EPS) * [2, 1, 1] + [0, 0.5, 0]
    assert np.allclose(y, expected, atol=1e-5)
    assert var("bn/moving_mean").data.tolist() == [1.0, 2.0, 3.0]


def test_training_and_evaluation_calls_of_one_template_share_the_statistics():
    def model(x, is_training):
        return slim.fully_connected(x, 2, normalizer_fn=slim.batch_norm,
                                    normalizer_params={"is_training": is_training, "decay": 0.5}, scope="fc")

    net = slim.make_template("net", model)
    x = batch((32, 4))
    for _ in range(20):
        trained = net(x, is_training=True).data
    evaluated = net(x, is_training=False).data  # the moving averages converged to this batch
    assert np.allclose(evaluated, trained, atol=0.05)
    assert not np.allclose(net(batch((32, 4), mean=0.0), is_training=False).data, trained, atol=0.05)


def test_param_initializers_and_regularizers():
    slim.batch_norm(batch(), scale=True, scope="bn",
                    param_initializers={"gamma": slim.constant_initializer(2.0),
                                        "moving_variance": slim.constant_initializer(3.0)},
                    param_regularizers={"gamma": slim.l2_regularizer(0.1)})
    assert var("bn/gamma").data.tolist() == [2.0, 2.0, 2.0]
    (loss,) = slim.get_collection(GraphKeys.REGULARIZATION_LOSSES)
    assert loss.item() == pytest.approx(0.1 * 12 / 2)


@pytest.mark.parametrize("kwargs, message", [
    ({"param_initializers": {"moving_avg": slim.zeros_initializer()}}, r"unknown keys \['moving_avg'\]"),
    ({"param_regularizers": {"moving_mean": slim.l2_regularizer(0.1)}}, "unknown keys"),
    ({"decay": 1.5}, r"batch_norm 'bn': decay must be a number in \[0, 1\]; got 1.5"),
    ({"data_format": "NCHW"}, "NHWC"),
])
def test_bad_batch_norm_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        slim.batch_norm(batch(), scope="bn", **kwargs)


def test_batch_norm_needs_rank_two():
    with pytest.raises(ValueError, match=r"batch_norm 'bn': inputs must have rank >= 2"):
        slim.batch_norm(batch((5,)), scope="bn")


def test_batch_norm_gradcheck_training_and_inference():
    x = np.random.default_rng(3).standard_normal((5, 3))
    for is_training in (True, False):
        with slim.Graph(dtype="float64").as_default():
            model = slim.make_template("bn", lambda t: slim.batch_norm(t, scale=True, is_training=is_training,
                                                                      activation_fn=slim.nn.tanh))
            model(x)
            slim.get_unique_variable("bn/BatchNorm/gamma").assign(np.array([0.5, 1.5, 2.0]))
            slim.get_unique_variable("bn/BatchNorm/beta").assign(np.array([0.1, -0.2, 0.3]))
            slim.testing.gradcheck(model, [x])
            gamma = slim.get_unique_variable("bn/BatchNorm/gamma")
            check_variable_gradient(model, x, gamma)


def check_variable_gradient(model, x, variable, eps=1e-6):
    """Central differences on a variable's buffer against its .grad (random projection)."""
    projection = np.random.default_rng(0).standard_normal(model(x).shape)
    variable.zero_grad()
    model(x).backward(projection)
    analytic = variable.grad.copy()
    numeric = np.zeros_like(analytic)
    for index in np.ndindex(variable.shape):
        old = variable.data[index]
        variable.data[index] = old + eps
        plus = (model(x).data * projection).sum()
        variable.data[index] = old - eps
        minus = (model(x).data * projection).sum()
        variable.data[index] = old
        numeric[index] = (plus - minus) / (2 * eps)
    assert np.allclose(analytic, numeric, rtol=1e-5, atol=1e-7), (variable.name, analytic, numeric)


# --- layer_norm ---------------------------------------------------------------------------

def test_layer_norm_normalises_each_example():
    x = batch((4, 3, 3, 5))
    y = slim.layer_norm(x).data
    flat = x.reshape(4, -1)
    expected = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-12)
    assert np.allclose(y.reshape(4, -1), expected, atol=1e-4)
    assert [(v.name, v.shape) for v in slim.get_variables()] == [("LayerNorm/beta", (5,)),
                                                                  ("LayerNorm/gamma", (5,))]


def test_layer_norm_axes():
    slim.layer_norm(batch((2, 3, 4)), begin_norm_axis=-1, begin_params_axis=1, center=False, scope="ln")
    assert [(v.name, v.shape) for v in slim.get_variables()] == [("ln/gamma", (3, 4))]
    with pytest.raises(ValueError, match=r"layer_norm 'ln2': begin_params_axis \(3\) and begin_norm_axis"):
        slim.layer_norm(batch((2, 3, 4)), begin_params_axis=3, scope="ln2")


def test_layer_norm_gradcheck():
    x = np.random.default_rng(4).standard_normal((3, 4))
    with slim.Graph(dtype="float64").as_default():
        model = slim.make_template("ln", lambda t: slim.layer_norm(t))
        model(x)
        slim.get_unique_variable("ln/LayerNorm/gamma").assign(np.array([0.5, 1.5, 2.0, 1.0]))
        slim.testing.gradcheck(model, [x])
        check_variable_gradient(model, x, slim.get_unique_variable("ln/LayerNorm/gamma"))


# --- TF-Slim 1.1's paths: variable order and the variance the moving average follows --------
# Facts from tf_slim/layers/layers.py (1.1.0), checked by tests/tfslim/: batch_norm takes its
# own fused path (_fused_batch_norm: beta, then gamma; tf.nn.fused_batch_norm, whose batch
# variance is divided by M - 1) when `fused` is not False, the rank is 2 or 4, and the rank is
# 2 or updates_collections is not UPDATE_OPS. Otherwise, with UPDATE_OPS, it calls Keras'
# BatchNormalization (gamma, then beta; the fused kernel only for rank 4 or 5 and fused not
# False, else tf.nn.moments, the variance divided by M); with a custom updates_collections,
# its own non-fused code (beta, then gamma; tf.nn.moments).

@pytest.mark.parametrize("shape, kwargs, order", [
    ((6, 3), {}, ["beta", "gamma"]),
    ((2, 3, 3, 3), {}, ["gamma", "beta"]),
    ((2, 4, 3), {}, ["gamma", "beta"]),
    ((6, 3), {"fused": False}, ["gamma", "beta"]),
    ((2, 3, 3, 3), {"updates_collections": None}, ["beta", "gamma"]),
    ((2, 4, 3), {"updates_collections": None}, ["beta", "gamma"]),
])
def test_variable_creation_order_is_tf_slims(shape, kwargs, order):
    slim.batch_norm(batch(shape), scale=True, scope="bn", **kwargs)
    assert [v.name for v in slim.get_variables()] == [f"bn/{n}" for n in order] + [
        "bn/moving_mean", "bn/moving_variance"]


@pytest.mark.parametrize("shape, kwargs, ddof", [
    ((6, 3), {}, 1),                                   # TF-Slim's fused path
    ((2, 3, 3, 3), {}, 1),                             # Keras, fused kernel
    ((2, 3, 3, 3), {"fused": False}, 0),               # Keras, tf.nn.moments
    ((6, 3), {"fused": False}, 0),                     # Keras, rank 2 is not fused there
    ((2, 4, 3), {}, 0),                                # rank 3 is never fused
    ((2, 4, 3), {"updates_collections": None}, 0),     # TF-Slim's own non-fused code
    ((2, 3, 3, 3), {"updates_collections": None}, 1),  # TF-Slim's fused path
])
def test_moving_variance_follows_the_variance_of_tf_slims_path(shape, kwargs, ddof):
    x = batch(shape)
    slim.batch_norm(x, decay=0.5, scope="bn", **kwargs)
    batch_variance = x.reshape(-1, shape[-1]).var(0, ddof=ddof)
    assert var("bn/moving_variance").data == pytest.approx(0.5 + 0.5 * batch_variance, rel=1e-5)
