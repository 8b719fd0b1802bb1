# %% [markdown]
# # 02 · Gradient checking
#
# A backward pass is easy to get *almost* right, and an almost-right gradient still trains,
# only worse. So every op in minislim is tested against **numerical** gradients computed
# from the forward pass alone. This notebook shows how that works and why each detail of
# `slim.testing.gradcheck` is there:
#
# 1. finite differences, and why they are done in **float64**;
# 2. checking a whole gradient, with `gradcheck` and its report;
# 3. why the outputs are reduced with a **random projection**, not a plain sum;
# 4. full and fast modes, tolerances, kinks;
# 5. diagnosing a deliberately buggy op from the report;
# 6. your turn: the exercises and their checker.

# %%
import time

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import exercises

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Finite differences, and the choice of eps
#
# The derivative is a limit; a computer can only take a small step `eps`:
#
# * forward difference: $\;f'(x) \approx \dfrac{f(x+\varepsilon) - f(x)}{\varepsilon}$, error $O(\varepsilon)$;
# * central difference: $\;f'(x) \approx \dfrac{f(x+\varepsilon) - f(x-\varepsilon)}{2\varepsilon}$, error $O(\varepsilon^2)$.
#
# A smaller step is not always better: $f(x+\varepsilon)$ and $f(x-\varepsilon)$ are rounded to the
# precision of the dtype, and their difference is divided by a tiny number. The total
# error is a *truncation* part that shrinks with $\varepsilon$ and a *rounding* part that grows
# like $u / \varepsilon$ ($u$ is the unit roundoff: about $6\cdot10^{-8}$ in float32,
# $1.1\cdot10^{-16}$ in float64). Let us measure it on $f = \tanh$ at $x = 0.7$.

# %%
def central(f, x, eps):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def forward_difference(f, x, eps):
    return (f(x + eps) - f(x)) / eps


x0 = 0.7
true = 1 - np.tanh(x0) ** 2
epsilons = np.logspace(-12, 0, 49)
errors = {
    "central, float32": [abs(float(central(np.tanh, np.float32(x0), np.float32(e))) - true) for e in epsilons],
    "central, float64": [abs(central(np.tanh, x0, e) - true) for e in epsilons],
    "forward, float64": [abs(forward_difference(np.tanh, x0, e) - true) for e in epsilons],
}

fig, ax = plt.subplots(figsize=(6.5, 4))
for label, err in errors.items():
    ax.loglog(epsilons, np.maximum(err, 1e-17), ".-", label=label)
ax.axvline(1e-6, color="gray", ls=":", label="gradcheck's eps = 1e-6")
ax.set_xlabel("eps")
ax.set_ylabel("|numeric - true derivative|")
ax.set_title("Finite-difference error of tanh'(0.7)")
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
plt.show()

at_1e6 = int(np.argmin(np.abs(epsilons - 1e-6)))
for label, err in errors.items():
    best = int(np.argmin(err))
    print(f"{label:18s} best: error {err[best]:.1e} at eps {epsilons[best]:.0e};   at eps 1e-6: {err[at_1e6]:.1e}")

# %% [markdown]
# The V shapes are the two error terms meeting. In **float32** the error never gets far
# below $10^{-6}$, and only at a large step ($\varepsilon \approx 10^{-2}$) that would blur any
# function with more curvature; at $\varepsilon = 10^{-6}$ it is off by about 1%. That
# is too coarse to tell a correct gradient from one with a small bug. In **float64**, at
# $\varepsilon = 10^{-6}$, the central difference is good to about $10^{-10}$. That is why
# `gradcheck` works on **float64 copies** of your inputs (minislim's default dtype is
# float32), and why it uses central differences.

# %% [markdown]
# ## 2. Checking a whole gradient
#
# For a scalar function of an array, perturb one element at a time. Here by hand, for
# $L = \sum \tanh(x W)$ with respect to `W`:

# %%
x_np = rng.standard_normal((4, 3))
W_np = rng.standard_normal((3, 2))


def loss_of(W_values):
    return float(np.sum(np.tanh(x_np @ W_values)))


numeric = np.zeros_like(W_np)
eps = 1e-6
for index in np.ndindex(W_np.shape):
    plus, minus = W_np.copy(), W_np.copy()
    plus[index] += eps
    minus[index] -= eps
    numeric[index] = (loss_of(plus) - loss_of(minus)) / (2 * eps)

