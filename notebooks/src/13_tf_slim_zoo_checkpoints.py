# %% [markdown]
# # 13 · A TF-Slim zoo model, without TensorFlow
#
# TF-Slim's pretrained networks (`vgg_16.ckpt`, `inception_v1.ckpt`, `resnet_v1_50.ckpt`,
# ...) are TensorFlow checkpoints. In this notebook we:
#
# 1. open a TensorFlow checkpoint with NumPy and look at what it holds;
# 2. build `vgg_16` with TF-Slim's exact variable names and load the checkpoint into it;
# 3. preprocess an image as the zoo expects and print the top-5 classes;
# 4. look at the first layer's feature maps.
#
# If the real `vgg_16.ckpt` (from TF-Slim's zoo tarball) is at the path in the
# `VGG_16_CKPT` environment variable, it is used. Otherwise the notebook writes a
# checkpoint of **random weights** in TensorFlow's format first (and says so): the
# mechanics are identical, but the predicted classes then mean nothing.
#
# Running vgg_16 on one 224x224 image in NumPy takes a few seconds.

# %%
import os
import tempfile

import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim.checkpoint import tensorflow as tf_format
from minislim.datasets import cifar10
from minislim.nets import nets_factory
from minislim.preprocessing import preprocessing_factory

workdir = tempfile.mkdtemp(prefix="notebook13_")
rng = np.random.default_rng(0)

# %% [markdown]
# ## A checkpoint
#
# A V2 checkpoint is a *prefix*: `vgg_16.ckpt.index` (a sorted table: name -> dtype,
# shape, offset, checksum) and `vgg_16.ckpt.data-00000-of-00001` (the raw bytes). The
# zoo's 2016 tarballs hold V1 files (one table holding everything); minislim reads both.

# %%
checkpoint_path = os.environ.get("VGG_16_CKPT")
if checkpoint_path and tf_format.find(checkpoint_path):
    print("using the zoo checkpoint", checkpoint_path)
else:
    print("no zoo checkpoint (set VGG_16_CKPT): writing RANDOM vgg_16 weights in TensorFlow's V2 format")
    with slim.Graph().as_default():
        with slim.arg_scope(nets_factory.arg_scopes_map["vgg_16"]()):
            nets_factory.networks_map["vgg_16"](slim.tensor(np.zeros((1, 224, 224, 3), np.float32)),
                                                is_training=False)
        random_weights = {v.name: v.numpy() for v in slim.get_variables()}
    checkpoint_path = tf_format.write_v2(os.path.join(workdir, "vgg_16.ckpt"), random_weights)
    del random_weights

for name, shape in slim.checkpoint.list_variables(checkpoint_path)[:6]:
    print(f"{name:40s} {shape}")
print("...", len(slim.checkpoint.list_variables(checkpoint_path)), "tensors")

# %% [markdown]
# ### Exercise: read a varint
#
# The index is a sorted table of small protocol-buffer messages, and their integers (a
# dtype's number, each size of a shape, a tensor's offset and length in the data file) are
# *varints*: 7 bits a byte, the lowest group first, the top bit of a byte set when another
# byte follows. `300` is stored as `0xAC 0x02`: `0x2C` (44) plus `2 << 7` (256). Write the
# reader; the checker reads a shape, edge values such as 127 and 128, and a 9 GB offset
# with yours and with `minislim.checkpoint.protobuf.read_varint`. A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/read_varint.py


read_varint_result = exercises.check(read_varint, "read_varint")

# %% [markdown]
# `list_variables` reads the index only. Loading checks every tensor's CRC32C checksum
# and its size against its dtype and shape (see docs/tf_checkpoints.md for the format).
#
# ## The network and the checkpoint
#
# `nets_factory.get_network_fn` builds the net inside its arg scope; the variables are
# named as in TF-Slim (`vgg_16/conv1/conv1_1/weights`), so `assign_from_checkpoint_fn`
# matches them by name.

# %%
network_fn = nets_factory.get_network_fn("vgg_16", num_classes=1000, is_training=False)
preprocess = preprocessing_factory.get_preprocessing("vgg_16")

images, labels = cifar10.load(split="test", num_examples=1)            # a real (small) photo
photo = np.kron(images[0], np.ones((8, 8, 1), dtype=np.uint8))         # 32x32 -> 256x256, blocky
batch = preprocess(photo, 224, 224)[None]
print("input", batch.shape, batch.dtype, "- a CIFAR-10", cifar10.class_names()[labels[0]])

graph = slim.Graph()
with graph.as_default():
    logits, end_points = network_fn(slim.tensor(batch))                 # creates the variables
    result = slim.assign_from_checkpoint_fn(checkpoint_path, slim.get_variables_to_restore())()
    print("restored", len(result.restored), "variables")
    with slim.variable_scope(slim.get_variable_scope(), reuse=True), slim.no_grad():
        logits, end_points = network_fn(slim.tensor(batch))

# %% [markdown]
# ## Top-5 classes
#
# vgg_16's checkpoint has 1000 ImageNet classes (no background class). With random
# weights, the probabilities are close to uniform.

# %%
probabilities = slim.nn.softmax(logits).numpy()[0]
for index in np.argsort(-probabilities)[:5]:
    print(f"class {index:4d}: {probabilities[index]:.4f}")

# %% [markdown]
# ## Feature maps
#
# The first convolution's 64 filters each produce a 224x224 map; here are 16 of them.

# %%
maps = end_points["vgg_16/conv1/conv1_1"].numpy()[0]
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for k, ax in enumerate(axes.flat):
    ax.imshow(maps[:, :, k], cmap="viridis")
    ax.set_title(f"filter {k}", fontsize=8)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Back to TensorFlow
#
# `slim.checkpoint.convert` (or `minislim convert`) writes an `.npz`, or a V2 checkpoint
# that TensorFlow reads (`tf.train.load_checkpoint(prefix)`).

# %%
with graph.as_default():
    first_layer = {v.name: v.numpy() for v in slim.get_variables("vgg_16/conv1/conv1_1")}
prefix = tf_format.write_v2(os.path.join(workdir, "first_layer.ckpt"), first_layer)
print(sorted(os.listdir(workdir)))
print(slim.checkpoint.list_variables(prefix))

# %%
import shutil

shutil.rmtree(workdir)   # the random vgg_16 checkpoint is 528 MB: do not leave it behind
