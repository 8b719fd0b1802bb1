"""The backward pass: order, accumulation, broadcasting, buffers, second passes."""
import numpy as np
import pytest

import minislim as slim
from minislim.autograd import Function, topological_order


def test_backward_twice_with_retain_graph_accumulates_216_not_324():
    # d/dx (x*x)*(x*x) = 4 x^3 = 108 at x = 3; two passes accumulate to 216. An engine that
    # keeps intermediate gradients between passes (micrograd) returns 324.
    x = slim.tensor(3.0, requires_grad=True)
    y = (x * x) * (x * x)
    y.backward(retain_graph=True)
    assert x.grad == pytest.approx(108.0)
    y.backward()
    assert x.grad == pytest.approx(216.0)


def test_second_backward_without_retain_graph_raises_a_clear_error():
    x = slim.tensor(3.0, requires_grad=True)
    y = (x * x) * (x * x)
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    assert x.grad == pytest.approx(108.0)  # the failed pass added nothing


def test_gradients_accumulate_into_leaves_across_graphs_like_pytorch():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 + 4])
    x.zero_grad()
    assert x.grad is None


def test_a_chain_of_20000_ops_needs_no_recursion():
    x = slim.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 20_000, rel=1e-3)


def test_diamond_graph_sums_both_paths_once():
    x = slim.tensor(2.0, requires_grad=True)
    a = x * 3.0
    y = a * a + a  # dy/da = 2a + 1 = 13; dy/dx = 39
    y.backward()
    assert x.grad == pytest.approx(39.0)


def test_topological_order_puts_consumers_before_producers():
    x = slim.tensor(1.0, requires_grad=True)
    a = x * 2.0
    b = a + 1.0
    c = a * b
    order = topological_order(c.creator)
    assert order.index(c.creator) < order.index(b.creator) < order.index(a.creator)


def test_broadcast_gradients_are_summed_back_to_each_input_shape():
    a = slim.tensor(np.ones((3, 1)), requires_grad=True)
    b = slim.tensor(np.arange(4.0), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad, np.full((3, 1), 6.0))
    np.testing.assert_allclose(b.grad, np.full(4, 3.0))


def test_no_two_tensors_share_a_gradient_buffer():
    # Add's backward hands the same array to both inputs; each leaf must own a copy.
    a = slim.tensor([1.0, 2.0], requires_grad=True)
    b = slim.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 100
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_a_leaf_gradient_does_not_alias_the_upstream_gradient():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    upstream = np.ones(2, dtype=np.float32)
    (x + 0.0).backward(upstream)
    x.grad[0] = 5
    assert upstream[0] == 1


def test_backward_on_a_non_scalar_needs_an_upstream_gradient():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*grad="):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_on_a_tensor_without_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        slim.tensor([1.0]).sum().backward()


def test_no_grad_records_nothing_and_detach_cuts_the_graph():
    x = slim.tensor([1.0], requires_grad=True)
    with slim.no_grad():
        y = x * 2.0
        with slim.enable_grad():
            z = x * 2.0
    assert y.creator is None and not y.requires_grad
    assert z.requires_grad
    d = (x * 2.0).detach()
    assert d.creator is None and not d.requires_grad and d.is_leaf


def test_gradients_stop_at_inputs_that_do_not_require_grad():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    c = slim.tensor([5.0, 6.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, [5.0, 6.0])


def test_function_instances_can_be_called_on_tensors():
    class Square(Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (2 * x * grad_output,)

    x = slim.tensor([3.0, -1.0], requires_grad=True)
    Square()(x).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, -2.0])


def test_saved_arrays_are_released_after_backward():
    x = slim.tensor([3.0], requires_grad=True)
    y = x * x
    y.sum().backward()
    assert y.creator.released and y.creator.saved_arrays == ()


class FirstOnly(Function):
    """f(a, b) = a; its backward returns None for b (a zero gradient, as PyTorch allows)."""

    def forward(self, a, b):
        return a.copy()

    def backward(self, grad_output):
        return grad_output, None


def test_a_backward_returning_none_for_a_non_leaf_input_is_a_zero_gradient():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    y = slim.tensor([3.0, 4.0], requires_grad=True)
    hidden = y * 2.0  # a non-leaf whose function then receives no gradient at all
    (FirstOnly()(x, hidden) * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert y.grad is None  # nothing reached it, as in PyTorch
    # the same through a second path: y gets exactly that path's gradient
    y.grad = None
    hidden = y * 2.0  # the first pass released the old graph
    (FirstOnly()(x, hidden) + hidden).sum().backward()
    assert y.grad.tolist() == [2.0, 2.0]
