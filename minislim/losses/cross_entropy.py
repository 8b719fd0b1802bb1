"""Cross-entropy losses, each a fused op: stable for any logits, gradient in closed form.

With ``log p = log_softmax(z) = z - logsumexp(z)`` (never ``log(softmax(z))``, which is
``-inf`` once a probability underflows):

* softmax cross-entropy, labels ``y`` (rows of a distribution):
  ``L = -sum(y * log p)``; ``dL/dz = sum(y) * softmax(z) - y``; ``dL/dy = -log p``;
* sparse softmax cross-entropy, class ids ``k``: ``L = -log p[k]``;
  ``dL/dz = softmax(z) - onehot(k)``;
* sigmoid cross-entropy, per element, labels ``y`` in [0, 1]:
  ``L = max(z, 0) - z * y + log(1 + exp(-|z|))`` (TF's stable form);
  ``dL/dz = sigmoid(z) - y``; ``dL/dy = -z``.

All three are finite, with finite gradients, for logits of +-1e4 (and beyond).

The public losses (TF-Slim's signatures, ``logits`` first) reduce these per-example
values with :func:`~minislim.losses.weighting.compute_weighted_loss` and add the result
to the LOSSES collection. ``label_smoothing=s`` replaces one-hot labels by
``y * (1 - s) + s / num_classes`` (sigmoid: ``y * (1 - s) + s / 2``), as TF does.

>>> import numpy as np
>>> import minislim as slim
>>> logits = slim.tensor([[1e4, -1e4], [0.0, 0.0]], requires_grad=True)
>>> loss = slim.losses.sparse_softmax_cross_entropy(logits, np.array([1, 0]))
>>> loss.item()  # (2e4 + log 2) / 2
10000.3466796875
>>> loss.backward(); logits.grad.tolist()
[[0.5, -0.5], [-0.25, 0.25]]
"""
from __future__ import annotations

import warnings

import numpy as np

from minislim.autograd.function import Function
from minislim.autograd.tensor import Tensor
from minislim.kernels.softmax import log_softmax
from minislim.losses.collection import LOSSES
from minislim.losses.weighting import as_tensor, compute_weighted_loss
from minislim.ops.activations import sigmoid
from minislim.ops.registry import random_shape, register
from minislim.ops.softmax import log_softmax as log_softmax_op
from minislim.ops.softmax import softmax as softmax_op


# The three backward formulas are written with differentiable ops (softmax, sigmoid, *),
# so they can be recorded for higher-order gradients (autograd/higher_order.py).

class SoftmaxCrossEntropy(Function):
    """Per-example ``-sum(labels * log_softmax(logits))`` over the last axis: ``[..., C] -> [...]``."""

    differentiable_backward = True

    def forward(self, logits, labels):
        return -np.sum(labels * log_softmax(logits, axis=-1), axis=-1)

    def backward(self, grad_output):
        logits, labels = self.inputs
        g = grad_output.reshape(grad_output.shape + (1,))
        grad_logits = grad_labels = None
        if self.needs_input_grad[0]:
            grad_logits = g * (labels.sum(axis=-1, keepdims=True) * softmax_op(logits) - labels)
        if self.needs_input_grad[1]:
            grad_labels = -g * log_softmax_op(logits)
        return grad_logits, grad_labels


class SparseSoftmaxCrossEntropy(Function):
    """Per-example ``-log_softmax(logits)[label]``: ``[..., C] -> [...]`` (labels are constants)."""

    differentiable_backward = True

    def __init__(self, labels: np.ndarray):
        self.labels = labels

    def forward(self, logits):
        log_p = log_softmax(logits, axis=-1)
        return -np.take_along_axis(log_p, self.labels[..., None], axis=-1)[..., 0]

    def backward(self, grad_output):
        (logits,) = self.inputs
        one_hot = np.zeros(logits.shape, dtype=logits.dtype)
        np.put_along_axis(one_hot, self.labels[..., None], 1, axis=-1)
        return (grad_output.reshape(grad_output.shape + (1,)) * (softmax_op(logits) - one_hot),)


