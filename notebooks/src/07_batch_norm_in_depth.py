# %% [markdown]
# # 07 · Batch normalisation in depth
#
# `vgg_cifar` puts a batch norm after every convolution, and notebook 04 had you write its
# forward and backward. This notebook looks at it closely:
#
# 1. **why**: what happens to activations, layer after layer, in a deep network;
# 2. the **forward** by hand, against `slim.batch_norm`;
# 3. the **backward**, derived on the graph (three paths to each input) and in the
#    simplified form, and why the "obvious" gradient is wrong;
# 4. **training vs test mode**: batch statistics vs moving averages;
# 5. what it does to **training**: the same deep network with and without it.
#
# It runs in well under a minute on two cores.

# %%
import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim.datasets import cifar10

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Why: activations drift, layer after layer
#
# Push a batch of random inputs through ten fully connected ReLU layers whose weights have
# a slightly wrong scale (a standard deviation of 1.2 / sqrt(fan-in) instead of the ReLU's
# sqrt(2 / fan-in), a 15% error), and look at the spread of each layer's activations.
# Without normalisation the error compounds: the scale changes by the same factor at
# every layer. Standardising each feature over the batch after every layer (batch norm
# with gamma = 1, beta = 0) resets it each time.

# %%
def deep_activations(x, weights, normalise):
    spreads, layers = [], []
    for w in weights:
        x = x @ w
        if normalise:
            x = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
        x = np.maximum(x, 0)
        spreads.append(x.std())
        layers.append(x)
    return spreads, layers

width = 256
weights = [rng.standard_normal((width, width)) * 1.2 / np.sqrt(width) for _ in range(10)]
inputs = rng.standard_normal((512, width))
plain, plain_layers = deep_activations(inputs, weights, normalise=False)
normed, normed_layers = deep_activations(inputs, weights, normalise=True)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
axes[0].semilogy(range(1, 11), plain, "o-", label="no normalisation")
axes[0].semilogy(range(1, 11), normed, "o-", label="batch-normalised")
axes[0].set(xlabel="layer", ylabel="std of the activations (log)", title="the scale, layer by layer")
axes[0].legend()
for ax, layers, title in [(axes[1], plain_layers, "no normalisation"), (axes[2], normed_layers, "batch-normalised")]:
    for k in (0, 4, 9):
        ax.hist(layers[k].ravel(), bins=60, histtype="step", density=True, label=f"layer {k + 1}",
                range=(0, np.percentile(layers[k], 99)))
    ax.set(title=f"activations: {title}", xlabel="value", yscale="log")
    ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# With a careful initialisation (notebook 08) the plain network would be fine at the
# start; but training changes the weights, and every layer then sees inputs whose scale
# and offset keep moving. Batch norm makes each layer's input distribution (per feature:
# mean 0, variance 1, then a learned scale gamma and offset beta) independent of the
# layers below, which allows larger learning rates and makes deep networks much less
# sensitive to their initialisation.
#
# ## 2. The forward, by hand and by `slim.batch_norm`
#
# For a batch `x` `[N, D]` (for images `[N, H, W, C]`, the statistics run over N, H and
# W: one mean and variance per channel):
#
# $$\mu = \frac{1}{N}\sum_n x_n, \quad \sigma^2 = \frac{1}{N}\sum_n (x_n - \mu)^2, \quad
# \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y = \gamma \hat x + \beta.$$
#
# `slim.batch_norm` has TF-Slim's defaults: `center=True` (a beta), `scale=False` (no
# gamma: a following ReLU or linear layer can absorb it), `epsilon=0.001`.

# %%
x = rng.standard_normal((8, 5)) * 3 + 2
with slim.Graph(dtype="float64").as_default():     # float64 variables, to compare to many digits
    y_slim = slim.batch_norm(slim.tensor(x), scale=True, is_training=True)
    names = [v.name for v in slim.get_variables()]
mu, var = x.mean(axis=0), x.var(axis=0)
y_hand = (x - mu) / np.sqrt(var + 0.001)      # gamma = 1 and beta = 0 at the start
print("variables:", names)
print("largest difference, by hand vs slim:", np.abs(y_hand - y_slim.data).max())
print("per feature after: mean", y_hand.mean(axis=0).round(6), " std", y_hand.std(axis=0).round(4))

# %% [markdown]
# ## 3. The backward
#
# ### On the graph
#
# Write the forward with primitive ops and let autograd differentiate it. Each `x_n`
# reaches the loss by **three paths**: directly through `x - mu`, through the mean `mu`
# and through the variance. The engine adds up what comes back along each. To see the
# three contributions separately, we cut paths with `detach()` (a detached tensor is a
# constant to the engine):

# %%
gamma = rng.standard_normal(5) + 1
g = rng.standard_normal((8, 5))                  # an upstream gradient dL/dy
eps = 1e-9                                       # tiny here, so that the identities below are exact

