# %% [markdown]
# # 06 · Checkpoints, fine-tuning and evaluation
#
# A trained network is only as useful as the file it is saved in. This notebook follows
# one small model through the life of its checkpoints:
#
# 1. training that writes checkpoints, and what a checkpoint file holds;
# 2. saving and restoring by hand, and the errors when a file does not fit a model;
# 3. **resuming**: a run that stops and starts again ends with exactly the weights of a
#    run that never stopped;
# 4. **fine-tuning**: a new 5-class head on the trained features, with
#    `get_variables_to_restore(exclude=...)`, `slim.checkpoint.diff` and
#    `assign_from_checkpoint_fn`, against training from scratch;
# 5. **evaluation** with `slim.evaluation.evaluate_once` and streaming metrics.
#
# The model is tiny (three convolutions) and the runs are short: the whole notebook takes
# 20 seconds to a minute on two cores.

# %%
import os
import shutil
import tempfile

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import data
from minislim.datasets import cifar10

np.set_printoptions(precision=3, suppress=True)
workdir = tempfile.mkdtemp(prefix="notebook06_")   # every logdir of this notebook goes here

# %% [markdown]
# ## The data and the model
#
# The CIFAR-10 subset that ships with minislim (notebook 05), normalised per channel. No
# augmentation here: the runs are too short to overfit.

# %%
train_images, train_labels = cifar10.load(split="train")
test_images, test_labels = cifar10.load(split="test")
class_names = cifar10.class_names()
mean, std = data.channel_stats(train_images)
train_x = data.normalize(train_images, mean, std)
test_x = data.normalize(test_images, mean, std)
print(train_x.shape, train_x.dtype, test_x.shape)

# %% [markdown]
# A small convolutional network with TF-Slim layers: three 3x3 convolutions with batch
# normalisation, each followed by a 2x2 max-pool, a fully connected layer and the logits,
# all inside a variable scope `tiny`. Its variable names are what its checkpoints are
# keyed by.

# %%
def tiny_net(images, num_classes=10, is_training=True, reuse=None):
    """Logits [N, num_classes] for images [N, 32, 32, 3]; ``reuse=True`` shares existing variables."""
    with slim.variable_scope("tiny", reuse=reuse):
        with slim.arg_scope([slim.conv2d, slim.fully_connected], weights_regularizer=slim.l2_regularizer(1e-4)):
            with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                                normalizer_params={"is_training": is_training, "decay": 0.9}):
                net = slim.conv2d(slim.tensor(images), 16, [3, 3], scope="conv1")
                net = slim.max_pool2d(net, [2, 2], scope="pool1")
                net = slim.conv2d(net, 32, [3, 3], scope="conv2")
                net = slim.max_pool2d(net, [2, 2], scope="pool2")
                net = slim.conv2d(net, 64, [3, 3], scope="conv3")
                net = slim.max_pool2d(net, [2, 2], scope="pool3")
            net = slim.fully_connected(slim.flatten(net), 64, scope="fc4")
            return slim.fully_connected(net, num_classes, activation_fn=None, scope="logits")


class Recorder:
    """Wraps a train op and records (global step, loss) after every step."""

    def __init__(self, train_op):
        self.train_op, self.log = train_op, []

    def __call__(self, *batch):
        loss = self.train_op(*batch)
        self.log.append((int(self.train_op.global_step.data), loss))
        return loss

    def __getattr__(self, name):           # global_step, optimizer, build, ...: the op's own
        return getattr(self.train_op, name)


def make_train_op(num_classes=10, learning_rate=0.01):
    """A recorded training step: cross-entropy + L2, SGD with Nesterov momentum."""
    def loss_fn(images, labels):
        slim.losses.sparse_softmax_cross_entropy(tiny_net(images, num_classes), labels)
        return slim.losses.get_total_loss()
    optimizer = slim.optimizers.Momentum(learning_rate, momentum=0.9, use_nesterov=True)
    return Recorder(slim.learning.create_train_op(loss_fn, optimizer))


def quiet(line):
    """A log_fn for train that keeps only its first and last lines."""
    if not line.startswith("step "):
        print(line.replace(workdir, "<workdir>"))

# %% [markdown]
# ## 1. Training writes checkpoints
#
# `slim.learning.train` saves `<logdir>/model.ckpt-<step>.npz`: here every 50 steps, all
# kept (`keep_checkpoint_max=None`). Each run builds its model in a fresh `slim.Graph()`,
# as a separate process would; a new graph starts from random seed 0, so the runs are
# reproducible.

