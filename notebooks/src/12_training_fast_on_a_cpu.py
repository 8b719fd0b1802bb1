# %% [markdown]
# # 12 · Training fast on a CPU: the default recipe, one trick at a time
#
# `minislim train --net vgg_cifar` used to reach 0.59 on CIFAR-10 test images after 20 epochs on
# 10,000 training images, where a PyTorch tutorial's script reached 0.70 with the same network.
# Nothing was wrong with the convolutions or the gradients: the difference was all in the
# **recipe**, the choices around the network. This notebook takes them one at a time, each with
# a small experiment that runs in seconds, then shows what they add up to on the full run
# (measured with `bench/ablations.py` and `bench/train_cifar.py`, minutes per run, not here).
#
# | ingredient | old recipe | default recipe |
# | --- | --- | --- |
# | padding of the random crops | black (pad, then normalise) | the mean (normalise, then pad) |
# | initial weights | Glorot-uniform everywhere | uniform `±1/sqrt(fan_in)`, classifier at zero |
# | weight decay 5e-4 | on conv/fc weights (L2 in the loss) | on every variable (in the optimizer) |
# | labels | one-hot | smoothed (0.1) |
# | learning rate | cosine from 0.05 | linear warm-up (10% of the steps), then cosine |
# | evaluation | one view | averaged with the mirror image |
# | dropout before the logits | 0.5 (TF-Slim's VGG) | none |

# %%
import json
import os
import time

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import data, recipe
from minislim.datasets import cifar10
from minislim.nets import nets_factory
from minislim.ops.normalization import fused_batch_norm

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)
images, labels = cifar10.load(split="train")            # the embedded subset, 5,000 images
test_images, test_labels = cifar10.load(split="test")
mean, std = data.channel_stats(images)
print(images.shape, "mean", mean.round(3), "std", std.round(3))

# %% [markdown]
# ## 1. Padding: black borders are a colour the network never sees
#
# A random crop moves each image by up to 4 pixels; the strip it uncovers must be filled with
# something. Padding the `uint8` image fills it with 0, black, and normalising afterwards turns
# black into `-mean/std`, about -2: a value far outside what real pixels take near the border.
# The network spends capacity on these borders, and the test images never have them.
# Normalising *first* and padding with 0 fills the strip with the data set's mean colour.

# %%
sample = images[:6]
black = recipe.augmentation(32, mean, std, recipe.Recipe(pad_with_mean=False))(sample, np.random.default_rng(3))
grey = recipe.augmentation(32, mean, std, recipe.Recipe())(sample, np.random.default_rng(3))
fig, axes = plt.subplots(2, 6, figsize=(9, 3.3))
for j in range(6):
    for row, (batch, name) in enumerate([(black, "pad, then normalise"), (grey, "normalise, then pad")]):
        shown = np.clip(batch[j] * std + mean, 0, 1)     # back to [0, 1] to look at
        axes[row, j].imshow(shown)
        axes[row, j].axis("off")
    axes[0, j].set_title("black" if j == 0 else "")
axes[0, 0].set_title("pad, then normalise", loc="left", fontsize=9)
axes[1, 0].set_title("normalise, then pad", loc="left", fontsize=9)
plt.tight_layout()
plt.show()

def black_share(batch):
    """The share of pixels that are pure black (all three channels at -mean/std)."""
    return np.mean(np.all(np.isclose(batch, (-mean / std).astype(np.float32), atol=1e-4), axis=-1))


print(f"pure black pixels: pad then normalise {black_share(black):.1%}, normalise then pad {black_share(grey):.1%}, "
      f"the images themselves {black_share(data.normalize(sample, mean, std)):.1%}")

# %% [markdown]
# ## 2. Initial scale behind batch norm sets the effective learning rate
#
# Batch norm divides by the standard deviation of its input, so multiplying a convolution's
# weights by `k` changes nothing the layer computes (but for batch norm's epsilon). Its gradient, though, shrinks by `1/k`: the
# loss is flat along the direction of `w`. A step of `lr * g` then moves `w` by a *relative*
# amount `lr * |g| / |w|`, which scales as `1/k^2`: the effective learning rate is `lr / |w|^2`.
# Checked on one convolution followed by batch norm:

