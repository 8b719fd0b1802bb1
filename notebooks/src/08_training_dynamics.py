# %% [markdown]
# # 08 · Training dynamics: optimizers, learning rates, initialisation
#
# Notebook 05 trained with one recipe. Why that one? This notebook measures what each
# choice does, on problems small enough to run in seconds:
#
# 1. **SGD, momentum and Adam**, first on a two-parameter valley you can see, then on
#    CIFAR-10;
# 2. a **learning-rate range test**: how to pick a learning rate in one short run;
# 3. **initialisation**: the scale of the weights decides whether the activations of a
#    deep network survive, layer after layer;
# 4. **gradients per layer**, with and without batch norm;
# 5. **dead ReLUs**: what a too-large learning rate leaves behind.
#
# It runs in well under a minute on two cores.

# %%
import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim.datasets import cifar10

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Three optimizers in a valley
#
# The loss $L(w) = \frac12 (w_0^2 + 50\, w_1^2)$ is a long narrow valley: steep across
# ($w_1$), shallow along ($w_0$). Each optimizer of `slim.optimizers` starts at the same
# point and takes 60 steps; we record where it goes.

# %%
def valley_loss(w):
    return 0.5 * (w[..., 0] ** 2 + 50 * w[..., 1] ** 2)

def trajectory(optimizer, steps=60, start=(-9.0, 1.2)):
    w = slim.tensor(np.array(start))
    w.name = "w"
    path = [w.data.copy()]
    for _ in range(steps):
        grad = np.array([1.0, 50.0]) * w.data                 # dL/dw
        optimizer.apply_gradients([(grad, w)])
        path.append(w.data.copy())
    return np.array(path)

optimizers = {"SGD, lr 0.036": slim.optimizers.SGD(0.036),
              "momentum 0.9, lr 0.02": slim.optimizers.Momentum(0.02, momentum=0.9),
              "Adam, lr 0.5": slim.optimizers.Adam(0.5)}
paths = {name: trajectory(opt) for name, opt in optimizers.items()}

grid0, grid1 = np.meshgrid(np.linspace(-10, 3, 200), np.linspace(-2, 2, 120))
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
axes[0].contour(grid0, grid1, valley_loss(np.stack([grid0, grid1], axis=-1)), levels=np.geomspace(0.05, 80, 14),
                colors="lightgray", linewidths=0.8)
for (name, path), color in zip(paths.items(), ("tab:blue", "tab:orange", "tab:green")):
    axes[0].plot(path[:, 0], path[:, 1], ".-", color=color, ms=4, lw=1, label=name)
    axes[1].semilogy(valley_loss(path), color=color, label=name)
axes[0].plot(0, 0, "k*", ms=10)
axes[0].set(xlabel="w0 (shallow)", ylabel="w1 (steep)", title="60 steps from the same start")
axes[0].legend(fontsize=8, loc="lower right")
axes[1].set(xlabel="step", ylabel="loss (log)", title="loss")
plt.tight_layout()
plt.show()

# %% [markdown]
# SGD's rate is capped by the steep direction (above 2/50 = 0.04 it diverges across the
# valley), so it crawls along the shallow one. Momentum accumulates the consistent
# component of the gradient (along the valley) while the alternating one (across) cancels
# out. Adam divides each coordinate's step by the running size of its gradient, so both
# directions move at a similar pace from the first step.
#
# ## 2. The same on CIFAR-10
#
# A small fully connected network (two hidden layers of 128 ReLUs) on CIFAR-10 images
# reduced to 16x16, 200 steps of 64 images, with each optimizer at a reasonable rate.

# %%
images, labels = cifar10.load(split="train")
small = images.astype(np.float32).reshape(-1, 16, 2, 16, 2, 3).mean(axis=(2, 4))
small = ((small - small.mean(axis=(0, 1, 2))) / small.std(axis=(0, 1, 2))).reshape(len(small), -1)

def mlp(x, depth=2, width=128, **layer_args):
    """Logits and the list of hidden activations."""
    hidden, h = [], slim.tensor(x)
    with slim.arg_scope([slim.fully_connected], **layer_args):
        for k in range(depth):
            h = slim.fully_connected(h, width, scope=f"hidden{k + 1}")
            hidden.append(h)
    return slim.fully_connected(h, 10, activation_fn=None, scope="logits"), hidden