# %%
pretrain_dir = os.path.join(workdir, "pretrain")
with slim.Graph().as_default():
    pretrain_op = make_train_op()
    pipeline = data.batches(train_x, train_labels, batch_size=32, seed=0)
    slim.learning.train(pretrain_op, pipeline, pretrain_dir, number_of_steps=150, save_interval_steps=50,
                        save_interval_secs=None, keep_checkpoint_max=None, log_fn=quiet)
print(sorted(os.listdir(pretrain_dir)))

# %% [markdown]
# A checkpoint is a `.npz` file (NumPy alone can read it) holding each variable under its
# name, the optimizer's slots under `<variable>/<slot>`, the global step, and the rest of
# the training state (random generators, input position) as JSON. Note the batch norm
# statistics: `moving_mean` and `moving_variance` are not trained by gradients, but they
# are part of the model and must be saved with it.

# %%
checkpoint = slim.checkpoint.latest_checkpoint(pretrain_dir)
entries = slim.checkpoint.list_variables(checkpoint)
for name, shape in entries:
    if name.startswith("tiny/conv1/") or name == "global_step":
        print(f"{name:42s} {shape}")
print(f"... {len(entries)} entries in all")
contents = slim.checkpoint.read(checkpoint)
print("global step:", contents.global_step, "| optimizer:", contents.optimizer["class"],
      "| extra state:", sorted(contents.extra))
print("conv1 moving mean:", slim.checkpoint.load_variable(checkpoint, "tiny/conv1/BatchNorm/moving_mean")[:6])

# %% [markdown]
# ## 2. Saving and restoring by hand
#
# `slim.checkpoint.restore(path)` assigns a file's values to the variables of the current
# graph that have the same names. The variables must exist first, and minislim is eager: a
# layer computes its output when it is called. So we build the model once (on one image),
# restore, and only then classify the test set, calling the model again with `reuse=True`
# (TF-Slim's nets take the same argument).

# %%
with slim.Graph().as_default():
    tiny_net(test_x[:1], is_training=False)                  # creates the variables
    result = slim.checkpoint.restore(checkpoint)
    print(f"restored {len(result.restored)} variables at global step {result.global_step}")
    with slim.no_grad():
        logits = tiny_net(test_x, is_training=False, reuse=True)
    predictions = logits.data.argmax(axis=1)
print(f"test accuracy after {result.global_step} steps: {np.mean(predictions == test_labels):.3f} (chance: 0.1)")

# %% [markdown]
# `slim.checkpoint.save(path, variables, global_step=..., extra=...)` writes any set of
# variables (a list, or a dict to choose the keys). The file is written to a temporary name
# and renamed, so a crash never leaves half a checkpoint behind. Here: only the
# convolutions, with a note.

# %%
with slim.Graph().as_default():
    tiny_net(test_x[:1])
    slim.checkpoint.restore(checkpoint)
    convs = slim.get_variables("tiny/conv")
    saved = slim.checkpoint.save(os.path.join(workdir, "convs_only"), convs, global_step=result.global_step,
                                 extra={"note": "features of the 10-class model"})
print(os.path.basename(saved), [name for name, _ in slim.checkpoint.list_variables(saved)][:4], "...")
print(slim.checkpoint.read(saved).extra)

# %% [markdown]
# Restoring is **strict**: before assigning anything, `restore` compares the whole file with
# the model and lists every problem at once. A model with a 5-class head does not fit the
# 10-class checkpoint, and nothing is assigned:

# %%
with slim.Graph().as_default():
    tiny_net(test_x[:1], num_classes=5)
    try:
        slim.checkpoint.restore(checkpoint)
    except slim.checkpoint.CheckpointError as error:
        print(str(error).replace(workdir, "<workdir>"))

# %% [markdown]
# ## 3. Resuming
#
# Suppose training had stopped right after saving step 100 (a crash, Ctrl-C, the end of a
# time slot): its logdir would hold `model.ckpt-100.npz` and nothing newer. We make such a
# logdir by copying that file, then train to step 150 in a **fresh graph with a fresh
# pipeline**, as a new process would. `train` finds the checkpoint and restores the
# variables, the optimizer's momentum, the global step, the random generators and the
# position in the input pipeline, then continues.

