"""Arithmetic ops: matmul with 1-D operands (NumPy's rules) and power's flat corners."""
import warnings

import numpy as np
import pytest

import minislim as slim
from minislim.ops import arithmetic
from minislim.ops.registry import OPS

# (shape of a, shape of b) for every case of matmul's 1-D rules.
ONE_D_CASES = {
    "vector @ vector": ((3,), (3,)),
    "vector @ matrix": ((3,), (3, 4)),
    "matrix @ vector": ((2, 3), (3,)),
    "batched @ vector": ((5, 2, 3), (3,)),
    "vector @ batched": ((3,), (5, 3, 4)),
}


def test_vector_dot_vector_backpropagates_like_numpy_rules():
    v = slim.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = v @ v
    assert out.shape == ()
    out.backward()
    assert v.grad.tolist() == [2.0, 4.0, 6.0]


def test_vector_dot_vector_gives_each_side_the_other_operand():
    a = slim.tensor([1.0, 2.0], requires_grad=True)
    b = slim.tensor([10.0, 20.0], requires_grad=True)
    (a @ b).backward(np.array(3.0))
    assert a.grad.tolist() == [30.0, 60.0]
    assert b.grad.tolist() == [3.0, 6.0]


# The gradients of sum(g * (a @ b)) written out by hand for each case: (grad a, grad b).
EXPECTED_GRADIENTS = {
    "vector @ vector": lambda a, b, g: (g * b, g * a),
    "vector @ matrix": lambda a, b, g: (b @ g, np.outer(a, g)),
    "matrix @ vector": lambda a, b, g: (np.outer(g, b), a.T @ g),
    "batched @ vector": lambda a, b, g: (g[..., None] * b, np.einsum("bmk,bm->k", a, g)),
    "vector @ batched": lambda a, b, g: (np.einsum("bkn,bn->k", b, g), a[None, :, None] * g[:, None, :]),
}


@pytest.mark.parametrize("case", sorted(ONE_D_CASES))
def test_matmul_with_vectors_gives_the_hand_derived_gradients(case, rng):
    shape_a, shape_b = ONE_D_CASES[case]
    a = slim.tensor(rng.standard_normal(shape_a), requires_grad=True)
    b = slim.tensor(rng.standard_normal(shape_b), requires_grad=True)
    out = a @ b
    assert out.shape == np.matmul(a.data, b.data).shape
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected_a, expected_b = EXPECTED_GRADIENTS[case](a.data, b.data, upstream)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    assert np.allclose(a.grad, expected_a) and np.allclose(b.grad, expected_b)


@pytest.mark.parametrize("case", sorted(ONE_D_CASES))
def test_matmul_with_vectors_passes_gradcheck(case, rng):
    shape_a, shape_b = ONE_D_CASES[case]
    slim.testing.gradcheck(arithmetic.matmul, [rng.standard_normal(shape_a), rng.standard_normal(shape_b)])


def test_the_op_table_draws_every_matmul_case():
    """The registry's gradcheck covers the 1-D cases too (vector @ vector included)."""
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(200):
        a, b = OPS["matmul"].make_inputs(rng)
        kinds.add((a.ndim == 1, b.ndim == 1, a.ndim > 2 or b.ndim > 2))
    assert (True, True, False) in kinds     # vector @ vector
    assert (True, False, False) in kinds    # vector @ matrix
    assert (False, True, False) in kinds    # matrix @ vector
    assert (False, True, True) in kinds     # batched @ vector
    assert (True, False, True) in kinds     # vector @ batched


def test_power_with_exponent_zero_has_zero_gradient_even_at_base_zero():
    x = slim.tensor(np.array([0.0, 1.0, -2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warnings either
        (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_power_of_zero_base_has_zero_exponent_gradient():
    p = slim.tensor(np.array([0.0, 1.0, 2.5]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (0 ** p).sum().backward()
    assert p.grad.tolist() == [0.0, 0.0, 0.0]


def test_power_tensor_base_and_exponent_at_the_corners():
    x = slim.tensor(np.array([0.0, 0.0, 2.0]), requires_grad=True)
    p = slim.tensor(np.array([0.0, 2.0, 0.0]), requires_grad=True)
    (x ** p).sum().backward()
    # d/dx: 0 (p == 0), 2 * 0 = 0, 0 (p == 0); d/dp: 0 (x == 0), 0 (x == 0), 2^0 log 2.
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert np.allclose(p.grad, [0.0, 0.0, np.log(2.0)])


def test_power_gradients_away_from_the_corners_are_unchanged():
    x = slim.tensor(np.array([0.5, 2.0]), requires_grad=True)
    p = slim.tensor(np.array([3.0, -1.0]), requires_grad=True)
    (x ** p).sum().backward()
    assert np.allclose(x.grad, [3 * 0.5 ** 2, -1 * 2.0 ** -2])
    assert np.allclose(p.grad, [0.5 ** 3 * np.log(0.5), 2.0 ** -1 * np.log(2.0)])


def test_power_keeps_float32_gradients():
    x = slim.tensor(np.array([0.0, 3.0], dtype=np.float32), requires_grad=True)
    (x ** 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [0.0, 6.0]


@pytest.mark.torch
def test_power_gradients_match_pytorch_on_a_grid_of_corners():
    torch = pytest.importorskip("torch")
    bases, exponents = np.meshgrid([0.0, 1.0, 2.0, -2.0, 0.5], [0.0, 1.0, 2.0, -1.0, 0.5, 3.0])
    x = slim.tensor(bases.copy(), requires_grad=True)
    p = slim.tensor(exponents.copy(), requires_grad=True)
    with np.errstate(all="ignore"):
        (x ** p).sum().backward()
    tx = torch.tensor(bases, requires_grad=True)
    tp = torch.tensor(exponents, requires_grad=True)
    (tx ** tp).sum().backward()
    assert np.array_equal(x.grad, tx.grad.numpy(), equal_nan=True)
    assert np.array_equal(p.grad, tp.grad.numpy(), equal_nan=True)


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(ONE_D_CASES))
def test_matmul_vector_gradients_match_pytorch(case, rng):
    torch = pytest.importorskip("torch")
    shape_a, shape_b = ONE_D_CASES[case]
    a_values, b_values = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = slim.tensor(a_values, requires_grad=True), slim.tensor(b_values, requires_grad=True)
    out = a @ b
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    ta, tb = torch.tensor(a_values, requires_grad=True), torch.tensor(b_values, requires_grad=True)
    (ta @ tb).backward(torch.tensor(upstream))
    assert np.allclose(a.grad, ta.grad.numpy()) and np.allclose(b.grad, tb.grad.numpy())