# %%
x = rng.standard_normal((16, 8, 8, 3)).astype(np.float32)
target = rng.standard_normal((16, 8, 8, 4)).astype(np.float32)
for k in (1.0, 3.0):
    with slim.Graph().as_default():
        slim.set_random_seed(0)
        w = slim.variable("w", [3, 3, 3, 4], initializer=slim.variance_scaling_initializer(1.0))
        w.data *= k
        y, _, _ = fused_batch_norm(slim.nn.conv2d(slim.tensor(x), w, padding="SAME"),
                                   slim.tensor(np.ones(4, np.float32)), slim.tensor(np.zeros(4, np.float32)))
        loss = ((y - slim.tensor(target)) ** 2).mean()
        loss.backward()
        print(f"weights x {k}: loss {loss.item():.5f}, |grad| {np.linalg.norm(w.grad):.5f}, "
              f"relative step |grad|/|w| {np.linalg.norm(w.grad) / np.linalg.norm(w.data):.6f}")

# %% [markdown]
# Same loss, a 3x smaller gradient and a 9x smaller relative step. Weight decay pulls `|w|`
# towards an equilibrium, but only after about `1 / (lr * wd)` = 1 / (0.05 * 5e-4) = 40,000
# steps, far more than the 3,140 of a 20-epoch run: **the initial scale decides the effective
# learning rate for the whole run**. Glorot's scale for a 3x3 convolution is about `1/fan_in` in
# variance; He's (for ReLU layers without batch norm) `2/fan_in`; the default here,
# `U(±1/sqrt(fan_in))` (PyTorch's own default), is `1/(3 fan_in)`: 3x smaller than Glorot, so
# about 3x the effective rate. The classifier starts at **zero**: the first prediction is
# uniform, the first loss is exactly `ln(10)`, and the first steps cannot blow it up.

# %%
net = nets_factory.get_network_fn("vgg_cifar", 10, is_training=True)
with slim.Graph().as_default():
    slim.set_random_seed(0)
    logits, _ = net(slim.tensor(data.normalize(images[:64], mean, std)))
    scales = {v.name.split("/")[-2]: float(v.data.std()) for v in slim.get_trainable_variables()
              if v.name.endswith("weights")}
    first = slim.losses.sparse_softmax_cross_entropy(logits, labels[:64], loss_collection=None)
print({name: round(s, 4) for name, s in scales.items()})
print("first loss", round(first.item(), 6), "= ln(10) =", round(float(np.log(10)), 6))

# %% [markdown]
# ## 3. Weight decay on every variable
#
# TF-Slim puts weight decay in the layers' `arg_scope` (`weights_regularizer=l2_regularizer(wd)`):
# it adds `wd/2 |w|^2` to the loss for each conv and fc *weight*. PyTorch's
# `SGD(weight_decay=wd)` adds `wd * w` to the gradient of *every* parameter, batch norm's scale
# and offset included. Measured in PyTorch itself on this net, decaying the weights only cost
# about 3 points; `slim.optimizers.Momentum(..., weight_decay=wd)` now does what PyTorch does,
# and the default recipe uses it (and no regularizer in the net).

# %%
default = recipe.Recipe()
optimizer = recipe.optimizer(default, total_steps=3140)
print(optimizer)
print("net's l2_regularizer:", default.net_weight_decay(), "| optimizer's weight_decay:", optimizer.weight_decay)

# %% [markdown]
# ## 4. Label smoothing and warm-up
#
# With label smoothing `s`, the target puts `1 - s + s/C` on the true class and `s/C` on the
# others: the loss stops rewarding ever larger logits once the true class has about 91% of the
# probability (for `s = 0.1`, `C = 10`), which keeps the net from becoming overconfident on
# 10,000 images. Warm-up raises the rate linearly from 0 over the first 10% of the steps, while
# batch norm's statistics and the weights settle, then the cosine decays it to 0.

