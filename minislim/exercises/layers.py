"""The layer exercises of the course: tanh (notebook 02), a convolution (03), dropout, batch
norm (04) and the fused softmax cross-entropy (05).

Each is a ``Function`` subclass the student completes, checked by
:func:`minislim.exercises.check` against a NumPy reference, with the classic wrong
answers listed as :class:`~minislim.exercises.mistakes.Mistake` so the checker names them.
Importing :mod:`minislim.exercises` registers them after the basic six.

>>> from minislim import exercises
>>> [n for n in exercises.names() if n in ("tanh", "dropout", "batch_norm")]
['tanh', 'dropout', 'batch_norm']
"""
from __future__ import annotations

import numpy as np

from minislim.exercises.catalog import Exercise
from minislim.exercises.mistakes import Mistake
from minislim.exercises.registry import add
from minislim.kernels import reference as kernels_reference

# --- tanh (notebook 02: fix the buggy backward) ------------------------------------------

add(Exercise(
    name="tanh",
    title="Tanh: fix the backward of notebook 02",
    task=("y = tanh(x), elementwise. The forward saves x and y. Its derivative is 1 - tanh(x)**2,\n"
          "which is simplest written with the output: 1 - y**2. Return (dL/dx,)."),
    class_name="Tanh",
    input_names=("x",),
    reference=np.tanh,
    make_inputs=lambda rng: [np.array([[0.1, -0.5, 1.2], [2.0, -1.5, 0.3]])],
    hint="d tanh(x)/dx = 1 - tanh(x)**2; the forward saved tanh(x) already.",
    mistakes=(
        Mistake("formula_on_input", "x", lambda inputs, y, g: g * (1 - inputs[0] ** 2),
                "your gradient for 'x' is grad_output * (1 - x**2): the derivative written with the "
                "output, 1 - y**2, but evaluated at the input x. Use y = tanh(x), which the forward "
                "saved."),
        Mistake("squared_the_wrong_thing", "x", lambda inputs, y, g: g * (1 - y) ** 2,
                "your gradient for 'x' is grad_output * (1 - y)**2: the square is on the wrong term; "
                "the derivative is 1 - y**2 (one minus the square of y)."),
    ),
))


# --- conv2d (notebook 03) -------------------------------------------------------------------

def _conv_valid(x, w):
    return kernels_reference.conv2d(x, w, stride=1, padding="VALID")


def _col2im_overwrites(g, x, w):
    """The wrong dL/dx of a col2im that assigns each window instead of adding it."""
    kh, kw, c, oc = w.shape
    n, h, wd, _ = x.shape
    oh, ow = h - kh + 1, wd - kw + 1
    dcols = (g.reshape(-1, oc) @ w.reshape(-1, oc).T).reshape(n, oh, ow, kh, kw, c)
    dx = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            dx[:, i:i + kh, j:j + kw, :] = dcols[:, i, j]
    return dx


add(Exercise(
    name="conv2d",
    title="A convolution with im2col: forward and backward (VALID, stride 1)",
    task=("y = conv2d(x, w), VALID padding, stride 1: x [N, H, W, C], w [KH, KW, C, OC],\n"
          "y [N, OH, OW, OC] with OH = H - KH + 1. Forward: the columns [N*OH*OW, KH*KW*C] (your\n"
          "my_im2col) times w reshaped to [KH*KW*C, OC]. Backward: with g = grad_output reshaped to\n"
          "[N*OH*OW, OC], dL/dw = columns.T @ g (reshaped to w's shape) and the gradient of the\n"
          "columns, g @ w2d.T, is added back into each window's place in x (col2im): a pixel that\n"
          "sits in several windows collects a gradient from each. Checked against\n"
          "minislim.kernels.reference.conv2d (nested loops)."),
    class_name="Conv2D",
    input_names=("x", "w"),
    reference=_conv_valid,
    make_inputs=lambda rng: [rng.standard_normal((2, 5, 4, 2)), rng.standard_normal((3, 2, 2, 3))],
    hint={"forward": ("each row of the columns is one window in (KH, KW, C) order, the order of "
                      "w.reshape(-1, OC); the rows go n, then oh, then ow."),
          "x": ("dcols = g2d @ w2d.T has one row per window; reshape it to [N, OH, OW, KH, KW, C] and "
                "add (+=, not =) each window into x's zeros at its place: windows overlap."),
          "w": "y2d = columns @ w2d, so dL/dw2d = columns.T @ g2d, reshaped to [KH, KW, C, OC]."},
    mistakes=(
        Mistake("overlaps_overwritten", "x", lambda inputs, y, g: _col2im_overwrites(g, *inputs),
                "your gradient for 'x' is right only where windows do not overlap: your col2im "
                "assigns each window's gradient (`dx[...] = ...`), so a later window overwrites an "
                "earlier one. A pixel used by several windows gets the sum of their gradients: add "
                "them (`dx[...] += ...`)."),
    ),
    skeleton_code="forward_not_written",
))


