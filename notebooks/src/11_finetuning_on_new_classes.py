# %% [markdown]
# # 11 · Fine-tuning on new classes: linear probe vs full fine-tuning
#
# Notebook 06 showed the mechanics of fine-tuning (`get_variables_to_restore(exclude=...)`,
# `assign_from_checkpoint_fn`), but its pretrained model had seen the very images it was
# then fine-tuned on. Here the experiment is done properly:
#
# 1. **disjoint classes**: pretrain on five classes (the *source* task: airplane,
#    automobile, bird, cat, deer), then learn five *other* classes (the *target* task:
#    dog, frog, horse, ship, truck) from only 10 images each;
# 2. three ways to learn the target task: **from scratch**, a **linear probe** (the
#    pretrained network frozen, only a new last layer trained) and **full fine-tuning**
#    (every layer trained, starting from the pretrained weights);
# 3. their test accuracy, step by step, on 500 target test images none of the runs saw.
#
# About a minute on two cores.

# %%
import os
import tempfile

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import data
from minislim.datasets import cifar10

np.set_printoptions(precision=3, suppress=True)
workdir = tempfile.mkdtemp(prefix="notebook11_")

train_images, train_labels = cifar10.load(split="train")
test_images, test_labels = cifar10.load(split="test")
class_names = cifar10.class_names()
mean, std = data.channel_stats(train_images)
train_x, test_x = data.normalize(train_images, mean, std), data.normalize(test_images, mean, std)

# %% [markdown]
# ## The two tasks
#
# No class is shared, but the two tasks are related as real ones are (dogs and horses look
# more like cats and deer than like trucks; ships and trucks share shapes with airplanes
# and cars), and the target task has a tiny training set: the situation fine-tuning is
# for (in practice the source would be a much larger data set, such as ImageNet).

# %%
source = [class_names.index(n) for n in ["airplane", "automobile", "bird", "cat", "deer"]]
target = [class_names.index(n) for n in ["dog", "frog", "horse", "ship", "truck"]]
assert not set(source) & set(target)

def task(images, labels, classes, per_class=None):
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in classes])
    return images[keep], np.searchsorted(sorted(classes), labels[keep])   # ids 0..4

source_x, source_y = task(train_x, train_labels, source)
target_x, target_y = task(train_x, train_labels, target, per_class=10)
target_test_x, target_test_y = task(test_x, test_labels, target)
print(f"source: {len(source_x)} images | target: {len(target_x)} training, {len(target_test_x)} test")

# %% [markdown]
# ## The model
#
# Notebook 10's small network with one more pooling layer (to train faster): three
# convolutions with batch norm, a global average pool giving 64 features
# (`end_points["features"]`), and a `logits` layer.

# %%
def small_cnn(images, num_classes=5, is_training=True):
    """Logits [N, num_classes] and end_points for images [N, 32, 32, 3]."""
    end_points = {}
    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                        normalizer_params={"is_training": is_training, "decay": 0.9}):
        net = end_points["conv1"] = slim.conv2d(images, 16, [5, 5], stride=2, scope="conv1")
        net = end_points["pool1"] = slim.max_pool2d(net, [2, 2], scope="pool1")
        net = end_points["conv2"] = slim.conv2d(net, 32, [3, 3], scope="conv2")
        net = end_points["pool2"] = slim.max_pool2d(net, [2, 2], scope="pool2")
        net = end_points["conv3"] = slim.conv2d(net, 64, [3, 3], scope="conv3")
        net = end_points["features"] = slim.nn.mean(net, axis=(1, 2))
    logits = end_points["logits"] = slim.fully_connected(net, num_classes, activation_fn=None, scope="logits")
    return logits, end_points

augment = data.Compose([data.RandomCrop(32, padding=4), data.RandomFlip()])

def accuracy(net, x, y):
    with slim.no_grad():
        logits, _ = net(x, is_training=False)
    return float(np.mean(logits.data.argmax(axis=1) == y))