W = slim.tensor(W_np, requires_grad=True)
slim.nn.tanh(slim.tensor(x_np) @ W).sum().backward()
print("analytic:\n", W.grad)
print("numeric:\n", numeric)
print("largest relative difference:", np.max(np.abs(W.grad - numeric) / np.abs(numeric)))

# %% [markdown]
# `slim.testing.gradcheck(fn, inputs)` does this for every floating-point input of `fn`
# and returns (or, by default, raises with) a report: for each input, the element where
# the two gradients differ most, both values there and the relative error.

# %%
report = slim.testing.gradcheck(lambda x, W: slim.nn.tanh(x @ W), [x_np, W_np], names=["x", "W"])
print(report)

# %% [markdown]
# ## 3. Why a random projection, not a plain sum
#
# `fn` may return a whole array `y`. The backward pass needs an upstream gradient of `y`'s
# shape. The obvious choice, `y.sum().backward()` (an upstream gradient of all ones), is
# blind to two classic bugs:
#
# * a backward that **ignores `grad_output`** is exactly right when `grad_output` is all ones;
# * softmax outputs always **sum to 1**, so the true gradient of `sum(softmax(x))` is zero,
#   and a backward that returns **zeros** looks perfect.
#
# Here is such a broken softmax, and a naive checker that seeds with a sum:

