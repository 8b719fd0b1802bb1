"""nn.dropout: floating-point inputs only (the kept values are divided by keep_prob)."""
import numpy as np
import pytest

import minislim as slim


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_dropout_refuses_a_tensor_that_is_not_floating_point(dtype):
    x = slim.tensor(np.ones(5, dtype=dtype))
    with pytest.raises(TypeError, match=f"floating-point.*{np.dtype(dtype).name}"):
        slim.nn.dropout(x, 0.5, rng=np.random.default_rng(0))


def test_dropout_refuses_integers_in_evaluation_mode_too():
    """The same call must not work in evaluation and fail in training."""
    with pytest.raises(TypeError, match="floating-point"):
        slim.nn.dropout(slim.tensor(np.ones(5, dtype=int)), 0.5, training=False)
    with pytest.raises(TypeError, match="floating-point"):
        slim.nn.dropout(slim.tensor(np.ones(5, dtype=int)), 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_of_floats_keeps_the_dtype_and_scales_the_kept_values(dtype):
    y = slim.nn.dropout(slim.tensor(np.ones(64, dtype=dtype)), 0.5, rng=np.random.default_rng(0))
    assert y.dtype == dtype
    assert set(np.unique(y.data).tolist()) == {0.0, 2.0}
    assert np.all(np.isfinite(y.data))
