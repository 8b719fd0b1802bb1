# %% [markdown]
# # 14 · Seeing the graph, catching the NaN, differentiating twice
#
# Three tools for looking inside autograd:
#
# 1. **pictures of the graph** (`slim.viz`): every op and tensor behind a result, and a
#    whole model with one box per layer;
# 2. **anomaly detection** (`slim.detect_anomaly()`): the op, layer and line that made the
#    first NaN;
# 3. **higher-order gradients** (`slim.grad(..., create_graph=True)`): Newton's method and
#    Hessian-vector products, checked against analytic results;
#
# and the model analyzer's answer to *where do the time and memory of a training step go?*

# %%
import numpy as np

import minislim as slim
from minislim.nets.vgg import vgg_cifar, vgg_cifar_arg_scope

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The graph behind a tensor
#
# Ovals are tensors (shape and dtype; the value and, after `backward()`, the gradient of
# small ones), boxes are ops (the `Function`'s name and the layer scope that made it).
# `draw` uses Graphviz's `dot` when it is installed, and matplotlib otherwise; it says which.

# %%
x = slim.tensor([1.0, 2.0], requires_grad=True)
w = slim.tensor([[0.5], [-1.0]], requires_grad=True)
with slim.variable_scope("layer"):
    y = slim.nn.tanh(x @ w)
loss = (y * y).sum()
loss.backward()
slim.viz.draw(loss)

# %% [markdown]
# The picture is drawn from DOT text, which `to_dot` returns without needing anything:

# %%
print(slim.viz.to_dot(loss))

# %% [markdown]
# A model has hundreds of ops; `collapse="scope"` folds each layer into one box with its
# variables' shapes (and its weight-decay term), and labels the edges with the activation
# shapes. Here is the whole `vgg_cifar` with its loss:

# %%
images = slim.tensor(rng.standard_normal((2, 32, 32, 3)).astype(np.float32))
with slim.arg_scope(vgg_cifar_arg_scope()):
    logits, _ = vgg_cifar(images)
slim.losses.sparse_softmax_cross_entropy(logits, np.array([3, 5]))
total_loss = slim.losses.get_total_loss()
slim.viz.draw(total_loss, collapse="scope")

# %% [markdown]
# ## 2. Where was the NaN born?
#
# `sqrt(0)` is fine, but its derivative `1 / (2 sqrt(x))` is infinite there. Without help
# you would only see a NaN or inf in some gradient; `detect_anomaly()` names the op:

# %%
x = slim.tensor([0.0, 4.0], requires_grad=True)
try:
    with slim.detect_anomaly(), np.errstate(divide="ignore"):
        with slim.variable_scope("head"):
            y = slim.nn.sqrt(x)
        (y * 3).sum().backward()
except slim.AnomalyError as error:
    print(error)
    assert "backward pass of Sqrt in scope 'head'" in str(error)

# %% [markdown]
# ## 3. Gradients of gradients
#
# With `create_graph=True` the backward pass is recorded, so a gradient is a tensor with a
# graph of its own and can be differentiated again. Every op's backward formula is written
# once, with the differentiable ops; an ordinary `backward()` runs it without recording.
#
# ### Newton's method on the Rosenbrock function
#
# $f(x, y) = (1 - x)^2 + 100 (y - x^2)^2$ has its minimum at $(1, 1)$ at the bottom of a
# curved valley, where gradient descent crawls. Newton's method solves
# $H \, \Delta = -\nabla f$ at each step. The Hessian $H$ comes from differentiating each
# entry of the gradient again.

# %%
def rosenbrock(v):
    return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2


def gradient_and_hessian(point):
    v = slim.tensor(point, requires_grad=True)
    (g,) = slim.grad(rosenbrock(v), [v], create_graph=True)
    rows = [slim.grad(g[i], [v], retain_graph=True)[0].data for i in range(len(point))]
    return g.data, np.stack(rows)