# %%
class SoftmaxZeros(slim.Function):
    """softmax whose backward is (deliberately) wrong: it returns zeros."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, grad_output):
        return (np.zeros_like(grad_output),)


def naive_check(fn, x, eps=1e-6):
    """Compare backward of sum(fn(x)) with central differences of sum(fn(x))."""
    t = slim.tensor(x, requires_grad=True)
    fn(t).sum().backward()
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (fn(slim.tensor(plus)).data.sum() - fn(slim.tensor(minus)).data.sum()) / (2 * eps)
    return np.allclose(t.grad, numeric, atol=1e-7)


logits = rng.standard_normal((2, 5))
print("naive sum check says the broken softmax is fine:", naive_check(lambda t: SoftmaxZeros()(t), logits))

# %% [markdown]
# `gradcheck` instead reduces the output with a random projection, $L = \sum y \odot P$,
# with $P$ drawn from its own seeded generator (it never touches NumPy's global random
# state). The upstream gradient is then $P$: not all ones, not constant along any axis, so
# neither bug can hide.

# %%
report = slim.testing.gradcheck(lambda t: SoftmaxZeros()(t), [logits], raise_exception=False)
print(report)

# %% [markdown]
# ## 4. Full and fast modes, tolerances, kinks
#
# `mode="full"` perturbs every element (2 forward passes per element: exact entry by entry,
# fine for small inputs). `mode="fast"` perturbs each input once along a random direction
# $v$ and compares the directional derivative with $\sum \nabla \odot v$ (2 forward passes per
# input): cheap for big inputs, and still catches a wrong gradient with probability 1.

# %%
a_big, b_big = rng.standard_normal((40, 30)), rng.standard_normal((30, 20))
for mode in ["full", "fast"]:
    start = time.perf_counter()
    ok = slim.testing.gradcheck(lambda a, b: a @ b, [a_big, b_big], mode=mode).ok
    print(f"mode={mode!r:7} ok={ok}  {time.perf_counter() - start:.3f} s")

# %% [markdown]
# An element passes when `|analytic - numeric| <= atol + rtol * |numeric|` (defaults
# `atol=1e-8`, `rtol=1e-5`). Where a function has a **kink** or a **tie** there is no
# derivative, and finite differences straddle both sides: at exactly 0, `relu` has a
# numeric slope of 1/2 (below: half of the random upstream gradient at that element) while
# any backward must pick 0 or 1. So tests keep inputs away from
# kinks and ties (the op table in `minislim/ops/registry.py` records each op's domain).

# %%
report = slim.testing.gradcheck(slim.nn.relu, [np.array([-1.0, 0.0, 2.0])], raise_exception=False)
print(report.checks[0].describe("x"))

# %% [markdown]
# ## 5. Diagnose a buggy op from the report
#
# Here is a `tanh` with a bug in its backward. Before reading the code closely, run the
# check and read the report: which element is worst, and how do the analytic and numeric
# values there compare?

# %%
class BuggyTanh(slim.Function):
    def forward(self, x):
        y = np.tanh(x)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad_output):
        x, y = self.saved_arrays
        return (grad_output * (1 - x ** 2),)


x_check = np.array([[0.1, -0.5, 1.2], [2.0, -1.5, 0.3]])
report = slim.testing.gradcheck(lambda t: BuggyTanh()(t), [x_check], raise_exception=False)
print(report)

# %% [markdown]
# The report says *where* the gradients differ most and *by how much*. A useful habit:
# evaluate the suspects at that element. The true derivative of `tanh` at `x` is
# $1 - \tanh^2(x)$; what does the buggy backward compute there (the upstream gradient is
# random, so compare the ratios analytic/numeric with your candidates)? The exercise
# checker adds a plain-words diagnosis on top of the same numbers:

# %%
result = exercises.check(BuggyTanh, reference=np.tanh, inputs=[x_check])

# %% [markdown]
# **Your turn:** find the bug and fix the backward of the `Tanh` below (its forward is
# BuggyTanh's), then run the cell until the checker says PASSED. The exercise `"tanh"`
# knows the classic wrong answers and names them. (A solution is in
# `notebooks/solutions/`, but try first.)

# %%
# include: minislim/exercises/skeletons/tanh.py


result = exercises.check(Tanh, "tanh")

# %% [markdown]
# ## 6. Exercises with a checker
#
# `minislim.exercises` holds ops and layers whose backward is left to you. Each comes with
# a skeleton (the forward is written), and `exercises.check(YourClass, "name")` tells you in
# plain words what is wrong. To see the kind of messages it gives, here are three classic
# mistakes in an op that is *not* an exercise, $y = x^3$:

# %%
class Cube(slim.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x ** 3


class CubeForgetsUpstream(Cube):
    def backward(self, grad_output):
        (x,) = self.saved_arrays
        return (3 * x ** 2,)


class CubeWrongPower(Cube):
    def backward(self, grad_output):
        (x,) = self.saved_arrays
        return (grad_output * 3 * x ** 3,)


class CubeStrayFactor(Cube):
    def backward(self, grad_output):
        (x,) = self.saved_arrays
        return (grad_output * 6 * x ** 2,)


for buggy in [CubeForgetsUpstream, CubeWrongPower, CubeStrayFactor]:
    _ = exercises.check(buggy, reference=lambda x: x ** 3, inputs=[x_check])
    print()

# %% [markdown]
# The exercises, easiest first:

# %%
for name in exercises.names():
    print(f"{name:14s} {exercises.get(name).title}")

# %%
print(exercises.get("sigmoid"))

# %% [markdown]
# Complete the backward below (replace `raise NotImplementedError`), then run the cell.
# The checker never raises; it prints a verdict and returns a result whose `.passed` and
# `.codes` you can inspect. The next exercises follow, each with its task.

# %%
# include: minislim/exercises/skeletons/sigmoid.py


result = exercises.check(Sigmoid, "sigmoid")

# %% [markdown]
# **Softmax.** Every output of a row depends on every input of the row, so the backward is a
# product with the whole Jacobian $\partial s_i / \partial x_j = s_i(\delta_{ij} - s_j)$. Keeping only
# its diagonal is the classic mistake (the checker names it).

# %%
# include: minislim/exercises/skeletons/softmax.py


result = exercises.check(Softmax, "softmax")

# %% [markdown]
# **Matrix product.** Two inputs, two gradients; each has its input's shape, which tells you
# which operand to transpose.

# %%
# include: minislim/exercises/skeletons/matmul.py


result = exercises.check(MatMul, "matmul")

# %% [markdown]
# **Mean squared error.** A scalar output: `grad_output` is a 0-d array.

# %%
# include: minislim/exercises/skeletons/mse.py


result = exercises.check(MeanSquaredError, "mse")

# %% [markdown]
# **A dense layer.** `b` was added to every row of the batch: its gradient must have `b`'s
# shape, so it sums over the batch (returning `grad_output` itself is the classic bug, and
# the checker names the missing sum and its axis).

# %%
# include: minislim/exercises/skeletons/dense.py


result = exercises.check(Dense, "dense")

# %% [markdown]
# **2x2 max pooling.** The gradient of a window goes to its maximum only.

# %%
# include: minislim/exercises/skeletons/max_pool_2x2.py


result = exercises.check(MaxPool2x2, "max_pool_2x2")

# %% [markdown]
# ## Takeaways
#
# * Check gradients in **float64** with **central** differences; `eps = 1e-6` sits near the
#   bottom of the error curve.
# * Reduce outputs with a **random projection**: a plain sum hides a backward that ignores
#   `grad_output` and any error that sums to zero (softmax).
# * Keep inputs away from kinks and ties, and read the report: the worst element and the
#   ratio of analytic to numeric often name the bug.
#
# Next: **03 · im2col convolution**, where the backward pass is a convolution too.
