"""The training recipe of ``minislim train``: each ingredient in one small function.

A recipe is everything about a training run except the net and the data: the input
pipeline (augmentation), the loss (label smoothing), the optimizer (learning rate,
warm-up and schedule, momentum, weight decay) and how evaluation reads the model (flip
averaging). ``minislim train`` builds its run from :class:`Recipe`'s defaults, and the
benchmarks and ablations (``bench/train_cifar.py``, ``bench/ablations.py``) build theirs
from the same functions with one field changed, so an ablation measures exactly what
the command line does. docs/training.md, "The default recipe", explains each choice and
the measurement behind it.

>>> recipe = Recipe()
>>> recipe.warmup_steps(total_steps=3140)
314
>>> Recipe(label_smoothing=0.0).label_smoothing
0.0
"""
from __future__ import annotations

import dataclasses

import numpy as np

from minislim import data, losses
from minislim.autograd.tensor import Tensor
from minislim.ops.shape_ops import one_hot
from minislim.optimizers import Momentum, cosine_decay


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The settings of a run (defaults: ``minislim train``'s recipe for vgg_cifar).

    Attributes:
        learning_rate: the peak of the schedule.
        momentum, nesterov: SGD with (Nesterov) momentum.
        weight_decay: L2 decay strength.
        decay_all_variables: True: the optimizer decays every trained variable (batch
            norm's scale and offset and the biases too, as PyTorch's ``weight_decay``);
            False: TF-Slim's way, an ``l2_regularizer`` on the layers' weights only.
        warmup_fraction: the share of the steps over which the rate rises linearly from
            0 to its peak, before the cosine decay to 0.
        label_smoothing: ``s``: the target puts ``1 - s + s/C`` on the true class.
        augment: random 4-pixel translations and horizontal flips.
        pad_with_mean: pad the crops after normalising (with the mean, 0), not with black.
        flip_averaging: evaluation averages the logits of each image and its mirror
            (only for nets trained with flips).
        dropout_keep_prob: the keep probability of the net's dropout; None: the net's own
            default (vgg_cifar: 1.0, no dropout; it was 0.5 before issue 11).
    """

    learning_rate: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    decay_all_variables: bool = True
    warmup_fraction: float = 0.1
    label_smoothing: float = 0.1
    augment: bool = True
    pad_with_mean: bool = True
    flip_averaging: bool = True
    dropout_keep_prob: float | None = None

    def replace(self, **changes) -> "Recipe":
        """A copy with ``changes`` (an ablation: one ingredient changed)."""
        return dataclasses.replace(self, **changes)

    def warmup_steps(self, total_steps: int) -> int:
        """Steps of linear warm-up in a run of ``total_steps``."""
        return int(round(self.warmup_fraction * total_steps))

    def net_weight_decay(self) -> float:
        """The weight decay for the net's ``arg_scope`` (its ``l2_regularizer``)."""
        return 0.0 if self.decay_all_variables else self.weight_decay


def augmentation(image_size: int, mean, std, recipe: Recipe):
    """The transform a training batch goes through: ``uint8 [N, H, W, C] -> float32``.

    Padding a crop with zeros *after* normalising pads it with the data set's mean; before,
    with black, a colour the network sees nowhere else (3-5 points of test accuracy on
    CIFAR-10 in 20 epochs: docs/training.md).
    """
    normalize = data.Normalize(mean, std)
    if not recipe.augment:
        return data.Compose([normalize])
    moves = [data.RandomCrop(image_size, padding=4), data.RandomFlip()]
    return data.Compose([normalize, *moves] if recipe.pad_with_mean else [*moves, normalize])


def train_pipeline(images, labels, mean, std, batch_size: int, seed: int, recipe: Recipe, communicator=None):
    """Shuffled, augmented, normalised batches ``(images float32, labels)`` for training (with a
    ``communicator``: this process's shard of each global batch of ``batch_size``)."""
    return data.batches(images, labels, batch_size=batch_size, shuffle=True, seed=seed,
                        augment=augmentation(images.shape[1], mean, std, recipe), communicator=communicator)


def classification_loss(logits, labels, recipe: Recipe):
    """Softmax cross-entropy (added to the LOSSES collection), with the recipe's label smoothing."""
    if recipe.label_smoothing:
        targets = one_hot(np.asarray(labels), logits.shape[-1])
        return losses.softmax_cross_entropy(logits, targets, label_smoothing=recipe.label_smoothing)
    return losses.sparse_softmax_cross_entropy(logits, labels)


def optimizer(recipe: Recipe, total_steps: int):
    """SGD with Nesterov momentum; linear warm-up, then cosine decay to 0 at ``total_steps``."""
    warmup = min(recipe.warmup_steps(total_steps), total_steps - 1)
    schedule = cosine_decay(recipe.learning_rate, decay_steps=max(total_steps - warmup, 1), warmup_steps=warmup)
    return Momentum(schedule, recipe.momentum, use_nesterov=recipe.nesterov,
                    weight_decay=recipe.weight_decay if recipe.decay_all_variables else 0.0)


def flip_averaged_logits(network_fn, images):
    """The mean of the logits of ``images`` ``[N, H, W, C]`` and of their mirror images.

    Test-time augmentation with the one transform the net was trained to ignore: a mirrored
    cat is still a cat, and two views of each image average out part of the net's errors
    (about one point on CIFAR-10). One forward pass over both views ``[2N, H, W, C]``: in
    evaluation mode batch norm uses its moving averages, so each image is still computed
    on its own.
    """
    images = np.asarray(images)
    logits, _ = network_fn(Tensor(np.concatenate([images, images[:, :, ::-1]])))
    count = len(images)
    return (logits[:count] + logits[count:]) * 0.5