g, h = gradient_and_hessian(np.array([-1.2, 1.0]))
x0, y0 = -1.2, 1.0
analytic = np.array([[2 - 400 * (y0 - x0 ** 2) + 800 * x0 ** 2, -400 * x0], [-400 * x0, 200.0]])
print("Hessian by autograd:\n", h, "\nanalytic:\n", analytic)
assert np.allclose(h, analytic, rtol=1e-12)

point = np.array([-1.2, 1.0])
for step in range(8):
    g, h = gradient_and_hessian(point)
    point = point - np.linalg.solve(h, g)
    print(f"step {step + 1}: {point}, f = {rosenbrock(point):.3e}")
assert np.allclose(point, [1.0, 1.0], atol=1e-8)

# %% [markdown]
# ### A Hessian-vector product of a small network's loss
#
# A network's Hessian has (parameters)² entries, too many to build; but its product with a
# vector $v$ is one more backward pass: $Hv = \nabla_\theta (\nabla_\theta L \cdot v)$.
# We check it against central differences of the gradient along $v$:
# $Hv \approx (\nabla L(\theta + \varepsilon v) - \nabla L(\theta - \varepsilon v)) / 2\varepsilon$.

# %% [markdown]
# ### Exercise: a Hessian-vector product
#
# Write $Hv$ with two calls of `slim.grad`, the first with `create_graph=True`, before the
# next cell does it for a small network. The checker tries a quadratic, whose Hessian is
# known, and a small network's loss; the gradient times `v` (first order only) is the
# classic mistake. A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/hessian_vector_product.py


hessian_vector_product_result = exercises.check(hessian_vector_product, "hessian_vector_product")

# %%
data, labels = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
params = [slim.tensor(rng.standard_normal(shape) * 0.5, requires_grad=True) for shape in [(4, 8), (8,), (8, 3), (3,)]]


def mlp_loss(ps):
    hidden = slim.nn.tanh(slim.nn.bias_add(slim.tensor(data) @ ps[0], ps[1]))
    logits = slim.nn.bias_add(hidden @ ps[2], ps[3])
    return slim.losses.sparse_softmax_cross_entropy(logits, labels, loss_collection=None)


v = [rng.standard_normal(p.shape) for p in params]
grads = slim.grad(mlp_loss(params), params, create_graph=True)
hvp = slim.grad(sum((g * d).sum() for g, d in zip(grads, v)), params)


def flat_gradient(offset):
    ps = [slim.tensor(p.data + offset * d, requires_grad=True) for p, d in zip(params, v)]
    return np.concatenate([g.data.ravel() for g in slim.grad(mlp_loss(ps), ps)])


numeric = (flat_gradient(1e-5) - flat_gradient(-1e-5)) / 2e-5
autograd = np.concatenate([h.data.ravel() for h in hvp])
print("largest difference:", np.abs(autograd - numeric).max(), "of values up to", np.abs(numeric).max())
assert np.allclose(autograd, numeric, rtol=1e-5, atol=1e-8)

# %% [markdown]
# `slim.testing.gradgradcheck` does this check for any function, and the test suite runs
# it over every op of the op table. Convolution, pooling and batch norm keep their fast
# NumPy backward and are not twice differentiable yet; they say so:

# %%
try:
    out = slim.conv2d(images, 4, [3, 3], scope="conv_demo")
    slim.grad(out.sum(), slim.get_variables("conv_demo"), create_graph=True)
except slim.NotTwiceDifferentiableError as error:
    print(error)

# %% [markdown]
# ## 4. Where the time and memory of a training step go
#
# For each layer of `vgg_cifar` on a batch of 32: the multiply-adds of the forward and
# backward passes, the activation memory the graph keeps for the backward pass, and the
# im2col buffer of each convolution, more than half of all activation memory.

# %%
with slim.Graph().as_default():
    batch = slim.tensor(np.zeros((32, 32, 32, 3), np.float32))
    with slim.arg_scope(vgg_cifar_arg_scope()):
        batch_logits, _ = vgg_cifar(batch)
    totals = slim.model_analyzer.analyze_ops(batch_logits)
print(f"\nim2col: {totals['im2col_bytes'] / totals['activation_bytes']:.0%} of the activation memory")
