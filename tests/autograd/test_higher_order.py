"""Higher-order gradients: grad(), backward(create_graph=True), gradgradcheck over the op
table, the examples of the docs and notebook (Newton's method, Hessian-vector products, a
gradient penalty) against analytic results, and the clear error of first-order-only ops."""
import numpy as np
import pytest

import minislim as slim
from minislim.autograd.function import Function
from minislim.ops.registry import OPS

# Ops whose backward is written with NumPy arrays (the fast kernels): create_graph=True
# through them raises NotTwiceDifferentiableError naming them.
FIRST_ORDER_ONLY = {"nn.conv2d", "nn.conv2d_transpose", "nn.max_pool2d", "nn.avg_pool2d",
                    "nn.global_avg_pool2d", "fused_batch_norm"}
# The families the issue asks for (and the layers an MLP needs) must be twice differentiable.
REQUIRED = {"add", "subtract", "multiply", "divide", "negative", "power", "matmul", "exp", "log", "sqrt",
            "abs", "maximum", "minimum", "where", "clip", "sum", "mean", "var", "max", "min", "reshape",
            "transpose", "broadcast_to", "getitem", "concat", "stack", "pad", "softmax", "log_softmax",
            "logsumexp", "relu", "relu6", "elu", "leaky_relu", "sigmoid", "tanh", "softplus", "nn.bias_add",
            "losses.softmax_cross_entropy", "losses.sparse_softmax_cross_entropy",
            "losses.sigmoid_cross_entropy"}


def test_the_required_ops_are_in_the_table():
    assert REQUIRED <= set(OPS)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("seed", [0, 1])
def test_gradgradcheck_every_op_or_a_clear_first_order_only_error(name, seed):
    """Every op of the table passes gradgradcheck, or says it is first-order only (never a
    silently wrong second derivative); the required ones must pass."""
    spec = OPS[name]
    inputs, kwargs = spec.sample(np.random.default_rng(seed))
    try:
        slim.testing.gradgradcheck(lambda *xs: spec.fn(*xs, **kwargs), inputs, seed=seed)
    except slim.NotTwiceDifferentiableError as error:
        assert name not in REQUIRED, f"{name} must be twice differentiable: {error}"
        assert "is not twice differentiable yet" in str(error)


@pytest.mark.parametrize("name", sorted(FIRST_ORDER_ONLY & set(OPS)))
def test_first_order_only_ops_raise_a_clear_error_under_create_graph(name):
    spec = OPS[name]
    inputs, kwargs = spec.sample(np.random.default_rng(0))
    tensors = [slim.tensor(x) if i in spec.constant_inputs else slim.tensor(x, requires_grad=True)
               for i, x in enumerate(inputs)]
    out = spec.fn(*tensors, **kwargs)
    with pytest.raises(slim.NotTwiceDifferentiableError, match=r"create_graph=True: \w+ is not twice "
                                                              r"differentiable yet"):
        slim.grad((out * out).sum(), [t for t in tensors if t.requires_grad], create_graph=True)
    # first order through the same graph still works
    assert all(g.shape == t.shape for g, t in zip(slim.grad((out * out).sum(), tensors[:1]), tensors[:1]))


def test_a_conv_layer_error_names_the_op_and_its_scope():
    images = slim.tensor(np.ones((1, 4, 4, 1), np.float32), requires_grad=True)
    out = slim.conv2d(images, 2, [3, 3], scope="conv1")
    with pytest.raises(slim.NotTwiceDifferentiableError, match="Conv2D in scope 'conv1' is not twice"):
        out.sum().backward(create_graph=True)


def test_gradgradcheck_catches_a_backward_that_is_right_only_to_first_order():
    class LeakyExp(Function):
        """exp whose backward uses e^x as a constant: the first derivative is right, the second is not."""

        differentiable_backward = True

        def forward(self, x):
            return np.exp(x)

        def backward(self, grad_output):
            (x,) = self.inputs
            return (grad_output * np.exp(x.data),)  # should be grad_output * self.output

    x = np.array([0.3, -0.2, 1.1])
    assert slim.testing.gradcheck(lambda t: LeakyExp()(t), [x]).ok
    report = slim.testing.gradgradcheck(lambda t: LeakyExp()(t), [x], raise_exception=False)
    assert not report.ok and not report.checks[0].ok and report.checks[1].ok  # wrong in x, right in v
    with pytest.raises(slim.testing.GradcheckError, match="input 0"):
        slim.testing.gradgradcheck(lambda t: LeakyExp()(t), [x])


def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    w = slim.tensor([3.0, 4.0], requires_grad=True)
    unused = slim.tensor([5.0], requires_grad=True)
    hidden = x * w
    loss = (hidden * hidden).sum()
    gx, gh, gu = slim.grad(loss, [x, hidden, unused], retain_graph=True)
    assert isinstance(gx, slim.Tensor) and not gx.requires_grad
    np.testing.assert_allclose(gx.data, 2 * (1 * 3) * 3 * np.array([1, 0]) + 2 * 8 * 4 * np.array([0, 1]))
    np.testing.assert_allclose(gh.data, [6.0, 16.0])  # d loss / d hidden = 2 hidden
    assert gu.data.tolist() == [0.0]                   # no path: zeros
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="outputs\\[0\\] does not require grad"):
        slim.grad(slim.tensor([1.0]).sum(), [x])