# %%
resumed_dir = os.path.join(workdir, "resumed")
os.makedirs(resumed_dir)
shutil.copy(os.path.join(pretrain_dir, "model.ckpt-100.npz"), resumed_dir)

with slim.Graph().as_default():
    resumed_op = make_train_op()
    pipeline = data.batches(train_x, train_labels, batch_size=32, seed=0)
    slim.learning.train(resumed_op, pipeline, resumed_dir, number_of_steps=150, save_interval_steps=50,
                        save_interval_secs=None, log_fn=quiet)
print("first steps of the resumed run:", [step for step, _ in resumed_op.log[:3]])

# %% [markdown]
# The resumed run and the run that never stopped end with the same file: every weight,
# every momentum slot, even the state of the random generators, **bit for bit**.

# %%
def arrays(path):
    with np.load(path, allow_pickle=False) as f:
        return {key: f[key] for key in f.files}

uninterrupted = arrays(os.path.join(pretrain_dir, "model.ckpt-150.npz"))
resumed = arrays(os.path.join(resumed_dir, "model.ckpt-150.npz"))
same = [key for key in uninterrupted if np.array_equal(uninterrupted[key], resumed[key])]
print(f"{len(same)} of {len(uninterrupted)} entries identical; same keys: {sorted(uninterrupted) == sorted(resumed)}")

steps_a, losses_a = zip(*pretrain_op.log)
steps_b, losses_b = zip(*resumed_op.log)
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(steps_a, losses_a, color="tab:blue", lw=3, alpha=0.4, label="one run, steps 1-150")
ax.plot(steps_b, losses_b, color="tab:red", lw=1, label="resumed from model.ckpt-100")
ax.axvline(100, color="gray", ls=":")
ax.set(xlabel="global step", ylabel="training loss", title="a resumed run retraces the uninterrupted one")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# `number_of_steps` is a target for the **global step**, as in TF-Slim: calling `train`
# again with a larger number trains the missing steps only, and with the same number does
# nothing.

# %%
with slim.Graph().as_default():
    again = make_train_op()
    slim.learning.train(again, data.batches(train_x, train_labels, batch_size=32, seed=0), resumed_dir,
                        number_of_steps=150, log_fn=quiet)
print("steps run:", len(again.log))

# %% [markdown]
# ## 4. Fine-tuning: a new head for a new task
#
# The new task: tell five animals apart (cat, deer, dog, frog, horse) from a *small*
# training set, 100 images of each. The classes get new ids 0-4, so the network needs a new
# 5-way `logits` layer; everything below it can start from the 10-class model instead of
# from random numbers. (Here the 10-class model was trained on the same subset, these images
# included; in practice it would come from a much larger data set, such as ImageNet. This
# section shows the *mechanics*; notebook 11 does the experiment properly, on classes the
# pretrained model never saw, and compares a linear probe with full fine-tuning.)

# %%
animals = [class_names.index(name) for name in ["cat", "deer", "dog", "frog", "horse"]]

def subset(images, labels, per_class):
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in animals])
    return images[keep], np.searchsorted(animals, labels[keep])   # old ids -> 0..4

small_x, small_y = subset(train_x, train_labels, per_class=100)
animal_test_x, animal_test_y = subset(test_x, test_labels, per_class=100)
print(small_x.shape, np.bincount(small_y), "| test:", animal_test_x.shape)

# %% [markdown]
# What would a restore do? `slim.checkpoint.diff` compares a checkpoint with the current
# model and assigns nothing. It shows the head's shape mismatch, reports an `exclude`
# pattern that matches nothing (a typo is the usual reason why "fine-tuning does nothing")
# and suggests what to exclude.
#
# A pattern is TF's: a regular expression matched at the *start* of the name, not a whole
# scope. `"tiny/logit"` would not be a typo: it catches `tiny/logits/...` (and would catch
# a `tiny/logits_aux` too); `"tiny/logits/"` means that scope only.

# %%
with slim.Graph().as_default():
    tiny_net(small_x[:1], num_classes=5)
    report = slim.checkpoint.diff(checkpoint, exclude=["tiny/logtis"])
print(str(report).replace(workdir, "<workdir>"))
print("suggested exclude:", report.suggested_exclude)