class SigmoidCrossEntropy(Function):
    """Per-element ``max(z, 0) - z * y + log(1 + exp(-|z|))``."""

    differentiable_backward = True

    def forward(self, logits, labels):
        e = np.exp(-np.abs(logits))  # in (0, 1]: never overflows
        return np.maximum(logits, 0) - logits * labels + np.log1p(e)

    def backward(self, grad_output):
        logits, labels = self.inputs
        grad_logits = grad_labels = None
        if self.needs_input_grad[0]:
            grad_logits = grad_output * (sigmoid(logits) - labels)
        if self.needs_input_grad[1]:
            grad_labels = -grad_output * logits
        return grad_logits, grad_labels


# --- checks ----------------------------------------------------------------------------------

def warn_if_probabilities(where: str, logits: np.ndarray) -> None:
    """Warn when ``logits`` look like the output of a softmax (a classic mistake)."""
    if logits.ndim == 0 or logits.shape[-1] < 2 or logits.size == 0:
        return
    if logits.min() >= 0 and logits.max() <= 1 and np.allclose(logits.sum(axis=-1), 1, atol=1e-3):
        warnings.warn(f"{where}: the logits look like probabilities (every row is in [0, 1] and sums to 1). "
                      "Pass the raw scores from before the softmax: the loss applies the softmax itself, and "
                      "applying it twice trains poorly.", UserWarning, stacklevel=3)


