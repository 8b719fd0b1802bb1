# %% [markdown]
# # 01 · Autograd from scratch
#
# Training a network needs the gradient of a loss with respect to every parameter.
# *Reverse-mode automatic differentiation* (autograd, backpropagation) gets all of them
# for the price of about one extra forward pass. This notebook builds the idea up:
#
# 1. tensors, and the graph that operations record;
# 2. a backward pass **by hand**, then the same with minislim's engine;
# 3. a 30-line autograd for scalars, to see that there is no magic, and a picture of the
#    graph with its values and gradients (`slim.viz.draw`);
# 4. writing your own op as a `Function` (forward and backward side by side);
# 5. broadcasting, gradient accumulation, `no_grad` and `detach`.
#
# Everything here is plain NumPy underneath: the core of `minislim/autograd/` (`tensor.py`, `function.py`, `engine.py`) is about 350 lines.

# %%
import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Tensors and the graph
#
# A `Tensor` wraps an ndarray (`.data`). Python floats become **float32**, the default
# dtype of minislim; an ndarray keeps its own dtype. `requires_grad=True` marks a tensor
# whose gradient we want: every operation on it is recorded.

# %%
x = slim.tensor([1.0, 2.0, 3.0], requires_grad=True)
print(x, x.dtype, x.shape)
print(x.data, type(x.data))

# %% [markdown]
# Each result remembers the op call that made it in `.creator` (a `Function` instance), and
# that call remembers its inputs. These links *are* the computation graph: it is recorded
# while your Python code runs (*define-by-run*), so loops and `if`s need nothing special.
# `show_graph` below prints it as text; section 3 draws one as a picture.

# %%
y = x * x            # Multiply
z = y + 3 * x        # Multiply, then Add
loss = z.sum()       # Sum

def show_graph(tensor, indent=0):
    """Print the graph that produced `tensor`, one op per line, inputs indented."""
    op = tensor.creator
    if op is None:
        print(" " * indent + f"leaf {tensor.shape} requires_grad={tensor.requires_grad}")
        return
    print(" " * indent + f"{type(op).__name__} -> {tensor.shape}")
    for t in op.inputs:
        show_graph(t, indent + 4)

show_graph(loss)
print("x is a leaf:", x.is_leaf, "| loss is a leaf:", loss.is_leaf)

# %% [markdown]
# ## 2. Backward by hand, then by the engine
#
# Take a tiny one-layer network and a squared loss:
#
# $$h = \tanh(x W + b), \qquad L = \tfrac12 \sum (h - t)^2 .$$
#
# The chain rule, applied from the loss backwards, one op at a time. Each step takes the
# gradient with respect to an op's output and turns it into gradients with respect to its
# inputs:
#
# | forward            | backward (with `g` the gradient arriving at the output)     |
# |--------------------|-------------------------------------------------------------|
# | `L = ½ Σ (h − t)²` | `dL/dh = h − t`                                             |
# | `h = tanh(a)`      | `dL/da = dL/dh · (1 − h²)`                                  |
# | `a = x W + b`      | `dL/dW = xᵀ · dL/da`, `dL/db = Σ_rows dL/da`, `dL/dx = dL/da · Wᵀ` |

# %%
rng = np.random.default_rng(0)
x_np = rng.standard_normal((4, 3))        # 4 examples, 3 features
W_np = rng.standard_normal((3, 2)) * 0.5
b_np = np.zeros(2)
t_np = rng.standard_normal((4, 2))        # targets

# forward, keeping what the backward pass needs
a_np = x_np @ W_np + b_np
h_np = np.tanh(a_np)
L_np = 0.5 * np.sum((h_np - t_np) ** 2)

# backward, by hand, from the loss to the parameters
dL_dh = h_np - t_np
dL_da = dL_dh * (1 - h_np ** 2)
dL_dW = x_np.T @ dL_da
dL_db = dL_da.sum(axis=0)
print("loss", round(L_np, 6))
print("dL/dW by hand:\n", dL_dW)

# %% [markdown]
# The same computation with tensors. `loss.backward()` walks the recorded graph in reverse
# and fills `.grad` of every leaf that requires it. We use float64 here so the two results
# can be compared to many digits.

