"""Regularizers: TF's values (l2 halves the sum), errors for int or negative scales."""
import numpy as np
import pytest

import minislim as slim

W = np.array([[1.0, -2.0], [3.0, 0.5]])


def value(regularizer, weights=W):
    return regularizer(slim.tensor(weights)).item()


def test_l1_and_l2_values():
    assert value(slim.l1_regularizer(0.1)) == pytest.approx(0.1 * 6.5)
    assert value(slim.l2_regularizer(0.1)) == pytest.approx(0.1 * (1 + 4 + 9 + 0.25) / 2)
    assert value(slim.l1_l2_regularizer(0.1, 0.2)) == pytest.approx(0.1 * 6.5 + 0.2 * 14.25 / 2)


def test_sum_regularizer_adds_and_skips_none():
    total = slim.sum_regularizer([slim.l1_regularizer(0.1), None, slim.l2_regularizer(0.0),
                                  slim.l2_regularizer(0.2)])
    assert value(total) == pytest.approx(0.1 * 6.5 + 0.2 * 14.25 / 2)
    assert slim.sum_regularizer([None]) is None
    assert slim.sum_regularizer([slim.l2_regularizer(0.0)])(slim.tensor(W)) is None


def test_the_loss_keeps_the_weights_dtype_and_has_the_right_gradient():
    w = slim.tensor(W.astype(np.float32), requires_grad=True)
    loss = slim.l2_regularizer(0.5)(w)
    assert loss.dtype == np.float32
    loss.backward()
    assert np.allclose(w.grad, 0.5 * W)  # d/dw scale * sum(w**2) / 2 = scale * w


@pytest.mark.parametrize("factory", [slim.l1_regularizer, slim.l2_regularizer])
def test_an_integer_scale_is_a_value_error(factory):
    with pytest.raises(ValueError, match="scale cannot be an integer: 1"):
        factory(1)


@pytest.mark.parametrize("factory", [slim.l1_regularizer, slim.l2_regularizer])
def test_a_negative_scale_is_a_value_error(factory):
    with pytest.raises(ValueError, match="less than 0 on a regularizer: -0.1"):
        factory(-0.1)


def test_a_non_number_scale_is_a_type_error():
    with pytest.raises(TypeError, match="scale must be a float"):
        slim.l2_regularizer("0.1")


def test_l1_l2_checks_both_scales():
    with pytest.raises(ValueError, match="scale_l2 cannot be an integer"):
        slim.l1_l2_regularizer(0.1, 2)
    assert slim.l1_l2_regularizer(0.0, 0.0)(slim.tensor(W)) is None


def test_a_zero_scale_gives_a_regularizer_returning_none():
    assert slim.l1_regularizer(0.0)(slim.tensor(W)) is None
    assert slim.l2_regularizer(0.0).__name__ == "l2_regularizer"
