# %% [markdown]
# # 04 · Slim layers, scopes and `arg_scope`
#
# TF-Slim made a network definition short: one line per layer, names that come out right,
# and the arguments every layer shares written once. minislim keeps that API, names
# included, on top of the autograd engine of notebooks 01-03. This notebook covers:
#
# 1. **variables**: how they are created, named and collected;
# 2. **scopes**: full names, default names, sharing variables (`reuse`, `make_template`);
# 3. what a **layer** does behind its one line;
# 4. **`repeat`** and **`stack`**: several layers in one line;
# 5. **`arg_scope`**: shared defaults, `explain_arg_scope` to see who set what, and a
#    picture of what the scopes built (`slim.viz.draw`);
# 6. the **VGG-16 definition** of the TF-Slim README, the library's nets, and the
#    **model analyzer**;
# 7. two layers **you write**, forward and backward: dropout and batch norm.
#
# Everything runs on tiny inputs: building is fast, and a layer runs as soon as it is called.

# %%
import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import exercises
from minislim.nets import vgg

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)
images = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)   # [N, H, W, C], as everywhere in minislim

# %% [markdown]
# ## 1. Variables
#
# A variable is a `Tensor` that lives in a **graph** (`slim.get_default_graph()`) under a
# name. `slim.variable` creates one in the current scope; `slim.model_variable` does the
# same and also files it under `MODEL_VARIABLES` (the variables that *are* the model, as
# opposed to, say, the global step or an optimizer's slots). A regularizer adds a loss to
# `REGULARIZATION_LOSSES`.
#
# Each section below builds in a fresh `slim.Graph()`, so that names start over and the
# sections do not see each other's variables.

# %%
with slim.Graph().as_default():
    slim.set_random_seed(0)
    weights = slim.model_variable("weights", shape=[3, 3, 3, 8],
                                  initializer=slim.truncated_normal_initializer(stddev=0.1),
                                  regularizer=slim.l2_regularizer(0.05))
    step = slim.variable("my_step", shape=[], initializer=slim.zeros_initializer(), trainable=False)
    print(weights)
    print("all       :", [v.name for v in slim.get_variables()])
    print("model     :", [v.name for v in slim.get_model_variables()])
    print("trainable :", [v.name for v in slim.get_trainable_variables()])
    (reg,) = slim.get_collection(slim.GraphKeys.REGULARIZATION_LOSSES)
    print("L2 loss   :", round(reg.item(), 5), "=", round(0.05 * float((weights.data ** 2).sum()) / 2, 5))

# %% [markdown]
# The initial values come from the graph's seeded generators: the same seed gives the
# same weights, in any process. `slim.set_random_seed(s)` reseeds them (a new graph starts
# from seed 0).

# %%
def first_weights(seed):
    with slim.Graph().as_default():
        slim.set_random_seed(seed)
        return slim.variable("w", shape=[4]).data

print(first_weights(1), first_weights(1), first_weights(2), sep="\n")

# %% [markdown]
# ## 2. Scopes and names
#
# `slim.variable_scope(name)` prefixes every name created inside it; scopes nest. A
# variable's full name is an API: checkpoints are keyed by it (notebook 06).

# %%
with slim.Graph().as_default():
    with slim.variable_scope("model"):
        with slim.variable_scope("block1"):
            slim.variable("weights", shape=[2])
        slim.variable("weights", shape=[2])
    print([v.name for v in slim.get_variables()])

    # Asking for an existing name again is an error, unless the scope reuses:
    try:
        with slim.variable_scope("model"):
            slim.variable("weights", shape=[2])
    except ValueError as error:
        print("ValueError:", str(error)[:120], "...")
    with slim.variable_scope("model", reuse=True):
        same = slim.variable("weights", shape=[2])
    print("reused:", same.name, same is slim.get_unique_variable("model/weights"))

# %% [markdown]
# A layer called without `scope=` gets a **default name**: `Conv`, `Conv_1`, `Conv_2`, ...,
# counted per enclosing scope.