# %%
W = slim.tensor(W_np, requires_grad=True)
b = slim.tensor(b_np, requires_grad=True)
h = slim.nn.tanh(slim.tensor(x_np) @ W + b)
loss = 0.5 * ((h - slim.tensor(t_np)) ** 2).sum()
loss.backward()

print("loss", round(loss.item(), 6))
print("dL/dW by the engine:\n", W.grad)
print("largest difference, W:", np.abs(W.grad - dL_dW).max(), " b:", np.abs(b.grad - dL_db).max())

# %% [markdown]
# ## 3. An autograd in thirty lines
#
# What does `backward()` do? Here is the whole algorithm for scalars (the design of
# Karpathy's *micrograd*). Each `Value` stores its number, its gradient, its parents and a
# small closure that pushes its gradient to its parents. `backward` orders the graph so
# that every node comes after all the nodes that use it (a *topological order*, built here
# with an explicit stack rather than recursion), then runs the closures in that order.

# %%
import math


class Value:
    def __init__(self, data, parents=()):
        self.data, self.grad, self.parents = data, 0.0, parents
        self._backward = lambda: None

    def __add__(self, other):
        out = type(self)(self.data + other.data, (self, other))  # type(self): subclasses keep their class
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        out = type(self)(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,))
        def _backward():
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:                      # iterative depth-first search
            node, done = stack.pop()
            if done:
                order.append(node)        # all of its parents are already placed
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.grad = 1.0
        for node in reversed(order):      # consumers before producers
            node._backward()


# f(u, v) = tanh(u * v + u): df/du = (1 - f^2)(v + 1), df/dv = (1 - f^2) u
u, v = Value(0.5), Value(-1.5)
f = (u * v + u).tanh()
f.backward()
print(f"f = {f.data:.6f}   df/du = {u.grad:.6f}   df/dv = {v.grad:.6f}")

# %% [markdown]
# Note the `+=` in every closure: `u` is used twice, so two gradients reach it and they
# must be **added** (the multivariate chain rule). minislim's engine (in
# `minislim/autograd/engine.py`) is the same algorithm on arrays: each `Function` gets the
# sum of the gradients that reached its output, and returns one gradient per input.
# Let us check the scalar engine against it:

# %%
us = slim.tensor(np.array(0.5), requires_grad=True)
vs = slim.tensor(np.array(-1.5), requires_grad=True)
fs = slim.nn.tanh(us * vs + us)
fs.backward()
print("minislim:", us.grad, vs.grad)

# %% [markdown]
# ### The graph, drawn
#
# `slim.viz.draw(tensor)` draws the graph that `backward()` just walked. Ovals are tensors
# (a name if it has one, then shape and dtype, and for tensors of at most four numbers the
# value and, once `backward()` has run, the gradient); boxes are the ops, in the order the
# data flows. Read it from the top: `u` and `v` go into `Multiply`, its output and `u`
# again into `Add`, then `Tanh` gives `f`.
#
# Two things to look for:
#
# * `u` has **two** outgoing arrows, so two gradients come back to it: $(1 - f^2)\,v$
#   through `Multiply` and $(1 - f^2) \cdot 1$ through `Add`. Its `grad` is their sum,
#   the `+=` of the scalar engine above (checked below the picture).
# * Only the **leaves** (`u`, `v`) show a gradient. The engine hands each intermediate
#   gradient to the op that made the tensor and then drops it, as PyTorch does: a
#   network's activations are large, and nobody asked for their gradients.
#
# `draw` uses Graphviz's `dot` program when it is installed (`apt install graphviz`, `brew
# install graphviz`) and matplotlib otherwise; its first line says which. `slim.viz.to_dot`
# gives the Graphviz text itself, with no dependency at all.

# %%
us.name, vs.name = "u", "v"        # a name makes a leaf easy to spot in the picture
slim.viz.draw(fs)