# %% [markdown]
# ### Exercise: label-smoothed cross-entropy
#
# Write the loss with TF's convention: the target is `one_hot * (1 - s) + s / C`, the loss
# the mean over the batch of `-sum(target * log_softmax(logits))`, computed stably (one of
# the checker's cases has logits in the hundreds). It is compared with
# `slim.losses.softmax_cross_entropy(..., label_smoothing=s)`. A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/smoothed_cross_entropy.py


smoothed_cross_entropy_result = exercises.check(smoothed_cross_entropy, "smoothed_cross_entropy")

# %%
margins = np.linspace(-2, 10, 200)          # true-class logit minus the others' (all equal)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
for s in (0.0, 0.1):
    loss = [recipe.classification_loss(slim.tensor(np.array([[m] + [0.0] * 9], np.float32)), np.array([0]),
                                       recipe.Recipe(label_smoothing=s)).item() for m in margins]
    left.plot(margins, loss, label=f"label smoothing {s}")
left.set_xlabel("logit margin of the true class")
left.set_ylabel("loss")
left.legend()
schedule = optimizer.learning_rate
steps = np.arange(3140)
right.plot(steps, [schedule(int(s)) for s in steps])
right.set_xlabel("step (20 epochs of 157 steps)")
right.set_ylabel("learning rate")
right.set_title("10% linear warm-up, then cosine to 0")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Averaging over the mirror image at test time
#
# The net was trained to treat an image and its mirror as the same class, so evaluating both
# and averaging their logits gives two slightly different opinions for the price of one more
# forward pass. Here a small net trains for two epochs of the embedded subset (about a minute
# on two cores). A model this far from trained is not yet consistent about mirrored images,
# and the average can go either way; on the full runs (the table below, "test acc" against
# "+ mirror") it adds about half a point to a point.

# %%
small = dict(widths=(16, 32, 64), fc_width=128)
train_net = nets_factory.get_network_fn("vgg_cifar", 10, is_training=True)
eval_net = nets_factory.get_network_fn("vgg_cifar", 10, is_training=False)
pipeline = recipe.train_pipeline(images, labels, mean, std, batch_size=64, seed=0, recipe=default)
steps = 2 * len(pipeline)
with slim.Graph().as_default():
    slim.set_random_seed(0)

    def loss_fn(x, y):
        logits, _ = train_net(slim.tensor(x), **small)
        recipe.classification_loss(logits, y, default)
        return slim.losses.get_total_loss()

    train_op = slim.learning.create_train_op(loss_fn, recipe.optimizer(default, steps))
    for epoch in range(2):
        losses = [train_op(*batch) for batch in pipeline]
    evaluate = slim.learning.model_template(lambda x: eval_net(slim.tensor(x), **small)[0])
    test = data.normalize(test_images, mean, std)
    with slim.no_grad():
        plain = evaluate(test).data
        mirrored = evaluate(np.ascontiguousarray(test[:, :, ::-1])).data
print(f"{steps} steps, last loss {np.mean(losses[-20:]):.3f}")
print(f"test accuracy: one view {np.mean(plain.argmax(1) == test_labels):.3f}, "
      f"averaged with the mirror {np.mean((plain + mirrored).argmax(1) == test_labels):.3f}")

# %% [markdown]
# ## 6. What it adds up to
#
# The full runs: `vgg_cifar`, 20 epochs on the 10,000 training images of
# `../shared/data/cifar-10-batches-bin`, evaluated on its 2,000 test images after every epoch.
# Each row is the default recipe with one ingredient changed back
# (`python bench/ablations.py --variants NAME --seeds S`); the results are stored in
# `bench/results/ablations.jsonl`.

# %%
results_file = os.path.join("..", "bench", "results", "ablations.jsonl")
if not os.path.exists(results_file):   # the notebook may run from another directory
    results_file = os.path.join(os.path.dirname(slim.__file__), "..", "bench", "results", "ablations.jsonl")
runs = [json.loads(line) for line in open(results_file)] if os.path.exists(results_file) else []
table = {}
for run in runs:
    if run["epochs"] == 20:
        table.setdefault(run["variant"], []).append(run)