# %%
with slim.Graph().as_default():
    net = slim.conv2d(images, 4, [3, 3])
    net = slim.conv2d(net, 4, [3, 3])
    with slim.variable_scope("head"):
        net = slim.conv2d(net, 4, [3, 3])
    print([v.name for v in slim.get_variables()])

# %% [markdown]
# ### Calling a model twice: `make_template`
#
# TF-Slim built a graph once and then ran it many times. minislim is *eager*: the model
# function runs again at every step, and a second call would try to create
# `conv1/weights` a second time. `slim.make_template(name, fn)` wraps the function: the
# first call creates the variables, every later call reuses them. (The training loop of
# notebook 05 does this for you.)

# %%
def tiny_model(x):
    net = slim.conv2d(x, 8, [3, 3], scope="conv1")
    return slim.fully_connected(slim.flatten(net), 10, activation_fn=None, scope="logits")

with slim.Graph().as_default():
    tiny_model(images)
    try:
        tiny_model(images)
    except ValueError as error:
        print("second call:", str(error)[:110], "...")

with slim.Graph().as_default():
    model = slim.make_template("net", tiny_model)
    first, second = model(images), model(images)
    print([v.name for v in slim.get_variables()])
    print("same weights, same outputs:", np.array_equal(first.data, second.data))

# %% [markdown]
# ## 3. What a layer does
#
# `slim.conv2d(inputs, 16, [3, 3], scope="conv1")` opens the scope `conv1`, creates
# `conv1/weights` `[3, 3, C, 16]` (Glorot uniform) and `conv1/biases` `[16]` (zeros),
# convolves with SAME padding and stride 1, adds the biases and applies a ReLU. Here is
# the same computation by hand, with the layer's own variables:

# %%
with slim.Graph().as_default():
    out = slim.conv2d(images, 16, [3, 3], scope="conv1")
    w, b = slim.get_unique_variable("conv1/weights"), slim.get_unique_variable("conv1/biases")
    by_hand = slim.nn.relu(slim.nn.conv2d(slim.tensor(images), w, stride=1, padding="SAME") + b)
    print(out.shape, w.shape, b.shape)
    print("layer == by hand:", np.allclose(out.data, by_hand.data))

# %% [markdown]
# The output is an ordinary `Tensor` connected to the variables, so gradients flow to
# them as in notebook 01:

# %%
with slim.Graph().as_default():
    logits = tiny_model(images)
    loss = slim.losses.sparse_softmax_cross_entropy(logits, np.array([3, 7]))
    loss.backward()
    for v in slim.get_trainable_variables():
        print(f"{v.name:16s} grad norm {np.linalg.norm(v.grad):.4f}")

# %% [markdown]
# Layer errors name the layer, its full scope, and what was expected:

# %%
with slim.Graph().as_default():
    for call in (lambda: slim.conv2d(images.reshape(2, -1), 8, [3, 3], scope="conv1_1"),
                 lambda: slim.conv2d(images, 8, [3, 3, 3], scope="conv1_2")):
        try:
            call()
        except (ValueError, TypeError) as error:
            print(f"{type(error).__name__}: {error}")

# %% [markdown]
# ## 4. `repeat` and `stack`
#
# VGG repeats the same convolution two or three times. The TF-Slim README's example:
#
# ```python
# net = slim.conv2d(net, 256, [3, 3], scope='conv3_1')
# net = slim.conv2d(net, 256, [3, 3], scope='conv3_2')
# net = slim.conv2d(net, 256, [3, 3], scope='conv3_3')
# ```
#
# is one line with `slim.repeat`, which also nests the scopes (`conv3/conv3_1`, ...):

# %%
with slim.Graph().as_default():
    net = slim.repeat(images, 3, slim.conv2d, 16, [3, 3], scope="conv3")
    print([v.name for v in slim.get_variables()])

# %% [markdown]
# `slim.stack` calls the layer once per entry of a list, for layers that differ: a
# multi-layer perceptron, or a stack of convolutions of different sizes.

