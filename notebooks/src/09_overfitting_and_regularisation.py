# %% [markdown]
# # 09 · Overfitting and regularisation, measured
#
# Give a network few examples and enough steps, and it learns them by heart: the training
# accuracy reaches 100% while the test accuracy stalls or falls. This notebook makes it
# happen on purpose and measures what each remedy buys:
#
# 1. a small training set (500 images) and a network large enough to memorise it;
# 2. **train and test curves** of the plain network: the gap opens;
# 3. the same with **data augmentation**, **dropout** and **weight decay**;
# 4. what weight decay does to the weights.
#
# Everything is small (16x16 images, a fully connected network) so the five runs take
# well under a minute on two cores.

# %%
import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import data
from minislim.datasets import cifar10

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. A small training set
#
# 50 images of each class from the embedded CIFAR-10 subset, reduced to 16x16, and the
# whole test subset (1,000 images). Normalised with the training set's statistics.

# %%
def shrink(images):
    return images.astype(np.float32).reshape(-1, 16, 2, 16, 2, 3).mean(axis=(2, 4))

train_images, train_labels = cifar10.load(split="train")
test_images, test_labels = cifar10.load(split="test")
keep = np.concatenate([np.flatnonzero(train_labels == c)[:50] for c in range(10)])
train_x, train_y = shrink(train_images[keep]), train_labels[keep]
test_x, test_y = shrink(test_images), test_labels
mean, std = train_x.mean(axis=(0, 1, 2)), train_x.std(axis=(0, 1, 2))
train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
print("train:", train_x.shape, np.bincount(train_y), "| test:", test_x.shape)

# %% [markdown]
# ## 2. One training function, four recipes
#
# A fully connected network (768 inputs, two hidden layers of 256 ReLUs: 265,000 weights
# for 500 examples), trained with Adam for 30 epochs of 10 batches. Every second epoch we
# measure the accuracy on the whole training set and on the test set. The remedies:
#
# * **augmentation**: each batch is randomly shifted (2-pixel padding, a random 16x16
#   crop) and mirrored, so the network never sees the same image twice;
# * **dropout** (`keep_prob=0.5`) after each hidden layer: a random half of the units is
#   silenced at each step, so no unit can rely on a particular other one;
# * **weight decay**: an L2 penalty `0.5 * scale * sum(w**2)` on every weight matrix,
#   added through `weights_regularizer` and `get_total_loss`, pulls the weights towards 0.

# %% [markdown]
# ### Exercise: flip augmentation
#
# `data.RandomFlip` mirrors each image with probability one half. Write its core: given a
# batch `[N, H, W, C]` and a boolean per image, mirror the chosen images left to right and
# leave the others (and the batch you were given) unchanged. The checker names an
# upside-down flip, flipping every image, and reversed colour channels. A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/flip_some.py


flip_some_result = exercises.check(flip_some, "flip_some")

# %%
EPOCHS, BATCH = 30, 50

def train_run(augment=False, keep_prob=1.0, weight_decay=0.0, seed=0):
    """Train a fresh network; return (epochs, train accuracy, test accuracy, hidden1 weights)."""
    transform = data.Compose([data.RandomCrop(16, padding=2), data.RandomFlip()]) if augment else None
    pipeline = data.batches(train_x, train_y, batch_size=BATCH, seed=seed, augment=transform)
    regularizer = slim.l2_regularizer(weight_decay) if weight_decay else None
    curve = []
    with slim.Graph().as_default():
        slim.set_random_seed(seed)

        def model(x, is_training):
            with slim.arg_scope([slim.fully_connected], weights_regularizer=regularizer):
                h = slim.flatten(slim.tensor(x))
                for k in (1, 2):
                    h = slim.fully_connected(h, 256, scope=f"hidden{k}")
                    h = slim.dropout(h, keep_prob=keep_prob, is_training=is_training, scope=f"dropout{k}")
                return slim.fully_connected(h, 10, activation_fn=None, scope="logits")

        net = slim.make_template("net", model)
        net(train_x[:2], is_training=False)
        params = slim.get_trainable_variables()
        optimizer = slim.optimizers.Adam(0.001)

        def accuracy(x, y):
            with slim.no_grad():
                return float(np.mean(net(x, is_training=False).data.argmax(axis=1) == y))

        for epoch in range(1, EPOCHS + 1):
            for step in range(len(pipeline)):
                x, y = pipeline.get_batch(epoch - 1, step)
                slim.losses.sparse_softmax_cross_entropy(net(x, is_training=True), y)  # joins LOSSES
                total = slim.losses.get_total_loss()          # + the L2 penalties, if any
                optimizer.apply_gradients(optimizer.compute_gradients(total, params))
                slim.get_default_graph().clear_collection(slim.GraphKeys.LOSSES)
            if epoch % 2 == 0:
                curve.append((epoch, accuracy(train_x, train_y), accuracy(test_x, test_y)))
        weights = slim.get_variables("net/hidden1/weights")[0].data.copy()
    return (*map(np.array, zip(*curve)), weights)