def test_backward_with_create_graph_makes_grad_a_differentiable_tensor():
    x = slim.tensor([2.0, -1.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, slim.Tensor) and first.requires_grad
    np.testing.assert_allclose(first.data, [12.0, 3.0])
    x.grad = None
    first.sum().backward()  # d/dx sum(3 x^2) = 6 x
    np.testing.assert_allclose(x.grad, [12.0, -6.0])


def test_newton_method_on_rosenbrock_uses_the_exact_hessian():
    def rosenbrock(v):
        return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2

    v = slim.tensor(np.array([-1.2, 1.0]), requires_grad=True)
    (g,) = slim.grad(rosenbrock(v), [v], create_graph=True)
    hessian = np.stack([slim.grad(g[i], [v], retain_graph=True)[0].data for i in range(2)])
    x, y = -1.2, 1.0
    analytic = np.array([[2 - 400 * (y - x ** 2) + 800 * x ** 2, -400 * x], [-400 * x, 200]])
    np.testing.assert_allclose(hessian, analytic, rtol=1e-12)
    np.testing.assert_allclose(g.data, [-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)], rtol=1e-12)
    point = np.array([-1.2, 1.0])
    for _ in range(10):
        v = slim.tensor(point, requires_grad=True)
        (g,) = slim.grad(rosenbrock(v), [v], create_graph=True)
        h = np.stack([slim.grad(g[i], [v], retain_graph=True)[0].data for i in range(2)])
        point = point - np.linalg.solve(h, g.data)
    np.testing.assert_allclose(point, [1.0, 1.0], atol=1e-10)


def test_hessian_vector_product_of_a_quadratic_is_a_times_v():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((4, 4))
    a = m @ m.T
    x = slim.tensor(rng.standard_normal(4), requires_grad=True)
    v = rng.standard_normal(4)
    f = 0.5 * (x @ (slim.tensor(a) @ x))
    (g,) = slim.grad(f, [x], create_graph=True)
    (hv,) = slim.grad((g * v).sum(), [x])
    np.testing.assert_allclose(hv.data, a @ v, rtol=1e-12)


def test_hessian_vector_product_of_an_mlp_loss_matches_differences_of_gradients():
    rng = np.random.default_rng(1)
    images, labels = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    params = [slim.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in [(5, 6), (6,), (6, 3), (3,)]]

    def loss_of(ps):
        hidden = slim.nn.tanh(slim.nn.bias_add(slim.tensor(images) @ ps[0], ps[1]))
        hidden = slim.nn.relu(hidden + 0.1)
        logits = slim.nn.bias_add(hidden @ ps[2], ps[3])
        return slim.losses.sparse_softmax_cross_entropy(logits, labels, loss_collection=None)

    direction = [rng.standard_normal(p.shape) for p in params]
    grads = slim.grad(loss_of(params), params, create_graph=True)
    dot = sum((g * d).sum() for g, d in zip(grads, direction))
    hvp = slim.grad(dot, params)

    def flat_gradient(offset):
        ps = [slim.tensor(p.data + offset * d, requires_grad=True) for p, d in zip(params, direction)]
        return np.concatenate([g.data.ravel() for g in slim.grad(loss_of(ps), ps)])

    eps = 1e-5
    numeric = (flat_gradient(eps) - flat_gradient(-eps)) / (2 * eps)
    np.testing.assert_allclose(np.concatenate([h.data.ravel() for h in hvp]), numeric, rtol=1e-5, atol=1e-8)


def test_a_gradient_penalty_trains_the_weights_through_the_input_gradient():
    rng = np.random.default_rng(2)
    w1, w2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 1))
    points = rng.standard_normal((5, 3))

    def penalty(weights1, weights2):
        with slim.enable_grad():  # gradcheck evaluates fn under no_grad(); the inner grad needs a graph
            x = slim.tensor(points, requires_grad=True)
            critic = slim.nn.softplus(x @ weights1) @ weights2
            (gx,) = slim.grad(critic.sum(), [x], create_graph=True)
            norms = ((gx * gx).sum(axis=1) + 1e-12) ** 0.5
            return ((norms - 1) ** 2).mean()

    slim.testing.gradcheck(penalty, [w1, w2])


def test_second_derivatives_of_float32_inputs_stay_float32():
    x = slim.tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    (g,) = slim.grad(slim.nn.sigmoid(x).sum(), [x], create_graph=True)
    (h,) = slim.grad(g.sum(), [x])
    assert g.dtype == np.float32 and h.dtype == np.float32
    s = 1 / (1 + np.exp(-np.array([0.5, 1.5])))
    np.testing.assert_allclose(h.data, s * (1 - s) * (1 - 2 * s), rtol=1e-5)


def test_first_order_backward_builds_no_graph_for_the_gradients():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    (slim.nn.exp(x) * x).sum().backward()
    assert type(x.grad) is np.ndarray
    (g,) = slim.grad((slim.nn.exp(x) * x).sum(), [x])
    assert g.creator is None and not g.requires_grad
