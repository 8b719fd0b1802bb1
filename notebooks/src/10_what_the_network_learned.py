# %% [markdown]
# # 10 · What the network learned
#
# A trained network is a pile of numbers; three looks inside make it less mysterious:
#
# 1. the **first-layer filters**, which act directly on pixels and can be drawn as images;
# 2. the **feature maps** of each layer for one image, from the model's `end_points`;
# 3. **saliency**: the gradient of a class score with respect to the input pixels, which
#    says which pixels the decision is most sensitive to.
#
# The network is small (three convolutions, the first with stride 2) and trains for 200
# steps, about 20 seconds on two cores: enough for recognisable filters, not for a good
# classifier.

# %%
import matplotlib.pyplot as plt  # Jupyter draws figures inline: no display needed
import numpy as np

import minislim as slim
from minislim import data
from minislim.datasets import cifar10

np.set_printoptions(precision=3, suppress=True)

train_images, train_labels = cifar10.load(split="train")
test_images, test_labels = cifar10.load(split="test")
class_names = cifar10.class_names()
mean, std = data.channel_stats(train_images)
train_x, test_x = data.normalize(train_images, mean, std), data.normalize(test_images, mean, std)

# %% [markdown]
# ## The model and its `end_points`
#
# TF-Slim's nets return `(logits, end_points)`: a dict of the intermediate outputs by
# name, so that any layer's activations can be looked at (or used as features, notebook
# 11) without rewriting the model. `small_cnn` follows the convention.

# %%
def small_cnn(images, num_classes=10, is_training=True):
    """Logits [N, num_classes] and end_points for images [N, 32, 32, 3]."""
    end_points = {}
    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                        normalizer_params={"is_training": is_training, "decay": 0.9}):
        net = end_points["conv1"] = slim.conv2d(images, 16, [5, 5], stride=2, scope="conv1")
        net = end_points["conv2"] = slim.conv2d(net, 32, [3, 3], scope="conv2")
        net = end_points["pool2"] = slim.max_pool2d(net, [2, 2], scope="pool2")
        net = end_points["conv3"] = slim.conv2d(net, 64, [3, 3], scope="conv3")
        net = end_points["features"] = slim.nn.mean(net, axis=(1, 2))     # global average pool
    logits = end_points["logits"] = slim.fully_connected(net, num_classes, activation_fn=None, scope="logits")
    return logits, end_points

graph = slim.Graph()
with graph.as_default():
    slim.set_random_seed(0)
    net = slim.make_template("cnn", small_cnn)
    _, end_points = net(train_x[:2])
    params = slim.get_trainable_variables()
    for name, tensor in end_points.items():
        print(f"{name:9s} {tensor.shape}")

# %% [markdown]
# ## Training, briefly
#
# 200 steps of 64 augmented images, momentum 0.9, a learning rate decaying along a cosine.

# %%
steps = 200
pipeline = data.batches(train_x, train_labels, batch_size=64, seed=0,
                        augment=data.Compose([data.RandomCrop(32, padding=4), data.RandomFlip()]))
with graph.as_default():
    optimizer = slim.optimizers.Momentum(slim.optimizers.cosine_decay(0.1, steps), momentum=0.9)
    for step in range(steps):
        x, y = pipeline.get_batch(*divmod(step, len(pipeline)))
        logits, _ = net(x)
        loss = slim.losses.sparse_softmax_cross_entropy(logits, y, loss_collection=None)
        optimizer.apply_gradients(optimizer.compute_gradients(loss, params))
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:3d}: loss {loss.item():.3f}")
    with slim.no_grad():
        test_logits, _ = net(test_x, is_training=False)
print(f"test accuracy: {np.mean(test_logits.data.argmax(axis=1) == test_labels):.3f} (chance: 0.1)")

# %% [markdown]
# ## 1. The first-layer filters
#
# `cnn/conv1/weights` is `[5, 5, 3, 16]`: sixteen 5x5 colour filters. Each is drawn as a
# small image (rescaled to [0, 1] on its own), beside the same filters at initialisation
# (a new network with the same seed).

# %%
def filter_images(weights):
    """[KH, KW, 3, OC] -> OC images, each rescaled to [0, 1]."""
    tiles = np.moveaxis(weights, -1, 0)
    low = tiles.min(axis=(1, 2, 3), keepdims=True)
    high = tiles.max(axis=(1, 2, 3), keepdims=True)
    return (tiles - low) / (high - low + 1e-12)

with graph.as_default():
    trained = slim.get_variables("cnn/conv1/weights")[0].data.copy()
with slim.Graph().as_default():
    slim.set_random_seed(0)
    slim.make_template("cnn", small_cnn)(train_x[:2])
    initial = slim.get_variables("cnn/conv1/weights")[0].data.copy()

