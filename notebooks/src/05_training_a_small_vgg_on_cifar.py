# %% [markdown]
# # 05 · Training a small VGG on CIFAR-10
#
# This notebook trains a convolutional network end to end with minislim's TF-Slim API, on
# the CIFAR-10 subset that ships inside the package (no download):
#
# 1. the data, and what **augmentation** does to it;
# 2. an input **pipeline**: shuffled, augmented, normalised mini-batches;
# 3. the model, `vgg_cifar`, made smaller so that it trains in seconds;
# 4. training with **`slim.learning.train`** and the project's **default recipe**
#    (`minislim.recipe`, what `minislim train` uses), keeping a log of every step;
# 5. **evaluating** every checkpoint, and the loss and accuracy curves;
# 6. a **confusion matrix** and the **misclassified** examples.
#
# Everything runs in NumPy on the CPU, so the run here is short: 480 steps of 64 images,
# six epochs of the subset, which take under a minute on two idle cores. It is enough to
# see the network learn, not to see how good it can get (see the end).

# %%
import tempfile
import time

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import data, exercises, recipe
from minislim.datasets import cifar10
from minislim.nets import vgg

np.set_printoptions(precision=3, suppress=True)
RECIPE = recipe.Recipe()           # the default recipe of `minislim train` (section 4)
slim.set_random_seed(0)            # initial weights and dropout
rng = np.random.default_rng(0)     # the pictures below
logdir = tempfile.mkdtemp(prefix="vgg_cifar_")   # checkpoints go here

# %% [markdown]
# ## 1. The data
#
# `cifar10.load()` without a directory reads the embedded subset: 500 training and 100
# test images of each class, the first ones of each class in the official files. Images
# are `uint8` `[N, 32, 32, 3]` (NHWC), labels `int64` class ids.

# %%
train_images, train_labels = cifar10.load(split="train")
test_images, test_labels = cifar10.load(split="test")
class_names = cifar10.class_names()
print("train:", train_images.shape, train_images.dtype, "| test:", test_images.shape)
print("per class (train):", np.bincount(train_labels))
print(class_names)

# %%
fig, axes = plt.subplots(10, 8, figsize=(8, 10.5))
for c in range(10):
    chosen = rng.choice(np.flatnonzero(train_labels == c), size=8, replace=False)
    for j, index in enumerate(chosen):
        axes[c, j].imshow(train_images[index])
        axes[c, j].axis("off")
    axes[c, 0].set_title(class_names[c], fontsize=9, loc="left")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Augmentation and the pipeline
#
# With 5,000 training images a network soon learns them by heart. **Augmentation** shows
# it a slightly different version of each image every time: the usual CIFAR recipe pads
# each image with 4 pixels on every side, cuts a random 32x32 window out of it (a shift of
# up to 4 pixels) and mirrors it left-right half of the time. A shifted or mirrored cat is
# still a cat, so the labels stay right.
#
# Before that, `Normalize` turns the bytes into float32 with zero mean and unit variance
# per channel, using statistics of the **training** set (the test set is normalised with
# the same numbers; it is never looked at while training). The default recipe normalises
# *first* and pads *after*, with zeros: the padding is then the data set's mean colour, a
# neutral grey. Padding the raw image would add black borders, a colour that covers up to
# a sixth of a shifted crop and that no test image has (it costs several points of test
# accuracy; notebook 12 measures it).
#
# `recipe.augmentation` builds that transform; the transforms of `slim.data` take a whole
# batch and a `np.random.Generator`. Here are four training images (left) and six random
# versions of each, turned back into colours for the picture:

# %%
mean, std = data.channel_stats(train_images)
print("channel mean:", mean, "std:", std, "(of pixel values scaled to [0, 1])")

augment = recipe.augmentation(32, mean, std, RECIPE)   # normalise, then crop and flip
originals = train_images[[3, 10, 27, 42]]
versions = [augment(originals, np.random.default_rng(seed)) for seed in range(6)]

fig, axes = plt.subplots(4, 7, figsize=(7, 4.4))
for i in range(4):
    axes[i, 0].imshow(originals[i])
    for j in range(6):
        axes[i, j + 1].imshow(np.clip(versions[j][i] * std + mean, 0, 1))   # undo the normalisation
for ax in axes.ravel():
    ax.axis("off")