# %% [markdown]
# ## 1. Pretraining on the source task
#
# 200 steps of 64 augmented images (5 epochs of the 2,500 source images), then a
# checkpoint, as a pretrained model would be shipped.

# %%
pretrained = os.path.join(workdir, "source_model")
with slim.Graph().as_default():
    slim.set_random_seed(0)
    net = slim.make_template("cnn", small_cnn)
    net(source_x[:2])
    params = slim.get_trainable_variables()
    pipeline = data.batches(source_x, source_y, batch_size=64, seed=0, augment=augment)
    steps = 200
    optimizer = slim.optimizers.Momentum(slim.optimizers.cosine_decay(0.1, steps), momentum=0.9)
    for step in range(steps):
        x, y = pipeline.get_batch(*divmod(step, len(pipeline)))
        loss = slim.losses.sparse_softmax_cross_entropy(net(x)[0], y, loss_collection=None)
        optimizer.apply_gradients(optimizer.compute_gradients(loss, params))
    source_test_x, source_test_y = task(test_x, test_labels, source)
    print(f"source task, test accuracy: {accuracy(net, source_test_x, source_test_y):.3f} (chance 0.2)")
    slim.checkpoint.save(pretrained, slim.get_variables())

# %% [markdown]
# ## 2. Three ways to learn the target task
#
# * **From scratch**: every variable random, every variable trained: 80 steps of 25
#   augmented images (40 epochs of the 50 target images), rate 0.05, tested every 20
#   steps.
# * **Full fine-tuning**: restore everything but `cnn/logits` (the TF-Slim recipe:
#   `get_variables_to_restore(exclude=["cnn/logits"])` and `assign_from_checkpoint_fn`),
#   then train every variable the same way, at a lower rate (0.01), so that the
#   pretrained features are adjusted rather than overwritten.
# * **Linear probe**: the same restore, then train *only* the new logits layer
#   (`var_list=` its two variables) on the frozen features. A frozen body computes the
#   same 64 features for an image every time (batch norm in test mode, no gradient
#   needed), so they are computed once, and the probe is a logistic regression on them:
#   cheap enough to train for 300 full-batch steps.

# %% [markdown]
# ### Exercise: the linear probe's gradients
#
# A linear probe is logistic regression on frozen features: `logits = features @ w + b`,
# the loss the mean softmax cross-entropy, and only `w` and `b` learn. Write their
# gradients; the checker compares them with minislim's autograd on the same loss and names
# a sum left undivided by the batch size or a softmax left out. A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/probe_gradients.py


probe_gradients_result = exercises.check(probe_gradients, "probe_gradients")

# %%
def fresh_model(restore):
    net = slim.make_template("cnn", small_cnn)
    net(target_x[:2])
    if restore:
        variables = slim.get_variables_to_restore(exclude=["cnn/logits"])
        slim.assign_from_checkpoint_fn(pretrained, variables)()
    return net

def learn_target(restore, rate, steps=80, batch=25, seed=1):
    curve = []
    with slim.Graph().as_default():
        slim.set_random_seed(seed)
        net = fresh_model(restore)
        params = slim.get_trainable_variables()
        optimizer = slim.optimizers.Momentum(rate, momentum=0.9)
        pipeline = data.batches(target_x, target_y, batch_size=batch, seed=seed, augment=augment)
        for step in range(steps):
            x, y = pipeline.get_batch(*divmod(step, len(pipeline)))
            loss = slim.losses.sparse_softmax_cross_entropy(net(x)[0], y, loss_collection=None)
            optimizer.apply_gradients(optimizer.compute_gradients(loss, params))
            if (step + 1) % 20 == 0:
                curve.append((step + 1, accuracy(net, target_test_x, target_test_y)))
    return np.array(curve)