# %%
with slim.Graph().as_default():
    x = slim.flatten(slim.tensor(images))
    mlp = slim.stack(x, slim.fully_connected, [32, 64, 128], scope="fc")
    convs = slim.stack(images, slim.conv2d, [(32, [3, 3]), (32, [1, 1]), (64, [3, 3]), (64, [1, 1])],
                       scope="core")
    for v in slim.get_variables():
        print(f"{v.name:22s} {v.shape}")
    print(mlp.shape, convs.shape)

# %% [markdown]
# ## 5. `arg_scope`: arguments written once
#
# Layers of one network share most of their arguments. `slim.arg_scope([ops], **kwargs)`
# sets defaults for the listed ops inside a block; an argument given at the call site
# wins, and inner scopes win over outer ones. The README's example:

# %%
big = rng.standard_normal((1, 64, 64, 3)).astype(np.float32)
with slim.Graph().as_default():
    with slim.arg_scope([slim.conv2d], padding="SAME",
                        weights_initializer=slim.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
        net = slim.conv2d(big, 64, [11, 11], 4, scope="conv1")
        net = slim.conv2d(net, 128, [11, 11], padding="VALID", scope="conv2")
        net = slim.conv2d(net, 256, [11, 11], scope="conv3")
    print(net.shape, "- conv2 was VALID, the others SAME")
    print(len(slim.get_collection(slim.GraphKeys.REGULARIZATION_LOSSES)), "regularization losses")

# %% [markdown]
# With several nested scopes it can be hard to tell where a value comes from.
# `slim.explain_arg_scope(op, *args, **kwargs)` prints every argument the call would
# receive and who set it: the call site, an `arg_scope` (file, line and nesting depth;
# in a notebook the "file" is the cell) or the default. It also returns the same as a dict.

# %%
def small_arg_scope(weight_decay=0.0005, is_training=True):
    """The nets' pattern: a function that returns a saved scope."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=slim.nn.relu,
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        normalizer_fn=slim.batch_norm):
        with slim.arg_scope([slim.batch_norm], is_training=is_training, decay=0.9, scale=True):
            with slim.arg_scope([slim.conv2d], padding="SAME") as sc:
                return sc

with slim.arg_scope(small_arg_scope()):
    with slim.arg_scope([slim.conv2d], padding="VALID"):
        report = slim.explain_arg_scope(slim.conv2d, big, 32, [3, 3], stride=2)

# %%
print("padding:", report["padding"][0], "<-", report["padding"][1].split(" at ")[0], "(inner scope wins)")
print("stride :", report["stride"])
print("normalizer_fn:", report["normalizer_fn"][0].__name__, "<-", report["normalizer_fn"][1].split(" at ")[0])

# %% [markdown]
# ### What the scopes built, in a picture
#
# One line per layer hides a lot. Here is a small model written with `repeat` under
# `small_arg_scope`, and its total loss (the cross-entropy plus the L2 terms the
# regularizers added). Its graph has a few dozen ops, too many to read one by one;
# `slim.viz.draw(loss, collapse="scope")` folds each layer scope into one box that lists
# the ops the layer ran, `+ weight decay` when a regularizer added its loss, and the
# variables it owns with their shapes. The arrows between boxes carry the activations,
# labelled with their shapes.

# %%
with slim.Graph().as_default():
    with slim.arg_scope(small_arg_scope()):
        net = slim.repeat(images, 2, slim.conv2d, 8, [3, 3], scope="conv1")
        net = slim.max_pool2d(net, [2, 2], scope="pool1")
        logits = slim.fully_connected(slim.flatten(net), 10, activation_fn=None, normalizer_fn=None,
                                      scope="logits")
    slim.losses.sparse_softmax_cross_entropy(logits, np.array([3, 7]))
    total_loss = slim.losses.get_total_loss()
every_op = slim.viz.picture(total_loss)       # every op and tensor, as notebook 01 drew them
print(sum(node.kind == "op" for node in every_op.nodes), "ops and",
      sum(node.kind == "tensor" for node in every_op.nodes), "tensors behind the loss")
slim.viz.draw(total_loss, collapse="scope")  # the last line of a cell: Jupyter shows the picture

# %% [markdown]
# Read the boxes against the code:
#
# * `repeat` made `conv1/conv1_1` and `conv1/conv1_2`, and each runs `Conv2D`,
#   `BatchNormTraining` and `ReLU`: the convolution from the call, batch norm and ReLU
#   from the arg_scope (`normalizer_fn`, `activation_fn`). Batch norm replaced the biases:
#   those boxes own `weights`, `BatchNorm/gamma` and `BatchNorm/beta`, and no `biases`.
# * `logits` turned the arg_scope's batch norm and ReLU off at the call site
#   (`normalizer_fn=None`, `activation_fn=None`), so it has `biases` and runs
#   `MatMul BiasAdd` only; `Flatten` is a layer without variables.
# * Every layer with weights says `+ weight decay`: the regularizer's term is computed
#   from that layer's weights alone, so it is drawn inside it; the chain of `Add`s at the
#   bottom is `get_total_loss` adding those three terms to the mean cross-entropy.
#
# Notebook 14 draws the whole `vgg_cifar` this way, one page for the full model.

# %% [markdown]
# Two things minislim adds to TF-Slim here: a misspelt keyword fails when the scope is
# *entered* (not at the first call deep inside a network), and scopes are keyed by the
# op's qualified name, so re-running a notebook cell that redefines a decorated function
# does not silently detach it from saved scopes.

# %%
try:
    with slim.arg_scope([slim.conv2d], weight_initializer=slim.xavier_initializer()):
        pass
except TypeError as error:
    print(error)

# %% [markdown]
# ## 6. VGG-16, as the TF-Slim README writes it
#
# The README defines VGG-16 in 20 lines with `repeat` and `arg_scope`. The same text runs
# in minislim, with `slim.nn.relu` for `tf.nn.relu` and `slim.truncated_normal_initializer`
# for `tf.truncated_normal_initializer`:

# %%
def vgg16(inputs):
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        activation_fn=slim.nn.relu,
                        weights_initializer=slim.truncated_normal_initializer(0.0, 0.01),
                        weights_regularizer=slim.l2_regularizer(0.0005)):
        net = slim.repeat(inputs, 2, slim.conv2d, 64, [3, 3], scope="conv1")
        net = slim.max_pool2d(net, [2, 2], scope="pool1")
        net = slim.repeat(net, 2, slim.conv2d, 128, [3, 3], scope="conv2")
        net = slim.max_pool2d(net, [2, 2], scope="pool2")
        net = slim.repeat(net, 3, slim.conv2d, 256, [3, 3], scope="conv3")
        net = slim.max_pool2d(net, [2, 2], scope="pool3")
        net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope="conv4")
        net = slim.max_pool2d(net, [2, 2], scope="pool4")
        net = slim.repeat(net, 3, slim.conv2d, 512, [3, 3], scope="conv5")
        net = slim.max_pool2d(net, [2, 2], scope="pool5")
        net = slim.fully_connected(net, 4096, scope="fc6")
        net = slim.dropout(net, 0.5, scope="dropout6")
        net = slim.fully_connected(net, 4096, scope="fc7")
        net = slim.dropout(net, 0.5, scope="dropout7")
        net = slim.fully_connected(net, 1000, activation_fn=None, scope="fc8")
    return net

# %% [markdown]
# We build it on one 32x32 image rather than 224x224: the convolutions are the same, only
# the maps are smaller (five 2x2 poolings take 32 down to 1). Creating the ~38 million
# weights still takes a few seconds.

# %%
with slim.Graph().as_default():
    out = vgg16(np.zeros((1, 32, 32, 3), np.float32))
    print("output:", out.shape)
    readme_size, readme_bytes = slim.model_analyzer.analyze_vars(slim.get_model_variables())
    readme_shapes = {v.name: v.shape for v in slim.get_model_variables()}

# %% [markdown]
# Two things to notice in that table:
#
# * the names are exactly those of a TF-Slim checkpoint of VGG-16 (`conv1/conv1_1/weights`
#   ...), which is what lets a checkpoint move between the two;
# * `fc6/weights` is `[512, 4096]`, not `[7 * 7 * 512, 4096]`. `fully_connected` acts on
#   the **last axis** of its input (as in TF-Slim), and the README never flattens, so
#   "fc6" is applied at each position of the `[N, 7, 7, 512]` map (here `[1, 1, 1, 512]`).
#   The real VGG-16 (`minislim.nets.vgg.vgg_16`, a copy of TF-Slim's `nets/vgg.py`) writes
#   fc6 as a 7x7 **convolution** instead, so it sees the whole map, and it runs on any
#   image size (with `fc_conv_padding`), giving a map of class scores on large images.
#
# `vgg_16`'s 138 million parameters take half a gigabyte and several seconds to create,
# so rather than build it we count them, block by block, and check the convolutions
# against the model we just built:

# %%
blocks = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]   # (convolutions, width) per block
counts, macs, channels, size = {}, {}, 3, 224              # parameters, multiply-adds on a 224x224 image
for i, (repeats, width) in enumerate(blocks, start=1):
    for j in range(1, repeats + 1):
        counts[f"conv{i}_{j}"] = 3 * 3 * channels * width + width
        macs[f"conv{i}_{j}"] = size * size * 3 * 3 * channels * width
        channels = width
    size //= 2                                              # the 2x2 max-pool after each block
for name, fan_in, fan_out in [("fc6 (7x7 conv)", 7 * 7 * 512, 4096), ("fc7", 4096, 4096), ("fc8", 4096, 1000)]:
    counts[name], macs[name] = fan_in * fan_out + fan_out, fan_in * fan_out
print(f"vgg_16 parameters: {sum(counts.values()):,}")

conv_part = sum(n for name, n in counts.items() if name.startswith("conv"))
readme_conv = sum(int(np.prod(s)) for name, s in readme_shapes.items() if name.startswith("conv"))
print(f"convolutions: {conv_part:,} parameters counted, {readme_conv:,} built")
fc_share = 1 - conv_part / sum(counts.values())
conv_macs = sum(n for name, n in macs.items() if name.startswith("conv")) / sum(macs.values())
print(f"fully connected layers: {fc_share:.1%} of the parameters; convolutions: {conv_macs:.1%} of the "
      f"{sum(macs.values()) / 1e9:.1f} G multiply-adds per 224x224 image")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for ax, values, label in [(axes[0], counts, "parameters (millions)"), (axes[1], macs, "multiply-adds (millions)")]:
    ax.bar(range(len(values)), [n / 1e6 for n in values.values()], color="tab:blue")
    ax.set_xticks(range(len(values)), list(values), rotation=70, ha="right", fontsize=7)
    ax.set_ylabel(label)
axes[0].set_title("VGG-16: where the parameters are")
axes[1].set_title("... and where the computation is")
plt.tight_layout()
plt.show()

# %% [markdown]
# Nearly 90% of VGG-16's parameters are in the three fully connected layers (fc6 alone
# holds three quarters), but almost all of its *computation* is in the convolutions: each
# 3x3 weight is used at every position of a large map, each fc weight once per image. The command line prints the analyzer's table of any
# net of the library: `minislim summary --net vgg_16`.
#
# ### The library's nets: `vgg_cifar`
#
# `minislim.nets` holds TF-Slim's nets (`vgg_a`, `vgg_16`, `vgg_19`, `lenet`,
# `cifarnet`) and `vgg_cifar`, the small VGG that notebook 05 trains on CIFAR-10. Each net
# comes with its `arg_scope` function, and returns `(logits, end_points)`: a dict of every
# layer's output, keyed by its full scope name, handy for looking inside the network.

# %%
with slim.Graph().as_default():
    with slim.arg_scope(vgg.vgg_cifar_arg_scope()):
        logits, end_points = vgg.vgg_cifar(np.zeros((1, 32, 32, 3), np.float32), is_training=False)
    for name, value in end_points.items():
        print(f"{name:28s} {value.shape}")
    print()
    total_size, total_bytes = slim.model_analyzer.analyze_vars(slim.get_model_variables())

# %% [markdown]
# Batch normalisation (set by `vgg_cifar_arg_scope`) replaces each convolution's biases
# with `BatchNorm/beta` and a learned scale `gamma`, plus two statistics, `moving_mean`
# and `moving_variance`, that are model variables but are not trained by gradient
# descent (they are updated in place during training):

# %%
with slim.Graph().as_default():
    with slim.arg_scope(vgg.vgg_cifar_arg_scope()):
        vgg.vgg_cifar(np.zeros((1, 32, 32, 3), np.float32))
    model_vars = {v.name for v in slim.get_model_variables()}
    trainable = {v.name for v in slim.get_trainable_variables()}
    print(sorted(model_vars - trainable)[:4], "...")
    print(f"{len(model_vars)} model variables, {len(trainable)} trainable")

# %% [markdown]
# ## 7. Two layers you write: dropout and batch norm
#
# `slim.dropout` and `slim.batch_norm` behave differently in training and in evaluation
# (`is_training`). Here you write the training-mode op of each, forward and backward.
#
# **Dropout** zeroes each activation with probability `rate` while training, so that no
# unit can rely on one particular other unit. *Inverted* dropout (TF's and minislim's)
# divides the kept activations by `1 - rate`, so the expected output equals the input and
# evaluation is simply the identity. The mask is a constant, so the backward multiplies
# `grad_output` by the same mask and scale. (`slim.dropout` takes `keep_prob = 1 - rate`.)

# %%
# include: minislim/exercises/skeletons/dropout.py


dropout_result = exercises.check(Dropout, "dropout")

# %% [markdown]
# **Batch normalisation** (what `normalizer_fn=slim.batch_norm` adds after each
# convolution of `vgg_cifar`) standardises every feature over the batch, then lets the
# network rescale it: with $\mu, \sigma^2$ the batch mean and (biased) variance of a
# feature, $\hat x = (x - \mu) / \sqrt{\sigma^2 + \epsilon}$ and $y = \gamma \hat x + \beta$.
# The backward has a catch: $\mu$ and $\sigma$ are computed from the whole batch, so
# every $x_n$ moves every output of its feature. Summed up, the three paths (through
# $\hat x$, $\mu$ and $\sigma$) give the simplified form, with means over the batch and
# $d\hat x = g \gamma$:
#
# $$\frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2 + \epsilon}}\left(d\hat x - \overline{d\hat x}
# - \hat x \, \overline{d\hat x \, \hat x}\right).$$
#
# Notebook 07 derives it on the graph. Write the op for `x` `[N, D]` (for images the
# statistics run over N, H and W); the checker knows the classic mistakes: the first term
# only, the means over the wrong axis, `gamma`'s and `beta`'s gradients left unsummed.

# %%
# include: minislim/exercises/skeletons/batch_norm.py


batch_norm_result = exercises.check(BatchNorm, "batch_norm")

# %% [markdown]
# ## Summary
#
# * Variables have names, live in a graph, and are collected (`get_variables`,
#   `get_model_variables`, `get_trainable_variables`, `REGULARIZATION_LOSSES`).
# * Scopes build the names; `reuse` and `make_template` share variables between calls.
# * A layer is a scope, its variables and a few ops; `repeat` and `stack` write several in
#   one line; `arg_scope` writes their shared arguments once, and `explain_arg_scope`
#   tells you where each value came from; `slim.viz.draw(loss, collapse="scope")` shows
#   what each layer ran and owns.
# * The README's VGG-16 runs as written; the library's `vgg_16` is TF-Slim's own, with the
#   same checkpoint names.
#
# Next: notebook 05 trains `vgg_cifar` on the CIFAR-10 subset that ships with minislim.