# %% [markdown]
# The TF-Slim recipe: `get_variables_to_restore(exclude=[...])` lists every variable but
# the new head (and the global step: the new run counts from 0), and
# `assign_from_checkpoint_fn(path, variables)` returns the function that loads them.
# `train` calls it as `init_fn` once the variables exist (it builds the model on the first
# batch) and only when the logdir holds no checkpoint of its own. The variables do not
# exist before that, so the list is made inside `init_fn`.

# %%
def init_from_pretrained():
    variables = slim.get_variables_to_restore(exclude=["tiny/logits", "global_step"])
    print(f"init_fn: restoring {len(variables)} variables, e.g. {variables[0].name}")
    return slim.assign_from_checkpoint_fn(checkpoint, variables)()

def train_animals(logdir, init_fn=None, steps=80):
    with slim.Graph().as_default():
        op = make_train_op(num_classes=5)
        slim.learning.train(op, data.batches(small_x, small_y, batch_size=32, seed=1), logdir,
                            number_of_steps=steps, save_interval_steps=20, save_interval_secs=None,
                            keep_checkpoint_max=None, init_fn=init_fn, log_fn=quiet)
    return op.log

finetune_log = train_animals(os.path.join(workdir, "finetune"), init_fn=init_from_pretrained)
scratch_log = train_animals(os.path.join(workdir, "scratch"))

# %% [markdown]
# ## 5. Evaluation
#
# `slim.evaluation.evaluate_once(checkpoint, eval_fn, data, metrics)` builds the model
# with `eval_fn` (in a template, so it can run batch after batch), restores the checkpoint,
# and streams one pass of the data through the metrics. `eval_fn` returns, for each metric,
# the arguments of its `update`. We evaluate every checkpoint of both runs on the 500
# animal test images:

# %% [markdown]
# ### Exercise: a streaming accuracy
#
# A metric that streams keeps *sums*, never a list of batch results: `Accuracy` adds up
# the correct predictions and the examples, batch after batch, and divides at the end.
# Write `update` and `result` below; the checker feeds batches of different sizes to
# yours and to `slim.metrics.Accuracy` and compares the accuracy after each batch (the
# mean of the batches' accuracies is the classic mistake, and it names it). A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/streaming_accuracy.py


streaming_accuracy_result = exercises.check(StreamingAccuracy, "streaming_accuracy")

# %%
def animal_eval_fn(images, labels):
    logits = tiny_net(images, num_classes=5, is_training=False)
    loss = slim.losses.sparse_softmax_cross_entropy(logits, labels, loss_collection=None)
    return {"accuracy": (logits, labels), "loss": (loss.data, len(labels))}

def animal_test_data():
    return data.batches(animal_test_x, animal_test_y, batch_size=250, shuffle=False)

curves = {}
for run in ["finetune", "scratch"]:
    curves[run] = []
    for step, path in slim.checkpoint.all_checkpoints(os.path.join(workdir, run)):
        with slim.Graph().as_default():
            values = slim.evaluation.evaluate_once(
                path, animal_eval_fn, animal_test_data(),
                {"accuracy": slim.metrics.Accuracy(), "loss": slim.metrics.Mean()}, log_fn=None)
        curves[run].append((step, values["accuracy"]))
    print(run, [f"{acc:.2f}" for _, acc in curves[run]])

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.4))
for run, log, color in [("fine-tuned", finetune_log, "tab:green"), ("from scratch", scratch_log, "tab:gray")]:
    steps, losses = zip(*log)
    ax_loss.plot(steps, losses, color=color, label=run)
ax_loss.set(xlabel="step", ylabel="training loss", title="5 animals, 500 training images")
for run, color in [("finetune", "tab:green"), ("scratch", "tab:gray")]:
    steps, accuracy = zip(*curves[run])
    ax_acc.plot(steps, accuracy, "o-", color=color)
