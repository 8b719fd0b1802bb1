"""Layer 6: losses (``slim.losses``), with TF-Slim's names, signatures and semantics.

Every loss returns a scalar Tensor (the weighted mean over non-zero weights) and adds it
to the LOSSES collection; ``get_total_loss()`` sums them with the regularization losses.

>>> import numpy as np
>>> import minislim as slim
>>> logits = slim.tensor([[2.0, 0.0], [0.0, 2.0]])
>>> labels = slim.nn.one_hot(np.array([0, 0]), 2)
>>> loss = slim.losses.softmax_cross_entropy(logits, labels)
>>> round(loss.item(), 4), len(slim.losses.get_losses())
(1.1269, 1)
"""
from minislim.losses.classification import hinge_loss, log_loss
from minislim.losses.collection import (add_loss, get_losses, get_regularization_losses,
                                        get_total_loss)
from minislim.losses.cross_entropy import (sigmoid_cross_entropy, softmax_cross_entropy,
                                           sparse_softmax_cross_entropy)
from minislim.losses.regression import (absolute_difference, cosine_distance, huber_loss,
                                        mean_pairwise_squared_error, mean_squared_error, sum_of_squares)
from minislim.losses.weighting import Reduction, compute_weighted_loss

__all__ = ["softmax_cross_entropy", "sparse_softmax_cross_entropy", "sigmoid_cross_entropy",
           "sum_of_squares", "mean_squared_error", "absolute_difference", "hinge_loss", "log_loss",
           "cosine_distance", "compute_weighted_loss", "add_loss", "get_losses",
           "get_regularization_losses", "get_total_loss", "huber_loss", "mean_pairwise_squared_error",
           "Reduction"]