fig, axes = plt.subplots(2, 16, figsize=(12, 1.9))
for row, (weights, title) in enumerate([(initial, "at initialisation"), (trained, "after 200 steps")]):
    for k, tile in enumerate(filter_images(weights)):
        axes[row, k].imshow(tile, interpolation="nearest")
        axes[row, k].axis("off")
    axes[row, 0].set_title(title, fontsize=9, loc="left")
plt.tight_layout()
plt.show()

# %% [markdown]
# After only 200 steps the noise has begun to organise: compared with their initial
# values, the filters are smoother, and several have become patches of one colour or
# contrasts between two colours (light against dark, blue against orange) in some
# direction. Those are the first things worth detecting in natural images. Longer
# training on more data makes them much cleaner: the first layer of a large ImageNet
# network shows crisp oriented edges and colour blobs.
#
# ## 2. Feature maps, layer by layer
#
# The `end_points` of one test image: what each filter of `conv1`, `conv2` and `conv3`
# responds to, and where. Bright means a strong (post-ReLU) activation.

# %%
index = int(np.flatnonzero(test_labels == class_names.index("horse"))[0])
with graph.as_default(), slim.no_grad():
    _, points = net(test_x[index:index + 1], is_training=False)

fig, axes = plt.subplots(3, 9, figsize=(12, 4.4))
axes[0, 0].imshow(test_images[index])
axes[0, 0].set_title(class_names[test_labels[index]], fontsize=9)
for row, name in enumerate(["conv1", "conv2", "conv3"]):
    maps = points[name].data[0]
    strongest = np.argsort(maps.mean(axis=(0, 1)))[::-1][:8]     # the 8 most active filters
    for col, channel in enumerate(strongest, start=1):
        axes[row, col].imshow(maps[:, :, channel], cmap="magma")
        axes[row, col].set_title(f"{name} #{channel}", fontsize=8)
for ax in axes.ravel():
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# `conv1` (16x16) still looks like the image: edges and colour regions. Each later layer
# combines the previous one's maps over a larger window (`conv3` sees a 19x19 patch of
# the input) at a lower resolution, and its maps look less like the picture and more like
# detectors of parts and textures.
#
# ## 3. Saliency: which pixels matter?
#
# Make the input a tensor that requires a gradient, take the score (logit) of the
# predicted class and back-propagate: `|d score / d pixel|`, maximised over the three
# colour channels, is a map of where a small change of the image would change the score
# most (Simonyan et al., 2014). It costs one backward pass.

# %% [markdown]
# ### Exercise: saliency as an input gradient
#
# Write it before reading the next cell: `score_fn` maps a tensor of images to scores
# `[N, classes]`; return, for every image, the absolute gradient of its *predicted* class's
# score with respect to the pixels, maximised over the channels. The checker runs it on
# small ReLU networks beside a reference. A solution is in `notebooks/solutions/`, but try first.

# %%
from minislim import exercises


# include: minislim/exercises/skeletons/saliency_map.py


saliency_map_result = exercises.check(saliency_map, "saliency_map")

# %%
chosen = [int(np.flatnonzero(test_labels == c)[1]) for c in range(0, 10, 2)]
with graph.as_default():
    images = slim.tensor(test_x[chosen], requires_grad=True)
    scores, _ = net(images, is_training=False)
    predicted = scores.data.argmax(axis=1)
    selected = slim.nn.sum(scores * slim.tensor(np.eye(10, dtype=np.float32)[predicted]))
    selected.backward()
    saliency = np.abs(images.grad).max(axis=-1)

fig, axes = plt.subplots(3, len(chosen), figsize=(10, 6.2))
for k, i in enumerate(chosen):
    axes[0, k].imshow(test_images[i])
    axes[0, k].set_title(f"true: {class_names[test_labels[i]]}\npredicted: {class_names[predicted[k]]}",
                         fontsize=8)
    axes[1, k].imshow(saliency[k], cmap="hot")
    axes[2, k].imshow(test_images[i])
    axes[2, k].imshow(saliency[k], cmap="hot", alpha=0.6)
for ax in axes.ravel():
    ax.axis("off")
axes[1, 0].set_title("saliency", fontsize=8, loc="left")
plt.tight_layout()
plt.show()

# %% [markdown]
# Saliency maps of a small, briefly trained network are noisy (and show a grid: the first
# layer has stride 2, so neighbouring pixels reach the network through different filter
# taps), but the strongest gradients tend to sit on the object's edges rather than on a
# flat background. When they do not, the network may be using the background (sky for
# airplanes, water for ships), which is worth knowing. Gradients are a local view: they
# say what would change the score, not what "caused" it.
#
# ## Takeaways
#
# * First-layer filters can be drawn; trained ones detect colours, contrasts and edges.
# * `end_points` expose every layer's activations; deeper maps are coarser and more
#   abstract.
# * Saliency is one backward pass to the input: `requires_grad=True` on the images.
#
# Next: **11 · Fine-tuning on new classes**, reusing these features for another task.