ax_acc.axhline(0.2, color="gray", ls=":", label="chance: 20%")
ax_acc.set(xlabel="step", ylabel="test accuracy", title="500 test images", ylim=(0, 1))
ax_loss.legend()
ax_acc.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Both runs fit the 500 training images about equally well (80 steps of 32 images are five
# passes over them, and their training losses fall alike). The difference is on the test
# images: the fine-tuned network, whose features were learned on ten classes and 5,000
# images, generalises better than one that learned everything from 500 images, and it is
# ahead from its first checkpoint. That is the point of fine-tuning: it matters most when
# the new data set is small and the one the features were learned on is large.
#
# ### More metrics
#
# `slim.metrics` has TF-Slim's streaming metrics: `Accuracy`, `TopKAccuracy`, `Mean`,
# `Precision` and `Recall` (binary, or one class with `class_id`) and `ConfusionMatrix`.
# Each has `update(...)`, `result()` and `reset()`. Here is the final fine-tuned model with
# several of them:

# %%
metrics = {"accuracy": slim.metrics.Accuracy(), "top-2 accuracy": slim.metrics.TopKAccuracy(k=2),
           "confusion": slim.metrics.ConfusionMatrix(num_classes=5)}
for c, name in enumerate(["cat", "deer", "dog", "frog", "horse"]):
    metrics[f"precision {name}"] = slim.metrics.Precision(class_id=c)
    metrics[f"recall {name}"] = slim.metrics.Recall(class_id=c)

def detailed_eval_fn(images, labels):
    logits = tiny_net(images, num_classes=5, is_training=False)
    return {name: (logits, labels) for name in metrics}

with slim.Graph().as_default():
    final = slim.evaluation.evaluate_once(os.path.join(workdir, "finetune"), detailed_eval_fn,
                                          animal_test_data(), metrics, log_fn=None)
print(f"global step {final['global_step']}: accuracy {final['accuracy']:.3f}, "
      f"top-2 accuracy {final['top-2 accuracy']:.3f}")
for name in ["cat", "deer", "dog", "frog", "horse"]:
    print(f"  {name:6s} precision {final['precision ' + name]:.2f}  recall {final['recall ' + name]:.2f}")
print("confusion matrix (rows: true class, columns: prediction):")
print(final["confusion"])

# %% [markdown]
# Precision for a class: of the images predicted as that class, the fraction that are; recall:
# of the images of that class, the fraction found. They are read off the confusion matrix
# (the diagonal divided by the column sums and the row sums):

# %%
confusion = final["confusion"]
precision = confusion.diagonal() / confusion.sum(axis=0)
recall = confusion.diagonal() / confusion.sum(axis=1)
print("precision:", precision.round(2), "| recall:", recall.round(2))
print("same as the metrics:", np.allclose(precision, [final[f"precision {n}"] for n in
                                                       ["cat", "deer", "dog", "frog", "horse"]]))

# %% [markdown]
# Streaming means a metric can be fed batch by batch and gives the value over everything it
# has seen, whatever the batch sizes. `aggregate_metric_map` gives TF-Slim's pair of dicts,
# names to values and names to update functions, for a loop of your own:

# %%
names_to_values, names_to_updates = slim.metrics.aggregate_metric_map(
    {"accuracy": slim.metrics.Accuracy(), "recall cat": slim.metrics.Recall(class_id=0)})
with slim.Graph().as_default():
    tiny_net(animal_test_x[:1], num_classes=5, is_training=False)
    slim.checkpoint.restore(os.path.join(workdir, "finetune"))
    with slim.no_grad():
        for start, size in [(0, 7), (7, 200), (207, 293)]:        # uneven batches
            batch = slice(start, start + size)
            logits = tiny_net(animal_test_x[batch], num_classes=5, is_training=False, reuse=True)
            for update in names_to_updates.values():
                update(logits, animal_test_y[batch])
print({name: round(value(), 4) for name, value in names_to_values.items()})
print("evaluate_once gave:", round(final["accuracy"], 4), round(final["recall cat"], 4))

# %% [markdown]
# `slim.evaluation.evaluation_loop(logdir, eval_fn, data, metrics, eval_interval_secs=60)`
# does what TF-Slim's did: it waits for new checkpoints in a logdir while training runs
# elsewhere, and evaluates each one. The command line wraps all of this:
# `minislim eval --logdir DIR` evaluates the newest checkpoint that `minislim train` wrote.
#
# ## Summary
#
# * `train` writes checkpoints; a checkpoint is a plain `.npz` keyed by variable names, with
#   the optimizer's slots and the training state;
# * `restore` is strict and lists every problem; `diff` says what a restore would do and
#   suggests the fix;
# * resuming continues exactly where the run stopped, bit for bit;
# * fine-tuning = `get_variables_to_restore(exclude=[new layers])` +
#   `assign_from_checkpoint_fn` as `init_fn`;
# * `evaluate_once` restores a checkpoint into an evaluation model and streams metrics.