recipes = {"no regularisation": {}, "augmentation": {"augment": True}, "dropout 0.5": {"keep_prob": 0.5},
           "weight decay 1e-2": {"weight_decay": 1e-2},
           "all three": {"augment": True, "keep_prob": 0.5, "weight_decay": 1e-2}}
results = {name: train_run(**args) for name, args in recipes.items()}

# %% [markdown]
# ## 3. The curves

# %%
fig, axes = plt.subplots(1, len(results), figsize=(16, 3.4), sharey=True)
for ax, (name, (epochs, train_acc, test_acc, _)) in zip(axes, results.items()):
    ax.plot(epochs, train_acc, color="tab:blue", label="training set")
    ax.plot(epochs, test_acc, color="tab:orange", label="test set")
    ax.fill_between(epochs, test_acc, train_acc, color="tab:red", alpha=0.1, label="the gap")
    ax.set(title=name, xlabel="epoch", ylim=(0, 1.02))
axes[0].set_ylabel("accuracy")
axes[0].legend(fontsize=8, loc="center right")
plt.tight_layout()
plt.show()

print(f"{'recipe':20s} {'train':>7s} {'test':>7s} {'best test':>10s} {'gap':>6s}")
for name, (epochs, train_acc, test_acc, _) in results.items():
    print(f"{name:20s} {train_acc[-1]:7.3f} {test_acc[-1]:7.3f} {test_acc.max():10.3f} "
          f"{train_acc[-1] - test_acc[-1]:6.3f}")

# %% [markdown]
# Without regularisation the training accuracy reaches 100% within about ten epochs
# while the test accuracy stops near a third: the network has memorised the 500 images,
# and from then on training teaches it nothing that transfers. Each remedy slows the
# memorisation down, and the gap narrows; but the number to look at is the *test*
# accuracy. Here augmentation is the one that raises it: the shifted and mirrored images
# are genuinely new examples. Dropout and weight decay mostly slow the training curve
# down in 30 epochs; they pay off in longer runs and larger networks (notebook 05's full
# recipe uses all three). Combined, the gap almost closes, but the network now
# *under*fits: it would need more epochs. How much each remedy gains depends on the data,
# the model and the length of training: measure it.
#
# ## 4. What weight decay does to the weights
#
# The L2 penalty adds `scale * w` to every gradient, so each step shrinks the weights a
# little: only weights that keep being useful stay large.

# %%
plt.figure(figsize=(6, 3.2))
for name in ("no regularisation", "weight decay 1e-2"):
    plt.hist(results[name][3].ravel(), bins=120, histtype="step", density=True, label=name)
plt.xlabel("weight of hidden layer 1")
plt.ylabel("density")
plt.yscale("log")
plt.legend(fontsize=8)
plt.title("weight decay pulls the weights towards 0")
plt.show()
for name in ("no regularisation", "weight decay 1e-2"):
    print(f"{name:20s} norm of hidden1/weights: {np.linalg.norm(results[name][3]):.2f}")

# %% [markdown]
# ## Takeaways
#
# * Overfitting shows as a growing gap between training and test accuracy; the test
#   curve is the one that matters (and it needs data never used for training).
# * Augmentation, dropout and weight decay each trade some training accuracy for test
#   accuracy; they combine.
# * Measure, do not assume: the best remedy depends on the data and the model.
#
# Next: **10 · What the network learned**.
