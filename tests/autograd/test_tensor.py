"""Tensor creation, dtype rules and bad input."""
import numpy as np
import pytest

import minislim as slim


def test_python_floats_become_float32_and_ndarrays_keep_their_dtype():
    assert slim.tensor(1.5).dtype == np.float32
    assert slim.tensor([[1.0, 2.0]]).dtype == np.float32
    assert slim.tensor([1, 2]).dtype == np.int64
    assert slim.tensor(np.zeros(2)).dtype == np.float64
    assert slim.tensor(np.zeros(2), dtype="float32").dtype == np.float32


def test_float32_in_float32_out_including_python_scalars():
    x = slim.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = (2.5 * x + 1) / 3 - x ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="numeric"):
        slim.tensor("abc")
    with pytest.raises(TypeError):
        slim.tensor([1.0]) + "a"
    with pytest.raises(TypeError, match="floating-point"):
        slim.tensor([1, 2], requires_grad=True)


def test_shape_mismatch_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        slim.tensor(np.ones((2, 3))) @ slim.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        slim.tensor(np.ones(3)) + slim.tensor(np.ones(4))


def test_properties_and_conversions():
    x = slim.tensor([[1.0, 2.0, 3.0]])
    assert x.shape == (1, 3) and x.ndim == 2 and x.size == 3 and len(x) == 1
    assert isinstance(x.numpy(), np.ndarray)
    assert x.sum().item() == 6.0
    with pytest.raises(ValueError, match="one element"):
        x.item()
    assert "tensor(" in repr(x)


def test_methods_and_operators_match_numpy():
    a = np.arange(6.0).reshape(2, 3)
    x = slim.tensor(a)
    np.testing.assert_allclose(x.T.data, a.T)
    np.testing.assert_allclose(x.reshape(3, 2).data, a.reshape(3, 2))
    np.testing.assert_allclose(x.transpose(1, 0).data, a.T)
    np.testing.assert_allclose(x.mean(axis=0, keepdims=True).data, a.mean(0, keepdims=True))
    np.testing.assert_allclose((x[:, 1:] ** 2).data, a[:, 1:] ** 2)
    np.testing.assert_allclose((1 - x).data, 1 - a)
    np.testing.assert_allclose((a + x).data, 2 * a)  # ndarray + Tensor defers to Tensor
    assert (x > 2).data.tolist() == (a > 2).tolist()
    assert isinstance(hash(x), int)


def test_a_python_float_asked_as_float64_is_not_rounded_through_float32():
    assert slim.tensor(0.1, dtype="float64").item() == 0.1
    assert slim.tensor([1 / 3], dtype=np.float64).data.tolist() == [1 / 3]
    assert slim.tensor(0.1).dtype == np.float32 and slim.tensor(0.1).item() != 0.1  # the default stays float32


def test_iterating_gives_differentiable_rows_and_a_0d_tensor_refuses():
    t = slim.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(t)
    assert [r.data.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[1] * 2.0).sum().backward()
    assert t.grad.tolist() == [[0.0, 0.0], [2.0, 2.0]]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(slim.tensor(3.0))


def test_integers_mixed_with_floats_give_float32_not_float64():
    """NumPy promotes int64 with a float to float64; as PyTorch, minislim gives float32 unless a float64 came in."""
    ints = slim.tensor([1, 2, 3])
    assert (ints * 2.5).dtype == np.float32 and (ints * 2.5).data.tolist() == [2.5, 5.0, 7.5]
    assert (ints / 2).dtype == np.float32 and ints.mean().dtype == np.float32
    assert (slim.tensor([1.5]) + np.array([1])).dtype == np.float32  # float32 with an int64 array
    assert (slim.tensor([1.5]) + np.array([1.0])).dtype == np.float64  # an explicit float64 stays
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    y = x * slim.tensor([2, 3])  # float32 times int64
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 3.0]
