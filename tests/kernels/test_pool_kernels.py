"""Pooling kernels against the loop reference; the tie rule; TF's SAME divisor; bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minislim.kernels import pool, reference

TOL = dict(rtol=1e-12, atol=1e-12)


@st.composite
def pool_cases(draw, max_size=7):
    """(x, kernel_size, stride, padding) with ties likely: small integer values."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    sizes = [draw(st.integers(k if padding == "VALID" else 1, max(k, max_size))) for k in kernel]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.integers(-2, 3, size=(draw(st.integers(1, 2)), *sizes, draw(st.integers(1, 3)))).astype(np.float64)
    return x, kernel, stride, padding


@settings(max_examples=80, deadline=None)
@given(case=pool_cases())
def test_max_pool_forward_and_gradient_match_the_argmax_reference_even_with_ties(case):
    x, kernel, stride, padding = case
    y = pool.max_pool2d(x, kernel, stride, padding)
    np.testing.assert_array_equal(y, reference.max_pool2d(x, kernel, stride, padding))
    grad_output = np.random.default_rng(0).standard_normal(y.shape)
    np.testing.assert_allclose(pool.max_pool2d_grad(x, grad_output, kernel, stride, padding),
                               reference.max_pool2d_grad(x, grad_output, kernel, stride, padding), **TOL)


@settings(max_examples=80, deadline=None)
@given(case=pool_cases())
def test_avg_pool_forward_and_gradient_match_the_reference(case):
    x, kernel, stride, padding = case
    y = pool.avg_pool2d(x, kernel, stride, padding)
    np.testing.assert_allclose(y, reference.avg_pool2d(x, kernel, stride, padding), **TOL)
    grad_output = np.random.default_rng(0).standard_normal(y.shape)
    np.testing.assert_allclose(pool.avg_pool2d_grad(grad_output, x.shape, kernel, stride, padding),
                               reference.avg_pool2d_grad(grad_output, x.shape, kernel, stride, padding), **TOL)


@settings(max_examples=40, deadline=None)
@given(case=pool_cases())
def test_max_pool_gradient_is_never_duplicated_on_ties(case):
    """Each window hands its gradient to exactly one cell, so the totals agree."""
    x, kernel, stride, padding = case
    grad_output = np.ones(pool.max_pool2d(x, kernel, stride, padding).shape)
    assert pool.max_pool2d_grad(x, grad_output, kernel, stride, padding).sum() == grad_output.sum()