def _check_smoothing(where: str, label_smoothing: float) -> float:
    label_smoothing = float(label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{where}: label_smoothing must be in [0, 1], got {label_smoothing}")
    return label_smoothing


def _same_shape(where: str, logits: Tensor, labels: Tensor, what: str) -> None:
    if logits.shape != labels.shape:
        raise ValueError(f"{where}: logits {logits.shape} and {what} {labels.shape} must have the same shape")


# --- the losses --------------------------------------------------------------------------------

def softmax_cross_entropy(logits, onehot_labels, weights=1.0, label_smoothing: float = 0.0,
                          scope: str | None = None, loss_collection: str | None = LOSSES) -> Tensor:
    """Softmax cross-entropy between ``logits`` and one-hot (or soft) labels.

    Args:
        logits: ``[N, C]`` raw scores (not probabilities).
        onehot_labels: ``[N, C]``, each row a distribution (one-hot, or soft).
        weights: a number, ``[N]`` or ``[N, 1]`` (per example); see ``compute_weighted_loss``.
        label_smoothing: ``s`` in [0, 1]: labels become ``y * (1 - s) + s / C``.
        scope: the loss's name.
        loss_collection: where to add the loss (None: nowhere).

    Returns:
        the weighted mean loss, a scalar Tensor.
    """
    where = scope or "softmax_cross_entropy"
    logits = as_tensor(logits)
    labels = as_tensor(onehot_labels, logits.dtype)
    _same_shape(where, logits, labels, "onehot_labels")
    if logits.ndim < 1:
        raise ValueError(f"{where}: logits must be [N, C], got a scalar")
    warn_if_probabilities(where, logits.data)
    smoothing = _check_smoothing(where, label_smoothing)
    if smoothing:
        labels = labels * (1.0 - smoothing) + smoothing / logits.shape[-1]
    losses = SoftmaxCrossEntropy()(logits, labels)
    return compute_weighted_loss(losses, weights, scope or "softmax_cross_entropy_loss", loss_collection)


def sparse_softmax_cross_entropy(logits, labels, weights=1.0, scope: str | None = None,
                                 loss_collection: str | None = LOSSES) -> Tensor:
    """Softmax cross-entropy with integer class ids: ``logits [N, C]``, ``labels [N]``.

    Args:
        logits: ``[N, C]`` raw scores (not probabilities); more leading axes are allowed.
        labels: ``[N]`` or ``[N, 1]`` integer class ids in ``[0, C)`` (a trailing axis of
            size 1 is dropped, as TF-Slim does).
        weights: a number, ``[N]`` or ``[N, 1]`` (per example); see ``compute_weighted_loss``.
        scope: the loss's name.
        loss_collection: where to add the loss (None: nowhere).

    Returns:
        the weighted mean loss, a scalar Tensor.

    Raises:
        ValueError: a label outside ``[0, C)`` (the message names the first one), or shapes
            that do not fit.
    """
    where = scope or "sparse_softmax_cross_entropy"
    logits = as_tensor(logits)
    ids = np.asarray(getattr(labels, "data", labels))
    if ids.dtype.kind == "f":
        if not np.all(ids == np.round(ids)):
            raise ValueError(f"{where}: labels must be integer class ids, got non-integral values")
    elif ids.dtype.kind not in "iu":
        raise TypeError(f"{where}: labels must be integer class ids, got dtype {ids.dtype}")
    ids = ids.astype(np.int64)
    if logits.ndim < 1:
        raise ValueError(f"{where}: logits must be [N, C], got a scalar")
    expected = logits.shape[:-1]
    if ids.ndim > 1 and ids.shape == expected + (1,):  # TF-Slim's [N, 1] labels
        ids = ids[..., 0]
    if ids.shape != expected:
        raise ValueError(f"{where}: labels must have shape {expected} or {expected + (1,)} (logits "
                         f"{logits.shape} without the class axis), got {ids.shape}")
    num_classes = logits.shape[-1]
    bad = (ids < 0) | (ids >= num_classes)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{where}: labels must be in [0, {num_classes}), got {ids[index]} at index {index}")
    warn_if_probabilities(where, logits.data)
    losses = SparseSoftmaxCrossEntropy(ids)(logits)
    return compute_weighted_loss(losses, weights, scope or "sparse_softmax_cross_entropy_loss", loss_collection)


def sigmoid_cross_entropy(logits, multi_class_labels, weights=1.0, label_smoothing: float = 0.0,
                          scope: str | None = None, loss_collection: str | None = LOSSES) -> Tensor:
    """Element-wise sigmoid cross-entropy (independent binary labels), weighted mean.

    Args:
        logits: any shape, e.g. ``[N, K]`` for K binary attributes.
        multi_class_labels: same shape, values in [0, 1].
        weights: a number or an array aligned with the leading axes.
        label_smoothing: ``s``: labels become ``y * (1 - s) + s / 2``.
    """
    where = scope or "sigmoid_cross_entropy"
    logits = as_tensor(logits)
    labels = as_tensor(multi_class_labels, logits.dtype)
    _same_shape(where, logits, labels, "multi_class_labels")
    smoothing = _check_smoothing(where, label_smoothing)
    if smoothing:
        labels = labels * (1.0 - smoothing) + 0.5 * smoothing
    losses = SigmoidCrossEntropy()(logits, labels)
    return compute_weighted_loss(losses, weights, scope or "sigmoid_cross_entropy_loss", loss_collection)


# --- the op table ----------------------------------------------------------------------------

def _class_logits(rng):
    n, c = (int(v) for v in rng.integers(1, 5, size=2))
    return rng.standard_normal((n, c + 1)) * 3


def _softmax_inputs(rng):
    logits = _class_logits(rng)
    labels = rng.dirichlet(np.ones(logits.shape[1]), size=logits.shape[0])
    return [logits, labels]


def _weights_and_smoothing(rng, inputs):
    n = inputs[0].shape[0]
    weights = rng.choice([0.0, 0.5, 1.0, 2.0], size=n) if rng.random() < 0.7 else float(rng.uniform(0.5, 2))
    return {"weights": weights, "label_smoothing": float(rng.choice([0.0, 0.1]))}


def _sparse_labels(rng, inputs):
    n, c = inputs[0].shape
    return {"labels": rng.integers(0, c, size=n), "weights": rng.choice([0.0, 1.0, 3.0], size=n)}


def _sigmoid_inputs(rng):
    shape = random_shape(rng, 1)
    return [rng.standard_normal(shape) * 3, rng.uniform(0, 1, shape)]


register("losses.softmax_cross_entropy",
         lambda logits, labels, **kw: softmax_cross_entropy(logits, labels, loss_collection=None, **kw),
         _softmax_inputs, domain="labels are distributions; weights include zeros",
         make_kwargs=_weights_and_smoothing)
register("losses.sparse_softmax_cross_entropy",
         lambda logits, **kw: sparse_softmax_cross_entropy(logits, loss_collection=None, **kw),
         lambda rng: [_class_logits(rng)], domain="integer labels drawn with the logits",
         make_kwargs=_sparse_labels)
register("losses.sigmoid_cross_entropy",
         lambda logits, labels, **kw: sigmoid_cross_entropy(logits, labels, loss_collection=None, **kw),
         _sigmoid_inputs, domain="labels in [0, 1]",
         make_kwargs=lambda rng, inputs: {"label_smoothing": float(rng.choice([0.0, 0.2]))})
