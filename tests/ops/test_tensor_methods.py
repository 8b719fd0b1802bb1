"""Tensor's in-place operators (``+= -= *= /=``): they update the tensor itself, never
quietly make a new one, and refuse what autograd would have to record."""
import numpy as np
import pytest

import minislim as slim


def test_sgd_step_under_no_grad_updates_the_same_tensor():
    w = slim.tensor([1.0, 2.0], requires_grad=True)
    held = w
    (w * w).sum().backward()
    with slim.no_grad():
        w -= 0.5 * slim.tensor(w.grad)
    assert w is held
    assert held.data.tolist() == [0.0, 0.0]
    assert held.requires_grad and held.is_leaf


@pytest.mark.parametrize("operator, expected", [("+=", [3.0, 6.0]), ("-=", [-1.0, -2.0]),
                                                ("*=", [2.0, 8.0]), ("/=", [0.5, 0.5])])
def test_each_in_place_operator_updates_the_buffer(operator, expected):
    x = slim.tensor([1.0, 2.0])
    buffer = x.data
    namespace = {"x": x, "y": slim.tensor([2.0, 4.0])}
    exec(f"x {operator} y", namespace)
    assert namespace["x"] is x and x.data is buffer
    assert x.data.tolist() == expected


def test_in_place_operators_accept_numbers_arrays_and_broadcasting_to_own_shape():
    x = slim.tensor(np.ones((2, 3), dtype=np.float32))
    x += 1
    x *= np.array([1.0, 2.0, 3.0])     # float64 operand: the result keeps x's float32
    x /= slim.tensor([[2.0], [1.0]])
    assert x.dtype == np.float32 and x.shape == (2, 3)
    assert x.data.tolist() == [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]


def test_in_place_update_cannot_grow_the_shape():
    x = slim.tensor(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(2, 3\) does not broadcast to x's shape \(3,\)"):
        x += np.ones((2, 3))
    assert x.data.tolist() == [0.0, 0.0, 0.0]


def test_in_place_division_of_an_integer_tensor_is_a_type_error():
    x = slim.tensor(np.arange(3))
    with pytest.raises(TypeError, match="int64"):
        x /= 2
    assert x.data.tolist() == [0, 1, 2]


def test_in_place_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = slim.tensor([1.0, 2.0], requires_grad=True)
    held = w
    with pytest.raises(RuntimeError, match=r"x is a leaf that requires grad.*slim\.no_grad\(\).*z = x - y"):
        w -= 1.0
    assert held.data.tolist() == [1.0, 2.0]


def test_in_place_with_an_operand_that_requires_grad_builds_a_recorded_result():
    """`total += loss` while recording: total becomes a new tensor in the graph, as total = total + loss."""
    total = slim.tensor(0.0)
    before = total
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    total += (x ** 2).sum()
    assert total is not before and before.item() == 0.0
    assert total.item() == 5.0 and total.requires_grad
    total.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_in_place_on_a_non_leaf_while_recording_is_the_recorded_op():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss += (3.0 * x).sum()
    loss *= 2.0
    loss.backward()
    assert loss.item() == 2 * (5.0 + 9.0)
    assert x.grad.tolist() == [2 * (2.0 + 3.0), 2 * (4.0 + 3.0)]


def test_in_place_without_any_gradient_needs_no_no_grad():
    x = slim.tensor([1.0, 2.0])
    x += slim.tensor([1.0, 1.0])
    assert x.data.tolist() == [2.0, 3.0] and not x.requires_grad


def test_in_place_on_a_read_only_view_is_a_clear_error():
    x = slim.tensor([1.0, 2.0]).broadcast_to((3, 2))
    with pytest.raises(ValueError, match="read-only"):
        x += 1.0


def test_variable_updated_in_place_is_seen_through_the_graph():
    w = slim.variable("w", shape=[2], initializer=slim.zeros_initializer())
    buffer = w.data
    with slim.no_grad():
        w += slim.tensor([1.0, 2.0])
        w *= 3.0
    found = slim.get_unique_variable("w")
    assert found is w and found.data is buffer
    assert found.data.tolist() == [3.0, 6.0]


def test_variable_that_is_trained_is_refused_in_place_while_recording():
    w = slim.variable("w", shape=[2], initializer=slim.zeros_initializer())
    with pytest.raises(RuntimeError, match="requires grad"):
        w += 1.0
    assert slim.get_unique_variable("w").data.tolist() == [0.0, 0.0]


def test_binary_operators_still_build_new_tensors():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    y = x
    y = y + 1.0   # the ordinary operator: a new node in the graph
    assert y is not x and x.data.tolist() == [1.0, 2.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.torch
def test_in_place_sgd_step_matches_pytorch():
    torch = pytest.importorskip("torch")
    w = slim.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    tw = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    for _ in range(3):
        w.zero_grad()
        (w * w * w).sum().backward()
        with slim.no_grad():
            w -= 0.1 * slim.tensor(w.grad)
        tw.grad = None
        (tw * tw * tw).sum().backward()
        with torch.no_grad():
            tw -= 0.1 * tw.grad
    assert np.allclose(w.data, tw.detach().numpy())
    with pytest.raises(RuntimeError):
        tw -= 1.0  # PyTorch refuses the same outside no_grad
    with pytest.raises(RuntimeError):
        w -= 1.0
