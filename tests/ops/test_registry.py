"""Every op in the table passes gradcheck on hypothesis-drawn inputs.

The table (minislim.ops.registry.OPS) says how to make valid inputs for each op; the
seed drawn here picks shapes, broadcasting, axes and values. Each input is also tried
as a non-contiguous array (a transposed copy or a strided view with the same values),
since an op that assumes C-contiguous data is a classic bug.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minislim as slim
from minislim.ops.registry import OPS

# float64 central differences with eps=1e-6 are accurate to about 1e-9 relative here.
RTOL, ATOL = 1e-5, 1e-7

ALL_OPS = sorted(OPS)


def non_contiguous(array: np.ndarray, how: str) -> np.ndarray:
    """The same values in a non-contiguous layout."""
    if array.ndim == 0 or array.size <= 1:
        return array
    if how == "transposed":
        return np.ascontiguousarray(array.T).T  # Fortran order: same values, other strides
    padded = np.zeros(array.shape[:-1] + (array.shape[-1] * 2,), dtype=array.dtype)
    padded[..., ::2] = array
    return padded[..., ::2]  # a strided view


def check_op(name: str, seed: int, layout: str, mode: str = "full"):
    spec = OPS[name]
    rng = np.random.default_rng(seed)
    inputs, kwargs = spec.sample(rng)
    inputs = [x if i in spec.constant_inputs or layout == "contiguous" else non_contiguous(x, layout)
              for i, x in enumerate(inputs)]
    slim.testing.gradcheck(lambda *xs: spec.fn(*xs, **kwargs), inputs, rtol=RTOL, atol=ATOL,
                           mode=mode, seed=seed)


def test_the_table_covers_the_ops_the_issue_lists():
    expected = {"add", "subtract", "multiply", "divide", "matmul", "power", "exp", "log", "sqrt", "abs",
                "maximum", "minimum", "sum", "mean", "max", "min", "var", "reshape", "transpose",
                "broadcast_to", "getitem", "concat", "stack", "pad", "where", "clip", "relu", "relu6",
                "elu", "leaky_relu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "logsumexp"}
    assert expected <= set(OPS), f"missing from the op table: {sorted(expected - set(OPS))}"


@pytest.mark.parametrize("name", ALL_OPS)
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), layout=st.sampled_from(["contiguous", "transposed", "strided"]))
def test_gradcheck_every_registered_op(name, seed, layout):
    check_op(name, seed, layout)


@pytest.mark.parametrize("name", ALL_OPS)
def test_fast_mode_agrees_on_every_registered_op(name):
    check_op(name, seed=7, layout="contiguous", mode="fast")


@pytest.mark.parametrize("name", ALL_OPS)
def test_every_op_keeps_float32(name):
    spec = OPS[name]
    inputs, kwargs = spec.sample(np.random.default_rng(3))
    tensors = [slim.tensor(x) if i in spec.constant_inputs else
               slim.tensor(x.astype(np.float32), requires_grad=True) for i, x in enumerate(inputs)]
    out = spec.fn(*tensors, **kwargs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for i, t in enumerate(tensors):
        if i not in spec.constant_inputs:
            assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


def test_every_entry_states_its_domain():
    for spec in OPS.values():
        assert spec.domain and isinstance(spec.domain, str)