def train(optimizer_fn, steps=200, batch=64, seed=1, **model_args):
    """Train a fresh MLP; return the losses, the network (a template) and its variables."""
    losses = []
    graph = slim.Graph()
    with graph.as_default():
        slim.set_random_seed(seed)
        batch_rng = np.random.default_rng(seed)
        net = slim.make_template("mlp", mlp, **model_args)
        net(small[:2])
        params = slim.get_trainable_variables()
        optimizer = optimizer_fn(steps)
        for _ in range(steps):
            index = batch_rng.integers(0, len(small), batch)
            logits, _ = net(small[index])
            loss = slim.losses.sparse_softmax_cross_entropy(logits, labels[index], loss_collection=None)
            optimizer.apply_gradients(optimizer.compute_gradients(loss, params))
            losses.append(loss.item())
    return np.array(losses), net, graph

def smooth(values, window=10):
    return np.convolve(values, np.ones(window) / window, mode="valid")

choices = {"SGD, lr 0.05": lambda steps: slim.optimizers.SGD(0.05),
           "momentum 0.9, lr 0.02": lambda steps: slim.optimizers.Momentum(0.02, momentum=0.9),
           "Adam, lr 0.001": lambda steps: slim.optimizers.Adam(0.001)}
curves = {name: train(make)[0] for name, make in choices.items()}

plt.figure(figsize=(6.5, 3.5))
for name, losses in curves.items():
    plt.plot(smooth(losses), label=name)
plt.axhline(np.log(10), color="gray", ls=":", label="chance: ln 10")
plt.xlabel("step")
plt.ylabel("training loss (mean of 10 steps)")
plt.legend(fontsize=8)
plt.show()
for name, losses in curves.items():
    print(f"{name:24s} loss over the last 30 steps: {losses[-30:].mean():.3f}")

# %% [markdown]
# ## 3. A learning-rate range test
#
# Which rate? One short run answers it: start tiny and multiply the rate by a constant
# factor at every step (here from 1e-4 to 10 in 150 steps), recording the loss. The loss
# first barely moves, then falls faster and faster, then explodes. A good rate sits
# somewhat below the steepest descent, about a tenth of the rate at which the loss is
# lowest. (The schedule is just a callable of the step: `slim.optimizers` accepts any.)

# %% [markdown]
# ### Exercise: the rates of a range test
#
# Write the schedule of a range test: `steps` rates from `lr_min` to `lr_max`, each the
# previous times a constant factor, so every decade gets the same number of steps. (Rates
# evenly spaced, `np.linspace`, are the classic mistake: the checker names it.) A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/range_test_rates.py


range_test_rates_result = exercises.check(range_test_rates, "range_test_rates")

# %%
range_steps = 150
def growing_rate(step):
    return 1e-4 * (10 / 1e-4) ** (step / (range_steps - 1))

range_losses, _, _ = train(lambda steps: slim.optimizers.Momentum(growing_rate, momentum=0.9), steps=range_steps)
rates = np.array([growing_rate(step) for step in range(range_steps)])
finite = np.isfinite(range_losses) & (range_losses < 4 * range_losses[0])
smoothed = smooth(np.where(finite, range_losses, np.nan), 5)
best = rates[2:-2][np.nanargmin(smoothed)]
plt.figure(figsize=(6.5, 3.3))
plt.semilogx(rates[finite], range_losses[finite], color="tab:blue", alpha=0.35, label="each step")
plt.semilogx(rates[2:-2], smoothed, color="tab:blue", label="mean of 5 steps")
plt.axvline(best, color="tab:red", ls="--", label=f"lowest loss: lr {best:.2g}")
plt.axvline(best / 10, color="tab:green", ls="--", label=f"a tenth of it: lr {best / 10:.2g}")
print(f"lowest loss at lr {best:.2g}")
plt.xlabel("learning rate (grows every step)")
plt.ylabel("training loss")
plt.title("learning-rate range test (momentum 0.9)")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# Rates far below the minimum waste steps; beyond it training turns unstable, and then
# diverges. The usual rule takes a rate between a tenth of the one at the lowest loss and
# about half of it. The momentum rate used above, 0.02, is close to the rate at the
# lowest loss: an aggressive choice, which a short run can afford.
#
# ## 4. Initialisation: do the activations survive?
#
# Push random inputs through eight layers of 256 units and look at each layer's
# activations, for `tanh` and for `relu`, with weights drawn with three standard
# deviations: too small (0.01), Glorot's `sqrt(1 / fan_in)`-like scale that keeps a
# linear layer's variance (slim's default, `xavier_initializer`, is of this order), and
# He's `sqrt(2 / fan_in)` made for ReLUs.

# %%
def activations(nonlinearity, std, depth=8, width=256):
    init_rng = np.random.default_rng(3)
    x = init_rng.standard_normal((500, width))
    layers = []
    for _ in range(depth):
        x = nonlinearity(x @ (init_rng.standard_normal((width, width)) * std))
        layers.append(x)
    return layers