axes[0, 0].set_title("original", fontsize=9)
axes[0, 3].set_title("random crop (padded with the mean), random flip", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# `recipe.train_pipeline` puts it together with `data.batches`: a new shuffled order each
# epoch, the transform applied to each batch, and a position that a checkpoint records
# (so training resumes on the exact batch where it stopped; notebook 06). The test batches
# are only normalised.

# %%
BATCH_SIZE = 64                    # the recipe's batch size
pipeline = recipe.train_pipeline(train_images, train_labels, mean, std, batch_size=BATCH_SIZE, seed=0,
                                 recipe=RECIPE)
test_data = data.batches(test_images, test_labels, batch_size=500, shuffle=False,
                         augment=data.Normalize(mean, std))
x, y = pipeline.get_batch(0, 0)     # a look at one batch, without moving the pipeline
print(f"{len(pipeline)} batches per epoch; a batch: {x.shape} {x.dtype}, labels {y.shape}; "
      f"mean {x.mean():.2f}, std {x.std():.2f}")

# %% [markdown]
# ## 3. The model
#
# `vgg_cifar` is a VGG for 32x32 images: blocks of two 3x3 convolutions (each followed by
# batch normalisation and a ReLU) and a 2x2 max-pool, then a fully connected layer,
# dropout, and the 10 logits. `minislim train` uses widths 32, 64 and 128, a 256-unit fc
# layer and no dropout (`dropout_keep_prob=1.0`, the default): dropout fights *over*fitting,
# and this small net underfits even 20 epochs of augmented images, so dropout 0.5 only cost
# it accuracy (notebook 12). To train in seconds we halve the widths (a quarter of the
# computation).
#
# The rest comes from `vgg_cifar_arg_scope`'s defaults, which are part of the recipe:
#
# * **batch norm** after every convolution (moving-average decay 0.99, epsilon 1e-3, a
#   learned scale), so each layer sees standardised inputs whatever the weights do;
# * **weights drawn from** $U(\pm 1/\sqrt{\text{fan-in}})$ (PyTorch's default), smaller
#   than Glorot's: behind batch norm a weight's scale does not change the output, only how
#   far a step of the learning rate moves it, so smaller weights learn faster;
# * the **logits layer starts at zero**: the first prediction is uniform over the 10
#   classes, and the first loss is exactly $\ln 10$;
# * **no L2 regularizer** in the layers: `RECIPE.net_weight_decay()` is 0 because the
#   recipe's optimizer decays every variable itself (section 4).

# %%
NET = dict(widths=(16, 32, 64), fc_width=128, dropout_keep_prob=1.0)

def network_fn(images, is_training):
    """(logits [N, 10], end_points) of the small vgg_cifar, under the net's own arg_scope."""
    with slim.arg_scope(vgg.vgg_cifar_arg_scope(weight_decay=RECIPE.net_weight_decay())):
        return vgg.vgg_cifar(slim.tensor(images), is_training=is_training, **NET)

with slim.Graph().as_default():       # build once, in a scratch graph, to count the parameters
    network_fn(x, is_training=True)
    size, nbytes = slim.model_analyzer.analyze_vars(slim.get_trainable_variables(), print_info=False)
print(f"{size:,} trainable parameters ({nbytes / 1e6:.1f} MB)")

# %% [markdown]
# ### Exercises: the loss, the update rules and the loop that `train` runs
#
# Before handing the work to `slim.learning.train`, write its parts yourself; each is
# checked against minislim's own.
#
# **The loss.** The logits go through a softmax and the cross-entropy of the true class,
# averaged over the batch. Fused into one op, the backward is remarkably simple,
# `(softmax - one_hot(labels)) / N`, and the forward can be made stable by subtracting
# each row's maximum before `exp` (`softmax(z) = softmax(z - max z)`); the checker's
# logits include a row near 800, where a naive `exp` overflows.

# %%
# include: minislim/exercises/skeletons/softmax_cross_entropy.py


loss_result = exercises.check(SoftmaxCrossEntropy, "softmax_cross_entropy")

# %% [markdown]
# **The updates.** Plain SGD steps against the gradient. *Momentum* keeps a decaying sum
# of the past gradients and steps along it, which smooths the noise of mini-batches and
# speeds up along directions where the gradients agree (TF's form, as
# `slim.optimizers.Momentum`: `accum = momentum * accum + g`, `w -= lr * accum`). *Adam*
# divides the step by a running root mean square of the gradient, per parameter, and
# corrects the bias of its zero-initialised averages. Each function returns the new
# values; the checker runs five updates beside `slim.optimizers`.

# %%
# include: minislim/exercises/skeletons/sgd_update.py


sgd_result = exercises.check(sgd_update, "sgd_update")

# %%
# include: minislim/exercises/skeletons/momentum_update.py


momentum_result = exercises.check(momentum_update, "momentum_update")

# %%
# include: minislim/exercises/skeletons/adam_update.py


adam_result = exercises.check(adam_update, "adam_update")

# %% [markdown]
# **The loop.** One training step is: clear the gradients, compute the loss, back-propagate,
# update. `slim.learning.train` does exactly that (plus logging and checkpoints), with an
# optimizer's `apply_gradients`. Write the loop over a list of batches:

# %%
# include: minislim/exercises/skeletons/training_loop.py


loop_result = exercises.check(train_loop, "training_loop")

# %% [markdown]
# ## 4. Training with the default recipe
#
# A *recipe* is everything about a run except the net and the data. `minislim train`
# takes its recipe from `minislim.recipe.Recipe()`, and so does this notebook (the input
# pipeline above was its first ingredient). docs/training.md ("The default recipe") gives
# the measurements behind each choice; notebook 12 shows each with an experiment.

# %%
print(RECIPE)

# %% [markdown]
# * **The loss**, `recipe.classification_loss`: softmax cross-entropy with **label
#   smoothing** 0.1. The target puts $1 - 0.1 + 0.1/10 = 0.91$ on the true class and 0.01 on
#   each other one, so the network is never rewarded for pushing one logit ever higher: it
#   stays less overconfident, which generalises better. (The smallest possible loss is then
#   about 0.50, the entropy of that target, not 0.)
# * **The optimizer**, `recipe.optimizer(RECIPE, STEPS)`: SGD with Nesterov momentum 0.9,
#   and a learning rate that rises linearly from 0 over the first 10% of the steps
#   (**warm-up**: the fresh weights and batch norm's statistics settle before full-size
#   steps), then falls along a **cosine** to 0 at the last step (big steps to travel, small
#   ones to settle).
# * **Weight decay** 5e-4, applied by the optimizer to every variable (as PyTorch's
#   `SGD(weight_decay=...)` does): each step adds `5e-4 * w` to each gradient, which pulls
#   every weight a little towards zero. Batch norm's scale and offset decay too.
#
# `create_train_op` turns the loss function into one training step (forward, backward,
# update). The loss function also keeps our **log**: the plain cross-entropy (without the
# smoothing, to compare with the test loss) and the accuracy of each training batch.

# %%
STEPS = 480                        # 6 epochs of 64 images
history = {"loss": [], "accuracy": []}

def loss_fn(images, labels):
    logits, _ = network_fn(images, is_training=True)
    recipe.classification_loss(logits, labels, RECIPE)      # the loss trained on: into LOSSES
    plain = slim.losses.sparse_softmax_cross_entropy(logits, labels, loss_collection=None)
    history["loss"].append(plain.item())
    history["accuracy"].append(float(np.mean(logits.data.argmax(axis=1) == labels)))
    return slim.losses.get_total_loss()

optimizer = recipe.optimizer(RECIPE, STEPS)
train_op = slim.learning.create_train_op(loss_fn, optimizer)

fig, ax = plt.subplots(figsize=(5, 2.2))
ax.plot([optimizer.learning_rate(step) for step in range(STEPS)])
ax.set(xlabel="step", ylabel="learning rate", title="warm-up, then cosine decay")
plt.tight_layout()
plt.show()

# %% [markdown]
# `slim.learning.train` runs the steps, prints progress, and saves a checkpoint every
# 120 steps (`keep_checkpoint_max=None` keeps them all, so we can evaluate each one
# below).

# %%
start = time.perf_counter()
final_loss = slim.learning.train(train_op, pipeline, logdir, number_of_steps=STEPS, log_every_n_steps=20,
                                 save_interval_steps=STEPS // 4, save_interval_secs=None,
                                 keep_checkpoint_max=None)
elapsed = time.perf_counter() - start
print(f"{STEPS} steps of {BATCH_SIZE} images ({STEPS * BATCH_SIZE / len(train_images):.1f} epochs) "
      f"in {elapsed:.0f} s")

# %% [markdown]
# The loss printed by `train` is the *total* loss: here the smoothed cross-entropy alone,
# since the weight decay is in the optimizer rather than in `REGULARIZATION_LOSSES`. The log
# we kept has the plain cross-entropy of every step; it is noisy because each value comes
# from 64 images only, so we also draw its running mean.
#
# ## 5. Evaluation
#
# Training accuracy says little: it is measured on images the network trains on. The test
# subset (1,000 images never used for training) tells us how it **generalises**.
# `slim.evaluation.evaluate_once` restores a checkpoint into a model built by `eval_fn`
# (with `is_training=False`: batch norm uses its moving averages) and updates streaming
# metrics over one pass of the data. We evaluate every checkpoint that training saved,
# with four metrics: the accuracy, the mean loss, a **confusion matrix** (section 6), and
# the predicted probabilities of every test image (section 7). A metric can be any
# `(value_fn, update_fn)` pair, and the last one is: a list that collects each batch.
#
# The last ingredient of the recipe is for evaluation: **flip averaging**.
# `recipe.flip_averaged_logits` runs each test image and its mirror image in one batch and
# averages their logits: the network was trained to treat both as the same class, and two
# opinions average out part of its errors (about one point of accuracy on the full runs).

# %%
def eval_fn(images, labels):
    logits = recipe.flip_averaged_logits(lambda both: network_fn(both, is_training=False), images)
    loss = slim.losses.sparse_softmax_cross_entropy(logits, labels, loss_collection=None)
    return {"accuracy": (logits, labels), "loss": (loss.data, len(labels)), "confusion": (logits, labels),
            "probabilities": slim.softmax(logits).data}

def test_metrics():
    batches = []
    return {"accuracy": slim.metrics.Accuracy(), "loss": slim.metrics.Mean(),
            "confusion": slim.metrics.ConfusionMatrix(num_classes=10),
            "probabilities": (lambda: np.concatenate(batches), batches.append)}

test_curve = []
for step, path in slim.checkpoint.all_checkpoints(logdir):
    with slim.Graph().as_default():      # a fresh graph for each evaluation model
        result = slim.evaluation.evaluate_once(path, eval_fn, test_data, test_metrics(), log_fn=None)
    test_curve.append((step, result["accuracy"], result["loss"]))
    print(f"step {step:4d}: test accuracy {result['accuracy']:.3f}, test loss {result['loss']:.3f}")
final = result                           # the last checkpoint's results

# %%
def running_mean(values, window=25):
    values = np.asarray(values)
    return np.convolve(values, np.ones(window) / window, mode="valid")

steps = np.arange(1, len(history["loss"]) + 1)
window = 25
eval_steps, eval_accuracy, eval_loss = map(np.array, zip(*test_curve))

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
ax_loss.plot(steps, history["loss"], color="tab:blue", alpha=0.25, label="training batch")
ax_loss.plot(steps[window - 1:], running_mean(history["loss"], window), color="tab:blue",
             label=f"training, mean of {window} steps")
ax_loss.plot(eval_steps, eval_loss, "o-", color="tab:orange", label="test set")
ax_loss.axhline(np.log(10), color="gray", ls=":", label="chance: ln 10")
ax_loss.set(xlabel="step", ylabel="cross-entropy", title="loss")
ax_loss.legend(fontsize=8)

ax_acc.plot(steps[window - 1:], running_mean(history["accuracy"], window), color="tab:blue",
            label=f"training batches, mean of {window} steps")
ax_acc.plot(eval_steps, eval_accuracy, "o-", color="tab:orange", label="test set")
ax_acc.axhline(0.1, color="gray", ls=":", label="chance: 10%")
ax_acc.set(xlabel="step", ylabel="accuracy", title="accuracy", ylim=(0, 1))
ax_acc.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The training loss starts at exactly ln 10 ≈ 2.30, the cross-entropy of a uniform guess
# over 10 classes (the logits layer starts at zero), and falls; the test accuracy rises
# from chance (10%) as training goes on. The first test point can be worse than the
# training batches of the same step partly because of batch normalisation: evaluation
# uses the *moving averages* of the batch statistics, and with `decay=0.99` they still hold
# 0.99^120 ≈ 30% of their initial values (0 and 1) after 120 steps.
# The training batches are *augmented*, which makes them harder than the plain test
# images, and the test images are seen twice (flip averaging): the test accuracy can be
# above the training accuracy. With so few steps the model is still **underfitting**:
# both curves are still moving when training stops (the cosine schedule brings the
# learning rate to 0 at the last step, which is why they flatten).
#
# ## 6. Where does it go wrong? The confusion matrix
#
# `slim.metrics.ConfusionMatrix` counts, for every true class (row), how often each class
# was predicted (column). Here is the one of the last checkpoint, and the accuracy of each
# class (the diagonal divided by the row sums):

# %%
confusion, probabilities = final["confusion"], final["probabilities"]
predictions = probabilities.argmax(axis=1)
assert np.array_equal(np.bincount(test_labels * 10 + predictions, minlength=100).reshape(10, 10), confusion)

per_class = confusion.diagonal() / confusion.sum(axis=1)
for name, accuracy in sorted(zip(class_names, per_class), key=lambda pair: -pair[1]):
    print(f"{name:11s} {accuracy:.0%}")

# %%
fig, ax = plt.subplots(figsize=(6.5, 5.5))
image = ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=8,
                color="white" if confusion[i, j] > confusion.max() / 2 else "black")
