"""Indexing with empty index lists behaves as in NumPy (and PyTorch): no elements picked."""
import numpy as np
import pytest

import minislim as slim


def test_empty_index_list_picks_no_elements():
    x = slim.tensor(np.arange(3.0))
    y = x[[]]
    assert y.shape == (0,) == np.arange(3.0)[[]].shape
    assert y.dtype == x.dtype


def test_empty_index_list_on_a_matrix_keeps_the_other_axes():
    values = np.arange(6.0).reshape(2, 3)
    x = slim.tensor(values)
    assert x[[]].shape == values[[]].shape == (0, 3)
    assert x[:, []].shape == values[:, []].shape == (2, 0)


def test_gradient_through_an_empty_index_is_zero():
    x = slim.tensor(np.arange(3.0), requires_grad=True)
    y = x[[]]
    (y.sum() + (x * 2.0).sum()).backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_gradient_through_an_empty_index_alone_is_all_zeros():
    x = slim.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x[[]].sum().backward()
    assert x.grad.shape == (2, 3) and not x.grad.any()


def test_integer_list_index_still_accumulates_repeats():
    x = slim.tensor(np.arange(3.0), requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0]


@pytest.mark.torch
def test_empty_index_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = slim.tensor(np.arange(3.0), requires_grad=True)
    x[[]].sum().backward()
    tx = torch.arange(3.0, dtype=torch.float64, requires_grad=True)
    tx[[]].sum().backward()
    assert tuple(tx[[]].shape) == x[[]].shape
    assert np.array_equal(x.grad, tx.grad.numpy())