# --- dropout (notebook 04) ------------------------------------------------------------------

def _keep_mask(shape, rate, seed):
    return np.random.default_rng(seed).random(shape) >= rate


_DROP = {"rate": 0.25, "seed": 0}


add(Exercise(
    name="dropout",
    title="Inverted dropout: forward and backward",
    task=("In training, dropout zeroes each element with probability rate and scales the kept ones\n"
          "by 1 / (1 - rate), so that the expected output is x (at test time it is the identity).\n"
          "The mask comes from the op's own seeded generator (given). Return (dL/dx,)."),
    class_name="Dropout",
    input_names=("x",),
    reference=lambda x: x * _keep_mask(x.shape, **_DROP) / (1 - _DROP["rate"]),
    make_inputs=lambda rng: [rng.standard_normal((4, 6))],
    init_kwargs=dict(_DROP),
    hint={"forward": "y = x * keep / (1 - rate): the kept elements are scaled up so the mean is unchanged.",
          "x": "y is x times a constant mask: the gradient is grad_output times the same mask and scale."},
    mistakes=(
        Mistake("missing_scale", "x", lambda inputs, y, g: g * _keep_mask(g.shape, **_DROP),
                "your gradient for 'x' applies the mask but not the scale 1 / (1 - rate): the forward "
                "multiplied every kept element by it, so the backward must too."),
        Mistake("missing_mask", "x", lambda inputs, y, g: g / (1 - _DROP["rate"]),
                "your gradient for 'x' reaches the dropped elements too: they were multiplied by 0 in "
                "the forward, so they get no gradient; apply the same mask in the backward."),
    ),
    skeleton_code="forward_not_written",
))


# --- batch norm (notebook 04, and 07 in depth) -----------------------------------------------

_EPS = 1e-5


def _batch_norm(x, gamma, beta):
    mean, var = x.mean(axis=0), x.var(axis=0)
    return gamma * (x - mean) / np.sqrt(var + _EPS) + beta


def _bn_parts(x, gamma):
    sigma = np.sqrt(x.var(axis=0) + _EPS)
    return (x - x.mean(axis=0)) / sigma, sigma


def _bn_grad_x(x, gamma, g, axis=0, variance=True):
    xhat, sigma = _bn_parts(x, gamma)
    dxhat = g * gamma
    grad = dxhat - dxhat.mean(axis=axis, keepdims=True)
    if variance:
        grad = grad - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
    return grad / sigma