def bn_graph(x_np, cut_mean=False, cut_var=False):
    xt = slim.tensor(x_np, requires_grad=True)
    mean = slim.nn.mean(xt, axis=0)
    variance = slim.nn.var(xt, axis=0)
    if cut_mean:
        mean = mean.detach()
    if cut_var:
        variance = variance.detach()
    y = (xt - mean) / slim.nn.sqrt(variance + eps) * slim.tensor(gamma)
    (y * slim.tensor(g)).sum().backward()        # a loss whose dL/dy is g
    return xt.grad

direct = bn_graph(x, cut_mean=True, cut_var=True)
with_mean = bn_graph(x, cut_var=True)
full = bn_graph(x)
print("direct path only      :", direct[0])
print("+ the path through mu :", with_mean[0])
print("+ through the variance:", full[0], "(the true gradient)")

# %% [markdown]
# The direct path alone is `g * gamma / sqrt(var + eps)`: the gradient one would write
# treating the statistics as constants, the mistake the checker of notebook 04 calls
# "diagonal only". The mean's path subtracts the batch mean of `dx_hat = g * gamma`
# (a constant shift of every `x_n` moves `mu` by the same amount and changes nothing);
# the variance's path removes the component along `x_hat` (scaling the centred batch
# changes nothing either).
#
# ### The simplified form
#
# Adding the three paths by hand gives one line, with means over the batch:
#
# $$\frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2 + \epsilon}}\Big(d\hat x -
# \overline{d\hat x} - \hat x\, \overline{d\hat x\, \hat x}\Big), \qquad d\hat x = g \gamma.$$

# %% [markdown]
# ### Exercise: the simplified backward
#
# Write the formula above as a function of `g`, `x_hat`, `gamma` and `sigma` (the forward
# saved the last three). The checker compares it with the gradient on several batches and
# names a missing path (the mean's, the variance's) or a forgotten `gamma`. Then the next
# cell compares the formula with the graph's gradient. A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/batch_norm_backward.py


batch_norm_backward_result = exercises.check(batch_norm_backward, "batch_norm_backward")

# %%
sigma = np.sqrt(x.var(axis=0) + eps)
x_hat = (x - x.mean(axis=0)) / sigma
dx_hat = g * gamma
simplified = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / sigma
print("largest difference, simplified vs graph:", np.abs(simplified - full).max())
print("the gradient sums to zero over the batch (per feature):", full.sum(axis=0).round(12))
print("and is orthogonal to x_hat:", (full * x_hat).sum(axis=0).round(12))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
axes[0].scatter(full.ravel(), direct.ravel(), s=12, label="direct path only")
axes[0].scatter(full.ravel(), with_mean.ravel(), s=12, label="+ mean path")
axes[0].scatter(full.ravel(), simplified.ravel(), s=12, marker="x", color="k", label="simplified form")
lim = np.abs(np.concatenate([full.ravel(), direct.ravel()])).max()
axes[0].plot([-lim, lim], [-lim, lim], color="gray", lw=0.8)
axes[0].set(xlabel="true dL/dx (the graph)", ylabel="candidate", title="three paths, added up")
axes[0].legend(fontsize=8)
axes[1].bar(np.arange(5) - 0.2, direct.sum(axis=0), width=0.4, label="direct path only")
axes[1].bar(np.arange(5) + 0.2, full.sum(axis=0), width=0.4, label="true gradient")
axes[1].set(xlabel="feature", ylabel="sum over the batch", title="the true gradient sums to zero")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Both identities say the same thing: batch norm's output does not change when the whole
# batch of one feature is shifted or scaled, so the gradient has no component along
# those directions. (With a larger `eps`, scaling changes the output a little, and the
# second identity holds only approximately.)
#
# ## 4. Training mode and test mode
#
# In training, each batch is normalised with its own statistics, so an example's output
# depends on the other examples of its batch. At test time there may be one image at a
# time, so `slim.batch_norm(is_training=False)` uses **moving averages** of the batch
# statistics, updated at every training step: `moving = decay * moving + (1 - decay) *
# batch_value`. They start at 0 (mean) and 1 (variance) and take about
# `1 / (1 - decay)` steps to forget that start, which is why short runs use a lower decay.

# %%
feature_mean = 3.0
with slim.Graph(dtype="float64").as_default():
    curves = {}
    for decay in (0.9, 0.99, 0.999):
        with slim.variable_scope(f"decay_{decay}", reuse=slim.AUTO_REUSE):   # one layer, called 300 times
            history = []
            for step in range(300):
                batch = rng.standard_normal((32, 1)) + feature_mean
                slim.batch_norm(slim.tensor(batch), decay=decay, is_training=True, scope="bn")
                history.append(slim.get_variables(f"decay_{decay}/bn/moving_mean")[0].data[0])
            curves[decay] = history

    same = rng.standard_normal((1, 1)) + feature_mean         # one example, in three different batches
    others = [rng.standard_normal((7, 1)) + feature_mean + shift for shift in (-1, 0, 1)]
    with slim.variable_scope("decay_0.9", reuse=True):
        outputs = [slim.batch_norm(slim.tensor(np.vstack([same, other])), is_training=True,
                                   scope="bn").data[0, 0] for other in others]
        test_outputs = [slim.batch_norm(slim.tensor(np.vstack([same, other])), is_training=False,
                                        scope="bn").data[0, 0] for other in others]