# %%
local = 1 - fs.item() ** 2         # tanh's derivative at the output
through_multiply, through_add = local * vs.item(), local * 1.0
print(f"through Multiply {through_multiply:.4f} + through Add {through_add:.4f} "
      f"= {through_multiply + through_add:.4f} = u.grad {us.grad.item():.4f}")
assert np.isclose(through_multiply + through_add, us.grad)

# %% [markdown]
# ### Exercise 1: three new ops for `Value`
#
# An op needs two things: its output `Value` (with its inputs as parents) and a closure
# that **adds** the local derivative times `out.grad` to each input's `.grad`. Complete
# the three ops below: `x ** n` for a plain number `n` (derivative $n x^{n-1}$), `exp`
# (its derivative is itself, `out.data`) and `relu` ($\max(x, 0)$: the gradient passes
# where $x > 0$). `exercises.check` builds a small expression with each op, in which the
# input is used twice, and compares the values and gradients with a correct engine; it
# names the classic mistakes (`=` instead of `+=`, a forgotten `out.grad`, ...).
# Solutions are in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/value_ops.py


ops_result = exercises.check(MyValue, "value_ops")

# %% [markdown]
# ### Exercise 2: the training loop
#
# Training is a loop of four steps: set every parameter's `.grad` to zero (`backward`
# *adds* to it, so without this each step would use the sum of all the gradients so far),
# compute the loss, call `backward`, and move every parameter a little *against* its
# gradient (`p.data -= lr * p.grad`). Write it; the checker runs it on a tiny least-squares
# problem beside a correct loop.

# %%
# include: minislim/exercises/skeletons/value_training_loop.py


loop_result = exercises.check(train, "value_training_loop")

# %% [markdown]
# With both exercises done, your engine trains a small multilayer perceptron: 2 inputs, 8
# ReLU units, 1 output, on points inside or outside a circle (a squared loss on labels
# +1 and -1). Every number is a `MyValue`, so this is slow (a few seconds), but every
# step of it is code you wrote.

# %%
if ops_result.passed and loop_result.passed:
    point_rng = np.random.default_rng(1)
    points = point_rng.uniform(-1, 1, size=(40, 2))
    labels = np.where((points ** 2).sum(axis=1) < 0.45, 1.0, -1.0)
    W1 = [[MyValue(point_rng.normal() * 0.8) for _ in range(2)] for _ in range(8)]
    b1 = [MyValue(0.0) for _ in range(8)]
    W2 = [MyValue(point_rng.normal() * 0.4) for _ in range(8)]
    b2 = MyValue(0.0)
    mlp_params = [w for row in W1 for w in row] + b1 + W2 + [b2]

    def predict(p):
        hidden = [(W1[j][0] * MyValue(p[0]) + W1[j][1] * MyValue(p[1]) + b1[j]).relu() for j in range(8)]
        out = b2
        for w, h in zip(W2, hidden):
            out = out + w * h
        return out

    def mlp_loss():
        total = MyValue(0.0)
        for p, t in zip(points, labels):
            total = total + (predict(p) + MyValue(-t)) ** 2
        return total * MyValue(1 / len(points))

    mlp_losses = train(mlp_params, mlp_loss, steps=60, lr=0.1)
    accuracy = np.mean([np.sign(predict(p).data) == t for p, t in zip(points, labels)])
    print(f"loss {mlp_losses[0]:.3f} -> {mlp_losses[-1]:.3f}; training accuracy {accuracy:.0%}")
    plt.figure(figsize=(4, 2.5))
    plt.plot(mlp_losses)
    plt.xlabel("step")
    plt.ylabel("mean squared error")
    plt.title("your MLP, trained by your loop")
    plt.show()
else:
    print("finish both exercises above to train the MLP")

# %% [markdown]
# ## 4. Your own op: a `Function`
#
# An op is a subclass of `slim.Function` with `forward` and `backward` side by side, both on
# plain ndarrays. `forward` saves what `backward` will need; `backward` receives
# `grad_output` (the gradient of the loss with respect to the op's output) and returns a
# tuple with one gradient per input. Here is $\sin$, which minislim does not ship:

# %%
class Sin(slim.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return np.sin(x)

    def backward(self, grad_output):
        (x,) = self.saved_arrays
        return (grad_output * np.cos(x),)   # chain rule: upstream gradient times the local derivative


grid = slim.tensor(np.linspace(-np.pi, np.pi, 9), requires_grad=True)
Sin()(grid).sum().backward()
print("autograd:", grid.grad)
print("cos(x):  ", np.cos(grid.data))

# %% [markdown]
# Because `backward` gives the derivative at every point at once, one backward pass over a
# grid draws a function's derivative. Here is `tanh` and the gradient minislim computes for it:

# %%
xs = slim.tensor(np.linspace(-4, 4, 201), requires_grad=True)
ys = slim.nn.tanh(xs)
ys.sum().backward()   # the elements are independent, so d(sum)/dx_i = tanh'(x_i)

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(xs.data, ys.data, label="tanh(x)")
ax.plot(xs.data, xs.grad, label="d tanh / dx (autograd)")
ax.plot(xs.data[::10], 1 - np.tanh(xs.data[::10]) ** 2, "k.", label="1 - tanh(x)^2")
ax.set_xlabel("x")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 5. Broadcasting
#
# NumPy's broadcasting stretches a `(3, 1)` column and a `(4,)` row into a `(3, 4)` result.
# Every element of the column was used 4 times, so its gradient is the **sum** of 4
# gradients: a broadcast in the forward pass is a sum in the backward pass. minislim does
# this once, in the engine (`minislim.kernels.reduce.sum_to`), so no op repeats it.

# %%
col = slim.tensor(np.array([[1.0], [2.0], [3.0]]), requires_grad=True)   # (3, 1)
row = slim.tensor(np.array([10.0, 20.0, 30.0, 40.0]), requires_grad=True)  # (4,)
prod = col * row                                                           # (3, 4)
prod.sum().backward()
print("shapes:", col.shape, row.shape, "->", prod.shape)
print("col.grad =", col.grad.ravel(), "  (each row's sum: 10 + 20 + 30 + 40)")
print("row.grad =", row.grad, "  (each column's sum: 1 + 2 + 3)")

# %%
from minislim.kernels.reduce import sum_to

upstream = np.ones((3, 4)) * row.data          # what Multiply's backward returns for col
print(sum_to(upstream, (3, 1)).ravel())          # summed over the stretched axis

# %% [markdown]
# ## 6. Accumulation, `backward` twice, `no_grad`, `detach`
#
# Gradients **accumulate** in leaves, as in PyTorch: calling `backward` again adds to
# `.grad`. That is what you want when a parameter is used in several losses, and why
# optimizers clear gradients (`zero_grad`) before each step.
#
# A classic bug (micrograd's) is to keep intermediate gradients on the nodes, so that a
# second backward starts from stale values. For $y = (x x)(x x)$ at $x = 3$,
# $dy/dx = 4x^3 = 108$; two passes must give $216$, not $324$:

# %%
x = slim.tensor(3.0, requires_grad=True)
y = (x * x) * (x * x)
y.backward(retain_graph=True)   # keep the saved arrays for a second pass
print("after one pass: ", x.grad)
y.backward()
print("after two passes:", x.grad)
x.zero_grad()
print("after zero_grad:", x.grad)

# %% [markdown]
# Inside `with slim.no_grad():` nothing is recorded (evaluation, parameter updates), and
# `t.detach()` gives a new leaf with the same values and no history.

# %%
w = slim.tensor([1.0, -2.0], requires_grad=True)
with slim.no_grad():
    updated = w - 0.1 * w
print("recorded inside no_grad:", updated.requires_grad)
print("detach:", (w * 2).detach().requires_grad, "| dtype stays float32:", (w * 2.5).dtype)

# %% [markdown]
# ## Takeaways
#
# * The graph is recorded as the code runs; `backward` visits it once, in reverse
#   topological order, and adds up the gradients that reach each node
#   (`slim.viz.draw` shows it).
# * An op is a forward and a backward side by side; the backward multiplies the upstream
#   gradient by the local derivative.
# * Broadcasting forward means summing backward, done once in the engine.
#
# Next: **02 · Gradient checking**, how to *test* a backward pass, with an exercise.