add(Exercise(
    name="batch_norm",
    title="Batch normalisation in training mode: forward and backward",
    task=("x [N, D] (a batch of N examples, D features), gamma and beta [D]. Training mode:\n"
          "mean and (biased) variance of each feature over the batch (axis 0), x_hat = (x - mean)\n"
          "/ sqrt(var + eps), y = gamma * x_hat + beta. Return (dL/dx, dL/dgamma, dL/dbeta). The\n"
          "mean and variance depend on x too: dL/dx has three terms (or use the simplified form\n"
          "dL/dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps),\n"
          "means over the batch, with dx_hat = grad_output * gamma)."),
    class_name="BatchNorm",
    input_names=("x", "gamma", "beta"),
    reference=_batch_norm,
    make_inputs=lambda rng: [rng.standard_normal((6, 4)) * 2 + 1, rng.standard_normal(4) + 1.5,
                             rng.standard_normal(4)],
    init_kwargs={"eps": _EPS},
    hint={"forward": "mean and var over axis 0 (x.var is the biased variance); eps inside the sqrt.",
          "x": ("the mean and the variance are functions of every x in the batch: besides "
                "dx_hat / sigma there are two terms through them, each a mean over the batch of "
                "dx_hat (and of dx_hat * x_hat)."),
          "gamma": "y = gamma * x_hat + beta: dL/dgamma adds grad_output * x_hat over the batch.",
          "beta": "beta is added to every row: its gradient adds grad_output over the batch."},
    mistakes=(
        Mistake("diagonal_only", "x", lambda i, y, g: g * i[1] / _bn_parts(i[0], i[1])[1],
                "your gradient for 'x' is grad_output * gamma / sqrt(var + eps): the path through "
                "x_hat only, as if the batch mean and variance were constants. They are computed "
                "from the whole batch, so every x_n affects every output of its feature: subtract "
                "the mean of dx_hat and x_hat times the mean of dx_hat * x_hat (over the batch)."),
        Mistake("missing_variance_term", "x", lambda i, y, g: _bn_grad_x(i[0], i[1], g, variance=False),
                "your gradient for 'x' has the path through the mean but not the one through the "
                "variance: subtract x_hat * mean(dx_hat * x_hat) too (means over the batch)."),
        Mistake("reduced_wrong_axis", "x", lambda i, y, g: _bn_grad_x(i[0], i[1], g, axis=1),
                "your gradient for 'x' takes its means over axis 1 (the features of one example); "
                "batch norm's statistics are over axis 0 (the batch, one per feature), and so are "
                "the means in its backward."),
        Mistake("missing_x_hat", "gamma", lambda i, y, g: g.sum(axis=0),
                "your gradient for 'gamma' is the sum of grad_output: that is beta's. gamma "
                "multiplies x_hat, so sum grad_output * x_hat over the batch."),
    ),
    skeleton_code="forward_not_written",
))


# --- fused softmax cross-entropy (notebook 05) -------------------------------------------------

_LABELS = np.array([0, 2, 1, 2, 3])


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _cross_entropy(logits):
    return -_log_softmax(logits)[np.arange(len(_LABELS)), _LABELS].mean()


def _one_hot(labels, classes):
    return np.eye(classes)[labels]


def _big_logits(rng):
    logits = rng.standard_normal((5, 4)) * 2
    logits[1] += 800.0  # exp(800) overflows: the max must be subtracted first
    return [logits]


add(Exercise(
    name="softmax_cross_entropy",
    title="Fused softmax cross-entropy: a stable forward and the famous (p - y) / N backward",
    task=("logits [N, C], integer labels [N] (given to the constructor). loss = mean over the batch\n"
          "of -log softmax(logits)[n, label_n], computed stably (one row of the test logits is\n"
          "about 800: exp overflows unless you subtract each row's max, or use log-sum-exp).\n"
          "Return (dL/dlogits,): grad_output * (softmax - one_hot(labels)) / N."),
    class_name="SoftmaxCrossEntropy",
    input_names=("logits",),
    reference=_cross_entropy,
    make_inputs=_big_logits,
    init_kwargs={"labels": _LABELS},
    hint={"forward": ("log softmax(z) = z - max - log(sum(exp(z - max))), per row; pick each row's "
                      "label with logits[np.arange(N), labels]."),
          "logits": ("d(-log p_label)/dz_j = p_j - [j == label], for one example; the mean over the "
                     "batch divides by N; then multiply by grad_output.")},
    mistakes=(
        Mistake("missing_one_hot", "logits",
                lambda i, y, g: g * np.exp(_log_softmax(i[0])) / len(_LABELS),
                "your gradient for 'logits' is grad_output * softmax / N: the one-hot labels are "
                "missing. The label's logit also appears outside the softmax (-z_label), which "
                "subtracts 1 at the label: (softmax - one_hot(labels)) / N."),
    ),
    skeleton_code="forward_not_written",
))