print("one example in three training batches:", np.round(outputs, 3), "(depends on its batch)")
print("the same example in test mode        :", np.round(test_outputs, 3), "(does not)")

plt.figure(figsize=(6, 3.2))
for decay, history in curves.items():
    plt.plot(history, label=f"decay {decay}")
plt.axhline(feature_mean, color="gray", ls=":", label="the true mean")
plt.xlabel("training step")
plt.ylabel("moving mean")
plt.title("moving averages start at 0 and forget it slowly")
plt.legend()
plt.show()

# %% [markdown]
# A classic bug follows: evaluating with `is_training=True` (each test batch normalised
# with its own statistics, results that depend on the batch size and order), or with
# moving averages that have not converged (a model evaluated after 50 steps with
# `decay=0.999` still uses 95% of the initial 0 and 1).
#
# ## 5. What it does to training
#
# A deep fully connected network (ten hidden layers of 64 ReLUs, slim's default Glorot
# initialisation) on CIFAR-10 images reduced to 16x16 (768 numbers each), trained for 150
# steps with momentum, with and without a batch norm after each hidden layer, at three
# learning rates a factor of 10 apart.

# %%
images, labels = cifar10.load(split="train")
small = images.astype(np.float32).reshape(-1, 16, 2, 16, 2, 3).mean(axis=(2, 4))
small = ((small - small.mean(axis=(0, 1, 2))) / small.std(axis=(0, 1, 2))).reshape(len(small), -1)

def train_mlp(use_bn, lr, steps=150, batch=64):
    losses = []
    with slim.Graph().as_default():
        slim.set_random_seed(1)
        batch_rng = np.random.default_rng(1)
        normalizer = slim.batch_norm if use_bn else None

        def model(x):
            with slim.arg_scope([slim.fully_connected], normalizer_fn=normalizer,
                                normalizer_params={"decay": 0.9}):
                h = slim.repeat(slim.tensor(x), 10, slim.fully_connected, 64, scope="hidden")
            return slim.fully_connected(h, 10, activation_fn=None, scope="logits")

        net = slim.make_template("mlp", model)
        net(small[:2])
        params = slim.get_trainable_variables()
        optimizer = slim.optimizers.Momentum(lr, momentum=0.9)
        for _ in range(steps):
            index = batch_rng.integers(0, len(small), batch)
            loss = slim.losses.sparse_softmax_cross_entropy(net(small[index]), labels[index], loss_collection=None)
            optimizer.apply_gradients(optimizer.compute_gradients(loss, params))
            losses.append(loss.item())
    return np.array(losses)

rates = (0.003, 0.03, 0.3)
runs = {(bn, lr): train_mlp(bn, lr) for bn in (False, True) for lr in rates}

def smooth(values, window=10):
    return np.convolve(values, np.ones(window) / window, mode="valid")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for ax, bn in zip(axes, (False, True)):
    for lr, color in zip(rates, ("tab:blue", "tab:green", "tab:red")):
        ax.plot(smooth(runs[bn, lr]), color=color, label=f"lr {lr}")
    ax.axhline(np.log(10), color="gray", ls=":", label="chance: ln 10")
    ax.set(xlabel="step", title=f"{'with' if bn else 'without'} batch norm", ylim=(1.6, 2.7))
    ax.legend(fontsize=8)
axes[0].set_ylabel("training loss (mean of 10 steps)")
plt.tight_layout()
plt.show()
for (bn, lr), losses in runs.items():
    print(f"{'with   ' if bn else 'without'} batch norm, lr {lr:5}: loss over the last 30 steps "
          f"{losses[-30:].mean():.3f}")

# %% [markdown]
# Without batch norm, only one of the three rates trains this deep network: the small one
# barely moves it in 150 steps, the large one throws it back to chance. With batch norm
# all three learn: each layer's input stays standardised whatever the scale of the
# weights below it, so the effective step is much less sensitive to the learning rate.

# %% [markdown]
# ## Takeaways
#
# * Batch norm standardises each feature over the batch, then rescales it with learned
#   gamma and beta; deep networks become much less sensitive to scale and learning rate.
# * Its backward has three paths per input; the simplified form subtracts the batch mean
#   of `dx_hat` and the component along `x_hat`. The "direct path only" gradient is wrong.
# * Training mode uses the batch's statistics, test mode the moving averages: evaluate
#   with `is_training=False`, and give short runs a lower `decay`.
#
# Next: **08 · Training dynamics**: optimizers, learning rates, initialisation.