def linear_probe(steps=300, seed=1):
    curve = []
    with slim.Graph().as_default():
        slim.set_random_seed(seed)
        net = fresh_model(restore=True)
        with slim.no_grad():
            train_features = net(target_x, is_training=False)[1]["features"].data
            test_features = net(target_test_x, is_training=False)[1]["features"].data
        head = [v for v in slim.get_trainable_variables() if v.name.startswith("cnn/logits")]
        print("the probe trains:", [f"{v.name} {v.shape}" for v in head])
        weights, biases = head
        optimizer = slim.optimizers.Momentum(0.05, momentum=0.9)
        for step in range(steps):
            logits = slim.tensor(train_features) @ weights + biases       # the logits layer, by hand
            loss = slim.losses.sparse_softmax_cross_entropy(logits, target_y, loss_collection=None)
            optimizer.apply_gradients(optimizer.compute_gradients(loss, head))
            if (step + 1) % 30 == 0:
                predicted = (test_features @ weights.data + biases.data).argmax(axis=1)
                curve.append((step + 1, float(np.mean(predicted == target_test_y))))
    return np.array(curve)

curves = {"from scratch": learn_target(restore=False, rate=0.05),
          "full fine-tuning": learn_target(restore=True, rate=0.01),
          "linear probe": linear_probe()}

# %% [markdown]
# ## 3. The results
#
# The probe's steps are full-batch steps on fixed features, so its curve is drawn against
# its own axis (top); the two other runs share the bottom one.

# %%
colors = {"from scratch": "tab:gray", "linear probe": "tab:blue", "full fine-tuning": "tab:green"}
modes = list(curves)
fig, (ax, bars) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
for mode in ("from scratch", "full fine-tuning"):
    ax.plot(curves[mode][:, 0], curves[mode][:, 1], "o-", ms=3, color=colors[mode], label=mode)
probe_axis = ax.twiny()
probe = curves["linear probe"]
probe_axis.plot(probe[:, 0], probe[:, 1], "s--", ms=3, color=colors["linear probe"], label="linear probe")
probe_axis.set_xlabel("linear probe: full-batch step on the frozen features", color=colors["linear probe"])
ax.axhline(0.2, color="gray", ls=":", label="chance")
ax.set(xlabel="step of 25 images on the target task", ylabel="target test accuracy", ylim=(0, 0.8))
ax.legend(fontsize=8, loc="lower right")
probe_axis.legend(fontsize=8, loc="lower center")
finals = [curves[mode][-2:, 1].mean() for mode in modes]
bars.bar(modes, finals, color=[colors[m] for m in modes])
for k, value in enumerate(finals):
    bars.text(k, value + 0.01, f"{value:.2f}", ha="center")
bars.set(ylabel="mean of the last two tests", ylim=(0, 0.8), title="five new classes, 10 images each")
plt.tight_layout()
plt.show()
for mode, value in zip(modes, finals):
    print(f"{mode:17s} {value:.3f}")

# %% [markdown]
# Features learned on the five source classes transfer to the five new ones: both runs
# that start from the pretrained network beat training from scratch on 50 images. The linear probe is the cheapest (one
# forward pass per image, then a logistic regression on 64 numbers) and trains only
# 64 x 5 + 5 parameters, so it hardly overfits; full fine-tuning can also adapt the
# features to the new classes, which pays off when the target data is large enough and
# the rate small enough (a high rate would overwrite what pretraining learned). Which one
# wins depends on how much target data there is and how close the tasks are: measure it.
#
# ## Takeaways
#
# * Test transfer on classes the pretrained model never saw; otherwise the comparison
#   measures memory, not transfer.
# * Linear probe: frozen features (computed once, in test mode), a new linear layer
#   (`var_list=` the head). Full fine-tuning: everything trained from the pretrained
#   values, at a lower rate.
# * Both are the same TF-Slim recipe: `get_variables_to_restore(exclude=[the new head])`
#   and `assign_from_checkpoint_fn`.