def test_the_first_maximum_in_row_major_window_order_wins():
    x = np.full((1, 2, 2, 1), 3.0)  # every cell ties
    grad = pool.max_pool2d_grad(x, np.ones((1, 1, 1, 1)), 2, 2)
    assert grad[0, :, :, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    x = np.array([[0.0, 1.0], [1.0, 0.0]]).reshape(1, 2, 2, 1)  # the tie at (0, 1) and (1, 0)
    grad = pool.max_pool2d_grad(x, np.ones((1, 1, 1, 1)), 2, 2)
    assert grad[0, :, :, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_overlapping_windows_add_their_gradients_in_a_shared_winner():
    x = np.array([[0.0, 5.0, 0.0]]).reshape(1, 1, 3, 1)
    grad = pool.max_pool2d_grad(x, np.array([2.0, 3.0]).reshape(1, 1, 2, 1), (1, 2), (1, 1))
    assert grad[0, 0, :, 0].tolist() == [0.0, 5.0, 0.0]


def test_same_max_pool_ignores_the_padding_even_for_negative_inputs():
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    assert pool.max_pool2d(x, 2, 2, "SAME")[0, :, :, 0].tolist() == [[-1.0, -3.0], [-7.0, -9.0]]


def test_same_avg_pool_divides_by_the_cells_inside_the_input_like_tf():
    x = np.ones((1, 3, 3, 1))
    np.testing.assert_array_equal(pool.avg_pool2d(x, 2, 2, "SAME"), np.ones((1, 2, 2, 1)))
    counts = pool.window_counts(pool.pool_geometry((1, 5, 4, 1), 3, 2, "SAME", "avg_pool2d"))
    # rows: 5 in, 3 out, pads (1, 1): windows cover 2, 3, 2 rows; columns: 4 in, 2 out, pads (0, 1): 3, 2
    assert counts[:, :, 0].tolist() == [[6, 4], [9, 6], [6, 4]]


def test_pools_keep_float32():
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    assert pool.max_pool2d(x, 2, 2, "SAME").dtype == np.float32
    assert pool.avg_pool2d(x, 2, 2, "SAME").dtype == np.float32
    g = np.ones((2, 2, 2, 3), np.float32)
    assert pool.max_pool2d_grad(x, g, 2, 2).dtype == np.float32
    assert pool.avg_pool2d_grad(g, x.shape, 2, 2).dtype == np.float32
    assert pool.global_avg_pool2d(x).dtype == np.float32
    assert pool.global_avg_pool2d_grad(np.ones((2, 3), np.float32), x.shape).dtype == np.float32


def test_global_avg_pool_matches_the_reference_and_spreads_its_gradient_evenly():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    np.testing.assert_allclose(pool.global_avg_pool2d(x), reference.global_avg_pool2d(x), **TOL)
    assert pool.global_avg_pool2d(x, keepdims=True).shape == (2, 1, 1, 4)
    grad = pool.global_avg_pool2d_grad(np.ones((2, 4)), x.shape)
    assert grad.shape == x.shape and np.allclose(grad, 1 / 15) and grad.flags.writeable


def test_two_by_two_pool_on_odd_input_drops_the_last_row_with_valid():
    x = np.arange(15.0).reshape(1, 3, 5, 1)
    assert pool.max_pool2d(x, 2, 2)[0, :, :, 0].tolist() == [[6.0, 8.0]]
    grad = pool.max_pool2d_grad(x, np.ones((1, 1, 2, 1)), 2, 2)
    assert grad.sum() == 2 and grad[0, 2].sum() == 0


@pytest.mark.parametrize("fn", [pool.max_pool2d, pool.avg_pool2d])
def test_bad_pool_arguments_are_errors_stating_what_was_received(fn):
    name = fn.__name__
    with pytest.raises(ValueError, match=rf"{name}: inputs must be \[N, H, W, C\] \(rank 4\), got shape \(4, 4, 1\)"):
        fn(np.ones((4, 4, 1)), 2)
    with pytest.raises(ValueError, match=rf"{name}: kernel_size must be positive, got kernel_size=\(0, 2\)"):
        fn(np.ones((1, 4, 4, 1)), (0, 2))
    with pytest.raises(ValueError, match=rf"{name}: stride must be positive, got stride=-1"):
        fn(np.ones((1, 4, 4, 1)), 2, -1)
    with pytest.raises(ValueError, match=rf"{name}: padding='VALID' needs the kernel to fit.*kernel spans 5"):
        fn(np.ones((1, 4, 4, 1)), 5)
    with pytest.raises(ValueError, match=rf"{name}: padding must be 'SAME' or 'VALID'"):
        fn(np.ones((1, 4, 4, 1)), 2, 2, ((1, 1), (1, 1)))


@pytest.mark.parametrize("shape, padding", [((2, 4, 6, 3), "VALID"), ((2, 3, 5, 3), "SAME")])
def test_windows_that_tile_the_input_write_every_cell_of_the_gradient(shape, padding):
    """The tiling case starts from an uninitialised buffer: no cell may be left unwritten."""
    for seed in range(3):  # fresh buffers may reuse memory holding earlier values
        x = np.random.default_rng(seed).integers(-1, 2, size=shape).astype(np.float64)
        grad_output = np.ones(pool.max_pool2d(x, 2, 2, padding).shape)
        assert pool.pool_geometry(shape, 2, 2, padding, "max_pool2d").tiling
        np.testing.assert_array_equal(pool.max_pool2d_grad(x, grad_output, 2, 2, padding),
                                      reference.max_pool2d_grad(x, grad_output, 2, 2, padding))