ax.set_xticks(range(10), class_names, rotation=45, ha="right")
ax.set_yticks(range(10), class_names)
ax.set(xlabel="predicted", ylabel="true class",
       title=f"test set confusion matrix (accuracy {final['accuracy']:.1%})")
fig.colorbar(image, ax=ax, shrink=0.8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The diagonal holds the correct answers. Off the diagonal, look for pairs: the classic
# confusions of CIFAR-10 are between the animals (cat and dog, deer and horse) and between
# the vehicles (automobile and truck, airplane and ship, often because of a blue background).
#
# ## 7. Misclassified examples
#
# The mistakes the network was most *confident* about are the most instructive: some are
# odd images, some are hard even for a person at 32x32, some show what the network relies
# on (colour, background) instead of shape.

# %%
wrong = np.flatnonzero(predictions != test_labels)
most_confident = wrong[np.argsort(-probabilities[wrong, predictions[wrong]])][:15]
print(f"{len(wrong)} of {len(test_labels)} test images misclassified")

fig, axes = plt.subplots(3, 5, figsize=(9, 6.8))
for ax, index in zip(axes.ravel(), most_confident):
    ax.imshow(test_images[index])
    ax.set_title(f"{class_names[test_labels[index]]}\n→ {class_names[predictions[index]]} "
                 f"({probabilities[index, predictions[index]]:.0%})", fontsize=8)
    ax.axis("off")
fig.suptitle("most confident mistakes: true class → prediction (probability)", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## How far does the full recipe go?
#
# The accuracy above (about 55%) is modest, and it should be: a quarter-size network, six
# epochs of 5,000 images, under a minute of CPU. The same recipe on the standard `vgg_cifar` (widths
# 32-64-128, no dropout) is what the command line trains:
#
# ```text
# minislim train --net vgg_cifar --logdir runs/vgg_cifar     # the embedded subset
# minislim eval --logdir runs/vgg_cifar                      # flip-averaged
# ```
#
# and `--data-dir` trains on the full CIFAR-10 files instead. For 20 epochs on 10,000
# training images it reaches about 78% test accuracy (76.9% on one view, 78.4% averaged
# with the mirror, the mean of three seeds, in about 22 minutes of one core), against 62%
# for the old recipe (black padding, Glorot weights, no warm-up, no smoothing, dropout 0.5): the table and the
# commands are in docs/training.md ("The default recipe"), the PyTorch comparison in
# [docs/benchmarks.md](../docs/benchmarks.md). More data matters more than more epochs
# on 5,000 images, which a network of 800,000 parameters soon overfits.
#
# Things to try (each changes one line above): `STEPS = 1200`; the recipe's widths
# `(32, 64, 128)` (two to four times slower per step); `dropout_keep_prob=0.5`; one
# ingredient of the recipe switched off, as the ablations of docs/training.md do
# (`RECIPE = recipe.Recipe(label_smoothing=0.0)`, `warmup_fraction=0.0`,
# `pad_with_mean=False`, or `augment=False` to compare the gap between the training and
# test curves).
