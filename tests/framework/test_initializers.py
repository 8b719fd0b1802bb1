"""Initializers: shapes, dtypes, TF's formulas (fans, variance scaling), seeding."""
import math

import numpy as np
import pytest

import minislim as slim
from minislim.framework.initializers import compute_fans

TRUNCATED_STD = 0.8796256610342398  # std of a standard normal truncated at +-2


def test_constant_initializers():
    assert slim.zeros_initializer()([2, 3]).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert slim.ones_initializer()([2]).dtype == np.float32
    assert slim.constant_initializer(7)([2], dtype="int64").tolist() == [7, 7]
    assert slim.constant_initializer([1, 2, 3, 4])([2, 2]).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="has 3 elements"):
        slim.constant_initializer([1, 2, 3])([2, 2])


def test_dtype_follows_the_call_then_the_graph():
    assert slim.truncated_normal_initializer()([2], dtype="float64").dtype == np.float64
    with slim.Graph(dtype="float64").as_default():
        assert slim.xavier_initializer()([2, 2]).dtype == np.float64


@pytest.mark.parametrize("shape, fans", [
    ([3, 3, 16, 32], (144.0, 288.0)),  # [KH, KW, C, OC]
    ([10, 20], (10.0, 20.0)),  # [in, out]
    ([5], (5.0, 5.0)),
    ([], (1.0, 1.0)),
])
def test_fans_follow_tf(shape, fans):
    assert compute_fans(shape) == fans


def test_truncated_normal_stays_within_two_standard_deviations():
    values = slim.truncated_normal_initializer(mean=1.0, stddev=0.5)([20000], dtype="float64")
    assert values.min() >= 0.0 and values.max() <= 2.0
    assert values.mean() == pytest.approx(1.0, abs=0.01)
    assert values.std() == pytest.approx(0.5 * TRUNCATED_STD, rel=0.03)


def test_random_normal_and_uniform():
    normal = slim.random_normal_initializer(mean=-1.0, stddev=2.0)([20000], dtype="float64")
    assert normal.mean() == pytest.approx(-1.0, abs=0.05) and normal.std() == pytest.approx(2.0, rel=0.03)
    unit = slim.random_uniform_initializer()([1000])
    assert unit.min() >= 0.0 and unit.max() < 1.0
    ranged = slim.random_uniform_initializer(-3.0, -2.0)([1000])
    assert ranged.min() >= -3.0 and ranged.max() < -2.0


@pytest.mark.parametrize("mode, n", [("FAN_IN", 3 * 3 * 64), ("FAN_OUT", 3 * 3 * 128),
                                     ("FAN_AVG", 3 * 3 * 96)])
def test_variance_scaling_uniform_limit(mode, n):
    init = slim.variance_scaling_initializer(factor=2.0, mode=mode, uniform=True)
    values = init([3, 3, 64, 128], dtype="float64")
    limit = math.sqrt(3.0 * 2.0 / n)
    assert np.abs(values).max() <= limit and np.abs(values).max() > 0.99 * limit
    assert values.std() == pytest.approx(math.sqrt(2.0 / n), rel=0.02)  # variance = factor / n


def test_variance_scaling_normal_has_variance_factor_over_n():
    values = slim.variance_scaling_initializer()([200, 300], dtype="float64")  # He: 2 / fan_in
    assert values.std() == pytest.approx(math.sqrt(1.3 * 2.0 / 200) * TRUNCATED_STD, rel=0.02)


def test_xavier_is_variance_scaling_with_factor_one_over_fan_avg():
    values = slim.xavier_initializer()([100, 300], dtype="float64")
    limit = math.sqrt(6.0 / (100 + 300))
    assert np.abs(values).max() <= limit and np.abs(values).max() > 0.99 * limit
    normal = slim.xavier_initializer(uniform=False)([100, 300], dtype="float64")
    assert normal.std() == pytest.approx(math.sqrt(2.6 / 400) * TRUNCATED_STD, rel=0.03)


def test_bad_variance_scaling_mode_is_a_type_error():
    with pytest.raises(TypeError, match="unknown mode 'fan_in'"):
        slim.variance_scaling_initializer(mode="fan_in")


def test_random_initializers_refuse_integer_dtypes():
    with pytest.raises(TypeError, match="non-floating"):
        slim.xavier_initializer()([2, 2], dtype="int32")


def test_initializers_draw_from_the_graph_seed():
    slim.set_random_seed(4)
    a = slim.truncated_normal_initializer()([5])
    b = slim.truncated_normal_initializer()([5])
    slim.set_random_seed(4)
    assert np.array_equal(slim.truncated_normal_initializer()([5]), a)
    assert not np.array_equal(a, b)


def test_a_seeded_initializer_repeats_its_values_like_tf1():
    init = slim.random_normal_initializer(seed=3)
    assert np.array_equal(init([4]), init([4]))


def test_float32_and_float64_graphs_start_from_the_same_values():
    with slim.Graph(dtype="float64").as_default():
        w64 = slim.variable("w", shape=[3, 4]).data
    with slim.Graph(dtype="float32").as_default():
        w32 = slim.variable("w", shape=[3, 4]).data
    assert w32.dtype == np.float32 and np.array_equal(w32, w64.astype(np.float32))


def test_initializer_repr_names_its_parameters():
    assert repr(slim.truncated_normal_initializer(stddev=0.01)) == "TruncatedNormal(mean=0.0, stddev=0.01)"