print(f"{'variant':<26}{'seeds':>6}{'test acc':>10}{'+ mirror':>10}")
for name, group in sorted(table.items(), key=lambda kv: -np.mean([r["acc_flip"][-1] for r in kv[1]])):
    print(f"{name:<26}{len(group):>6}{np.mean([r['acc'][-1] for r in group]):>10.4f}"
          f"{np.mean([r['acc_flip'][-1] for r in group]):>10.4f}")
fig, ax = plt.subplots(figsize=(7, 4))
for name, group in table.items():
    ax.plot(np.arange(1, 21), np.mean([r["acc_flip"] for r in group], axis=0), "-o", markersize=3, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy (flip-averaged)")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 7. Dropout: a regulariser this network does not need
#
# TF-Slim's VGG drops half of the classifier's inputs while training, a guard against
# overfitting for a large network on a large data set. `vgg_cifar` is small, and 20 epochs of
# crops, flips, weight decay and label smoothing leave it **underfitting**: with label smoothing
# 0.1 a perfect fit would have a training loss of about 0.5, and the runs end near 0.85 without
# dropout and 1.0 with it. More noise in training then costs test accuracy instead of saving
# it: the table above has the default (no dropout) above `dropout_0.5`. The training losses of
# the same runs, epoch by epoch:

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for name in ("default", "dropout_0.5"):
    for run in table.get(name, []):
        per_epoch = np.array(run["losses"]).reshape(20, -1).mean(axis=1)
        ax.plot(np.arange(1, 21), per_epoch, color="C0" if name == "default" else "C1", alpha=0.7,
                label=name if run is table[name][0] else None)
ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (mean over the epoch)")
if table:
    ax.legend()
plt.show()

# %% [markdown]
# ## 8. The batch size: an epoch costs about the same, the number of steps does not
#
# A larger batch does more work per step, and on a GPU it is often what makes an epoch fast.
# On a CPU the products of this network are large even at a batch of 32 (the first
# convolution's are `[32 * 32 * 32, 27] @ [27, 32]`), so an epoch costs about the same
# whatever the batch. Timed here: one training step of the small net above at three batch
# sizes, per image: the three figures differ by far less than the 4x between the batches.

# %%
with slim.Graph().as_default():
    def small_loss(x, y):
        logits, _ = train_net(slim.tensor(x), **small)
        return slim.losses.sparse_softmax_cross_entropy(logits, y)

    step_op = slim.learning.create_train_op(small_loss, slim.optimizers.Momentum(0.01, 0.9))
    normalized = data.normalize(images[:128], mean, std)
    batches = (32, 64, 128)
    seconds = {batch: [] for batch in batches}
    for _ in range(5):                    # the sizes take turns, so a busy moment hits them all
        for batch in batches:
            start = time.perf_counter()
            step_op(normalized[:batch], labels[:batch])
            seconds[batch].append(time.perf_counter() - start)
    for batch in batches:                 # round 0 warmed up (variables, buffers): left out
        print(f"batch {batch:>3}: {1e3 * np.median(seconds[batch][1:]) / batch:.2f} ms per image")

# %% [markdown]
# What changes is the number of steps: 20 epochs of 10,000 images are 6,260 steps of 32, 3,140
# of 64 and 1,580 of 128. The full runs scale the peak rate with the batch (0.025, 0.05, 0.1:
# the same rate per example). Batches of 32 end as accurate as 64; batches of 128 end about a
# point lower and reach 0.70 four epochs later, with a less steady start (the larger rate).
# So the default stays at 64. The curves, mean of three seeds each:

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for name in ("batch_32", "default", "batch_128"):
    if name in table:
        ax.plot(np.arange(1, 21), np.mean([r["acc_flip"] for r in table[name]], axis=0), "-o", markersize=3,
                label=f"{name} ({table[name][0]['batch_size']} per batch, {len(table[name])} seeds)")
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy (flip-averaged)")
ax.grid(alpha=0.3)
if table:
    ax.legend()
plt.show()
