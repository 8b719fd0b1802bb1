"""The pooling ops: gradcheck (float64, away from ties), the tie rule through autograd,
float32 kept, TF-Slim's defaults, and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minislim as slim
from minislim.ops.registry import distinct

nn = slim.nn

pool_args = st.tuples(st.tuples(st.integers(1, 3), st.integers(1, 3)),   # kernel_size
                      st.tuples(st.integers(1, 3), st.integers(1, 3)),   # stride
                      st.sampled_from(["SAME", "VALID"]))


@settings(max_examples=15, deadline=None)
@given(args=pool_args, seed=st.integers(0, 2**16))
def test_max_pool2d_passes_gradcheck_away_from_ties(args, seed):
    rng = np.random.default_rng(seed)
    x = distinct(rng, (2, 4, 5, 2))  # values at least 0.05 apart: the finite differences never cross a tie
    slim.testing.gradcheck(lambda x: nn.max_pool2d(x, *args), [x])


@settings(max_examples=15, deadline=None)
@given(args=pool_args, seed=st.integers(0, 2**16))
def test_avg_pool2d_passes_gradcheck(args, seed):
    x = np.random.default_rng(seed).standard_normal((2, 4, 5, 2))
    slim.testing.gradcheck(lambda x: nn.avg_pool2d(x, *args), [x])


def test_global_avg_pool2d_passes_gradcheck(rng):
    slim.testing.gradcheck(lambda x: nn.global_avg_pool2d(x), [rng.standard_normal((2, 3, 4, 2))])
    slim.testing.gradcheck(lambda x: nn.global_avg_pool2d(x, keepdims=True), [rng.standard_normal((2, 3, 4, 2))])


def test_defaults_follow_tf_slim_stride_two_valid():
    x = slim.tensor(np.zeros((1, 5, 5, 1), np.float32))
    assert nn.max_pool2d(x, 2).shape == (1, 2, 2, 1)
    assert nn.avg_pool2d(x, 3).shape == (1, 2, 2, 1)
    assert nn.max_pool2d(x, 2, padding="SAME").shape == (1, 3, 3, 1)


def test_tied_maxima_send_the_gradient_to_the_first_cell_only():
    x = slim.tensor(np.ones((1, 2, 4, 1)), requires_grad=True)
    nn.max_pool2d(x, 2).sum().backward()
    assert x.grad[0, :, :, 0].tolist() == [[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]


def test_pools_keep_float32_forward_and_backward(rng):
    for op in (lambda x: nn.max_pool2d(x, 2), lambda x: nn.avg_pool2d(x, 3, 2, "SAME"), nn.global_avg_pool2d):
        x = slim.tensor(rng.standard_normal((2, 4, 4, 3)).astype(np.float32), requires_grad=True)
        y = op(x)
        y.backward(np.ones(y.shape, np.float32))
        assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_global_avg_pool2d_is_the_spatial_mean(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_allclose(nn.global_avg_pool2d(slim.tensor(x)).data, x.mean(axis=(1, 2)))
    assert nn.global_avg_pool2d(slim.tensor(x), keepdims=True).shape == (2, 1, 1, 5)


def test_bad_pool_input_is_an_error_stating_what_was_received():
    with pytest.raises(ValueError, match=r"max_pool2d: inputs must be \[N, H, W, C\] \(rank 4\), got shape \(4, 4\)"):
        nn.max_pool2d(slim.tensor(np.ones((4, 4))), 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel_size must be positive, got kernel_size=0"):
        nn.avg_pool2d(slim.tensor(np.ones((1, 4, 4, 1))), 0)
    with pytest.raises(ValueError, match=r"global_avg_pool2d: inputs must be \[N, H, W, C\]"):
        nn.global_avg_pool2d(slim.tensor(np.ones((4, 4, 1))))