scales = {"std 0.01": 0.01, "sqrt(1 / fan_in)": np.sqrt(1 / 256), "sqrt(2 / fan_in)": np.sqrt(2 / 256)}
fig, axes = plt.subplots(2, 3, figsize=(13, 5.5))
for row, (name, fn) in enumerate([("tanh", np.tanh), ("relu", lambda v: np.maximum(v, 0))]):
    for col, (label, std) in enumerate(scales.items()):
        layers = activations(fn, std)
        ax = axes[row, col]
        ax.boxplot([layer.ravel() for layer in layers], showfliers=False)
        ax.set_title(f"{name}, weights {label}", fontsize=10)
        ax.set_xlabel("layer")
        ax.text(0.98, 0.95, f"std at layer 8: {layers[-1].std():.2g}", transform=ax.transAxes, ha="right",
                va="top", fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Too small, and the signal shrinks by the same factor at every layer: by layer 8 it is
# gone, and so are the gradients (they shrink on the way back too). With
# `sqrt(1 / fan_in)`, tanh keeps a healthy spread, but ReLU halves the variance at each
# layer (it zeroes half of the inputs); `sqrt(2 / fan_in)` (He) compensates that factor.
#
# ## 5. Gradients per layer, with and without batch norm
#
# The same question backwards: after one backward pass through a deep MLP (eight hidden
# layers of 128 ReLUs) whose weights are too small (std 0.05), how large is the gradient
# of each layer's weights? Batch norm (notebook 07) rescales each layer's output, and with
# it the gradient flowing back.

# %%
def gradient_sizes(use_bn):
    with slim.Graph().as_default():
        slim.set_random_seed(0)
        args = {"weights_initializer": slim.truncated_normal_initializer(stddev=0.05)}
        if use_bn:
            args.update(normalizer_fn=slim.batch_norm)
        logits, _ = mlp(small[:256], depth=8, **args)
        slim.losses.sparse_softmax_cross_entropy(logits, labels[:256], loss_collection=None).backward()
        weights = [v for v in slim.get_trainable_variables() if v.name.endswith("weights")]
        return [np.abs(v.grad[v.grad != 0]) for v in weights]   # dead units give exact zeros

fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), sharey=True)
for ax, bn in zip(axes, (False, True)):
    sizes = gradient_sizes(bn)
    ax.boxplot([np.log10(s + 1e-30) for s in sizes], showfliers=False,
               tick_labels=[f"h{k + 1}" for k in range(8)] + ["logits"])
    ax.set(title=f"{'with' if bn else 'without'} batch norm", xlabel="layer")
axes[0].set_ylabel("log10 |dL/dw|")
plt.tight_layout()
plt.show()

# %% [markdown]
# Without batch norm the gradient of the first layers is orders of magnitude smaller than
# that of the last: SGD would barely move them (*vanishing gradients*). With batch norm
# every layer gets gradients of a similar size.
#
# ## 6. Dead ReLUs
#
# A ReLU unit whose input is negative for every example outputs 0 and gets no gradient:
# nothing can bring it back. A too-large step can push many units there at once. We train
# the two-layer MLP with plain SGD at a sensible rate and at a rate ten times too large,
# then count the hidden units that are zero for all of 1,000 images.

# %%
def dead_fraction(net, graph):
    with graph.as_default():
        _, hidden = net(small[:1000])
    return [float(np.mean(np.all(h.data <= 0, axis=0))) for h in hidden]

dead = {}
for lr in (0.05, 0.5):
    losses, net, graph = train(lambda steps, lr=lr: slim.optimizers.SGD(lr))
    dead[lr] = (dead_fraction(net, graph), losses[-30:].mean())

plt.figure(figsize=(5.5, 3.2))
for offset, (lr, (fractions, loss)) in zip((-0.2, 0.2), dead.items()):
    plt.bar(np.arange(2) + offset, fractions, width=0.4, label=f"lr {lr} (final loss {loss:.2f})")
plt.xticks([0, 1], ["hidden layer 1", "hidden layer 2"])
plt.ylabel("fraction of dead units")
plt.title("dead ReLUs after 200 SGD steps")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Takeaways
#
# * Momentum and Adam fix SGD's problem with valleys (different curvatures in different
#   directions), momentum by averaging, Adam by per-parameter scaling.
# * A learning-rate range test picks a rate in one short run.
# * The scale of the initial weights decides whether signals and gradients survive a deep
#   network; He's `sqrt(2 / fan_in)` for ReLUs, or batch norm, which makes the scale matter
#   much less.
# * Too large a rate can kill ReLU units for good.
#
# Next: **09 · Overfitting and regularisation**.
