"""Plain-function exercises of notebooks 06-12: a streaming metric, batch norm's simplified
backward, a range test's rates, flip augmentation, saliency, a linear probe's gradients and
label-smoothed cross-entropy. Each is checked against minislim's own code where it has one
(``slim.metrics.Accuracy``, the autograd engine, ``slim.losses``).

>>> from minislim import exercises
>>> exercises.check(lambda images, flip: images, "flip_some", verbose=False).codes
['wrong']
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.engine import grad
from minislim.autograd.grad_mode import no_grad
from minislim.autograd.tensor import tensor
from minislim.exercises.functional import FunctionExercise, WrongImplementation
from minislim.exercises.registry import add
from minislim.losses.cross_entropy import softmax_cross_entropy, sparse_softmax_cross_entropy
from minislim.metrics import Accuracy
from minislim.ops.activations import relu

# --- 06: a streaming accuracy ------------------------------------------------------------------


def _run_metric(metric_class, batches):
    metric = metric_class()
    results = []
    for logits, labels in batches:
        metric.update(logits.copy(), labels.copy())
        results.append(float(metric.result()))
    return {"accuracy after each batch": np.array(results)}


def _metric_cases(rng):
    def batch(n):
        return rng.standard_normal((n, 5)), rng.integers(0, 5, n)
    return [("batches of 40, 7 and 13 examples", [batch(40), batch(7), batch(13)]),
            ("one batch of 20", [batch(20)])]


class _MeanOfBatchAccuracies:
    def __init__(self):
        self.correct, self.seen = 0.0, 0

    def update(self, logits, labels):
        self.correct += np.mean(logits.argmax(axis=1) == labels)
        self.seen += 1

    def result(self):
        return self.correct / self.seen


class _LastBatchOnly(_MeanOfBatchAccuracies):
    def update(self, logits, labels):
        self.correct, self.seen = np.sum(logits.argmax(axis=1) == labels), len(labels)


add(FunctionExercise(
    name="streaming_accuracy",
    title="A streaming accuracy, as slim.metrics.Accuracy keeps it",
    task=("StreamingAccuracy().update(logits [N, C], labels [N]) is called once per batch, and\n"
          "result() gives the accuracy over every example seen so far. Keep two counts: the\n"
          "correct predictions (argmax of the logits equal to the label) and the examples."),
    function_name="StreamingAccuracy",
    reference=Accuracy,
    run=_run_metric,
    make_cases=_metric_cases,
    hint="add the batch's number of correct predictions and its size; result() divides the two sums.",
    mistakes=(
        WrongImplementation("mean_of_batch_means", _MeanOfBatchAccuracies,
                            "your result is the mean of the batches' accuracies; with batches of "
                            "different sizes that weighs an example of a small batch more than one of "
                            "a large batch. Count correct predictions and examples over all batches, "
                            "and divide the two sums."),
        WrongImplementation("last_batch_only", _LastBatchOnly,
                            "your result is the accuracy of the last batch only: update must *add* to "
                            "the counts (+=), not replace them."),
    ),
))


# --- 07: batch norm's simplified backward ------------------------------------------------------


def _bn_backward(g, x_hat, gamma, sigma):
    n = len(g)
    dx_hat = g * gamma
    return (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (n * sigma)


def _bn_direct_path_only(g, x_hat, gamma, sigma):
    return g * gamma / sigma


def _bn_missing_variance_term(g, x_hat, gamma, sigma):
    dx_hat = g * gamma
    return (dx_hat - dx_hat.mean(axis=0)) / sigma


def _bn_missing_mean_term(g, x_hat, gamma, sigma):
    dx_hat = g * gamma
    return (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=0)) / sigma


def _bn_without_gamma(g, x_hat, gamma, sigma):
    return (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / sigma


def _run_bn_backward(implementation, case):
    g, x_hat, gamma, sigma = case
    return {"dL/dx": implementation(g.copy(), x_hat.copy(), gamma.copy(), sigma.copy())}


def _bn_cases(rng):
    cases = []
    for label, (n, d) in [("a batch of 8 with 5 features", (8, 5)), ("a batch of 3 with 2 features", (3, 2))]:
        x = rng.standard_normal((n, d)) * 2 + 1
        sigma = np.sqrt(x.var(axis=0) + 1e-5)
        cases.append((label, (rng.standard_normal((n, d)), (x - x.mean(axis=0)) / sigma,
                              rng.standard_normal(d) + 1.5, sigma)))
    return cases


add(FunctionExercise(
    name="batch_norm_backward",
    title="Batch norm's backward in its simplified form",
    task=("batch_norm_backward(g, x_hat, gamma, sigma) returns dL/dx [N, D] for the training-mode\n"
          "batch norm y = gamma * x_hat + beta, x_hat = (x - mean) / sigma, sigma = sqrt(var + eps),\n"
          "the mean and var over the batch (axis 0). g = dL/dy [N, D]; gamma and sigma are [D].\n"
          "dL/dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sigma, dx_hat = g * gamma."),
    function_name="batch_norm_backward",
    reference=_bn_backward,
    run=_run_bn_backward,
    make_cases=_bn_cases,
    hint=("three paths add up: through x_hat directly, through the mean (which every x of the "
          "feature moves) and through the variance; the means run over the batch, axis 0."),
    mistakes=(
        WrongImplementation("direct_path_only", _bn_direct_path_only,
                            "your dL/dx is g * gamma / sigma: only the direct path. Each x also moves "
                            "its feature's mean and variance, which every output of the batch uses: "
                            "subtract mean(dx_hat) and x_hat * mean(dx_hat * x_hat)."),
        WrongImplementation("missing_variance_term", _bn_missing_variance_term,
                            "your dL/dx leaves out the path through the variance, the term "
                            "- x_hat * mean(dx_hat * x_hat)."),
        WrongImplementation("missing_mean_term", _bn_missing_mean_term,
                            "your dL/dx leaves out the path through the mean, the term - mean(dx_hat)."),
        WrongImplementation("missing_gamma", _bn_without_gamma,
                            "your dL/dx uses g where dx_hat = g * gamma belongs: y = gamma * x_hat + beta, "
                            "so the gradient reaching x_hat is multiplied by gamma."),
    ),
))


# --- 08: the rates of a learning-rate range test -----------------------------------------------


def _range_rates(lr_min, lr_max, steps):
    return lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))


def _range_linear(lr_min, lr_max, steps):
    return np.linspace(lr_min, lr_max, steps)


def _range_short(lr_min, lr_max, steps):
    return lr_min * (lr_max / lr_min) ** (np.arange(steps) / steps)


def _run_rates(implementation, case):
    return {"rates": np.asarray(implementation(*case), dtype=np.float64)}


add(FunctionExercise(
    name="range_test_rates",
    title="The rates of a learning-rate range test",
    task=("range_test_rates(lr_min, lr_max, steps) returns the `steps` rates of a range test: the\n"
          "first lr_min, the last lr_max, each the previous times a constant factor."),
    function_name="range_test_rates",
    reference=_range_rates,
    run=_run_rates,
    make_cases=lambda rng: [("1e-4 to 10 in 150 steps", (1e-4, 10.0, 150)), ("1e-3 to 1 in 4 steps", (1e-3, 1.0, 4))],
    hint="rate k is lr_min * (lr_max / lr_min) ** (k / (steps - 1)), for k = 0 ... steps - 1.",
    mistakes=(
        WrongImplementation("linear", _range_linear,
                            "your rates grow by a constant *step* (np.linspace): nearly all of them are "
                            "then large, and the decades 1e-4 ... 1e-2 get one or two steps. A range "
                            "test multiplies by a constant *factor*, so each decade gets as many steps."),
        WrongImplementation("stops_short", _range_short,
                            "your last rate is below lr_max: the exponent must reach 1 at the last "
                            "step, k / (steps - 1), not k / steps."),
    ),
))


# --- 09: flip augmentation ---------------------------------------------------------------------


def _flip_some(images, flip):
    out = images.copy()
    out[flip] = images[flip][:, :, ::-1, :]
    return out


def _flip_upside_down(images, flip):
    out = images.copy()
    out[flip] = images[flip][:, ::-1, :, :]
    return out


def _flip_all(images, flip):
    return images[:, :, ::-1, :].copy()


def _flip_channels(images, flip):
    out = images.copy()
    out[flip] = images[flip][..., ::-1]
    return out


def _run_flip(implementation, case):
    images, flip = case
    original = images.copy()
    out = implementation(images, flip.copy())
    return {"images": out, "input after the call": images - original}


def _flip_cases(rng):
    return [("4 images 3x5x3 (flips T F T F)", (rng.standard_normal((4, 3, 5, 3)), np.array([1, 0, 1, 0], bool))),
            ("3 images 4x4x3 (flips F T T)", (rng.standard_normal((3, 4, 4, 3)), np.array([0, 1, 1], bool)))]


add(FunctionExercise(
    name="flip_some",
    title="Flip augmentation: mirror the chosen images left to right",
    task=("flip_some(images [N, H, W, C], flip [N] booleans) returns a new batch in which image i\n"
          "is mirrored left to right where flip[i] is True and unchanged elsewhere; the input\n"
          "batch is left as it was."),
    function_name="flip_some",
    reference=_flip_some,
    run=_run_flip,
    make_cases=_flip_cases,
    hint=("NHWC: axis 1 is the height, axis 2 the width, so a left-right mirror reverses axis 2 "
          "(images[i, :, ::-1, :]); work on a copy, not on the batch you were given."),
    mistakes=(
        WrongImplementation("upside_down", _flip_upside_down,
                            "your images are flipped upside down (axis 1, the height). A mirror image "
                            "reverses the width, axis 2 of NHWC; upside-down cats are not cats a test "
                            "set holds."),
        WrongImplementation("flipped_all", _flip_all,
                            "you mirror every image: only those with flip[i] True are mirrored, so "
                            "the network sees both views."),
        WrongImplementation("channels_reversed", _flip_channels,
                            "you reverse the last axis, the colour channels (RGB becomes BGR): the "
                            "width is axis 2."),
    ),
))


# --- 10: saliency --------------------------------------------------------------------------------


def _saliency(score_fn, images):
    x = tensor(images, requires_grad=True)
    scores = score_fn(x)
    chosen = np.eye(scores.shape[1])[scores.data.argmax(axis=1)]
    (scores * tensor(chosen)).sum().backward()
    return np.abs(x.grad).max(axis=-1)


def _saliency_all_scores(score_fn, images):
    x = tensor(images, requires_grad=True)
    score_fn(x).sum().backward()
    return np.abs(x.grad).max(axis=-1)


def _saliency_signed(score_fn, images):
    x = tensor(images, requires_grad=True)
    scores = score_fn(x)
    (scores * tensor(np.eye(scores.shape[1])[scores.data.argmax(axis=1)])).sum().backward()
    return x.grad.max(axis=-1)


def _saliency_channel_sum(score_fn, images):
    x = tensor(images, requires_grad=True)
    scores = score_fn(x)
    (scores * tensor(np.eye(scores.shape[1])[scores.data.argmax(axis=1)])).sum().backward()
    return np.abs(x.grad).sum(axis=-1)


def _small_net(rng, pixels, classes):
    w1, w2 = rng.standard_normal((pixels, 16)) / np.sqrt(pixels), rng.standard_normal((16, classes))

    def score_fn(x):
        return relu(x.reshape(x.shape[0], -1) @ tensor(w1)) @ tensor(w2)
    return score_fn


def _run_saliency(implementation, case):
    score_fn, images = case
    return {"saliency": np.asarray(implementation(score_fn, images.copy()))}


def _saliency_cases(rng):
    return [("3 images 4x4x3 (a ReLU net of 5 classes)", (_small_net(rng, 48, 5), rng.standard_normal((3, 4, 4, 3)))),
            ("2 images 3x5x3 (a ReLU net of 4 classes)", (_small_net(rng, 45, 4), rng.standard_normal((2, 3, 5, 3))))]


add(FunctionExercise(
    name="saliency_map",
    title="Saliency: the gradient of the predicted class's score with respect to the pixels",
    task=("saliency_map(score_fn, images [N, H, W, C]) returns [N, H, W]: for each image, |d s / d pixel|\n"
          "maximised over the colour channels, where s is the score of the class the network predicts\n"
          "for that image (score_fn maps a Tensor of images to scores [N, classes]). One backward pass:\n"
          "make the images a tensor with requires_grad=True."),
    function_name="saliency_map",
    reference=_saliency,
    run=_run_saliency,
    make_cases=_saliency_cases,
    hint=("keep only each image's predicted score: multiply the scores by a one-hot mask of the "
          "argmax (np.eye(classes)[predicted]), sum, backward; then np.abs(images.grad).max(axis=-1)."),
    mistakes=(
        WrongImplementation("all_scores", _saliency_all_scores,
                            "your map is the gradient of the sum of *all* the class scores; saliency "
                            "asks which pixels change the *predicted* class's score: mask the scores "
                            "with a one-hot of each image's argmax before backward."),
        WrongImplementation("signed", _saliency_signed,
                            "your map keeps the gradient's sign, so pixels that lower the score a lot "
                            "look unimportant: take the absolute value before the maximum."),
        WrongImplementation("channels_summed", _saliency_channel_sum,
                            "you add the channels' |gradients|; the map here takes their maximum "
                            "(.max(axis=-1)), as Simonyan et al. do."),
    ),
))


# --- 11: the gradients of a linear probe ---------------------------------------------------------


def _probe_gradients(features, labels, w, b):
    wt, bt = tensor(w, requires_grad=True), tensor(b, requires_grad=True)
    loss = sparse_softmax_cross_entropy(tensor(features) @ wt + bt, labels, loss_collection=None)
    grad_w, grad_b = grad(loss, [wt, bt])
    return grad_w.data, grad_b.data


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _probe_no_mean(features, labels, w, b):
    delta = _softmax(features @ w + b) - np.eye(w.shape[1])[labels]
    return features.T @ delta, delta.sum(axis=0)


def _probe_no_softmax(features, labels, w, b):
    delta = (features @ w + b - np.eye(w.shape[1])[labels]) / len(labels)
    return features.T @ delta, delta.sum(axis=0)


def _run_probe(implementation, case):
    features, labels, w, b = case
    grad_w, grad_b = implementation(features.copy(), labels.copy(), w.copy(), b.copy())
    return {"dL/dw": grad_w, "dL/db": grad_b}


def _probe_cases(rng):
    return [("12 examples of 6 features (4 classes)", (rng.standard_normal((12, 6)), rng.integers(0, 4, 12),
                                                    rng.standard_normal((6, 4)) * 0.3, rng.standard_normal(4) * 0.1)),
            ("5 examples of 3 features (3 classes)", (rng.standard_normal((5, 3)), rng.integers(0, 3, 5),
                                                   rng.standard_normal((3, 3)) * 0.3, np.zeros(3)))]


add(FunctionExercise(
    name="probe_gradients",
    title="A linear probe's gradients: logistic regression on frozen features",
    task=("probe_gradients(features [N, F], labels [N], w [F, C], b [C]) returns (dL/dw, dL/db) of\n"
          "L = the mean over the batch of the softmax cross-entropy of logits = features @ w + b.\n"
          "The body that computed the features is frozen: only w and b learn."),
    function_name="probe_gradients",
    reference=_probe_gradients,
    run=_run_probe,
    make_cases=_probe_cases,
    hint=("dL/dlogits = (softmax(logits) - one_hot(labels)) / N; then dL/dw = features.T @ dL/dlogits, "
          "and dL/db sums dL/dlogits over the batch (b is added to every row)."),
    mistakes=(
        WrongImplementation("not_averaged", _probe_no_mean,
                            "your gradients are N times the true ones: the loss is the *mean* over the "
                            "batch, so dL/dlogits = (softmax - one_hot) / N."),
        WrongImplementation("no_softmax", _probe_no_softmax,
                            "you subtract the one-hot labels from the logits themselves; the cross-"
                            "entropy's gradient is softmax(logits) - one_hot(labels): probabilities, "
                            "not raw scores."),
    ),
))


# --- 12: label-smoothed cross-entropy ------------------------------------------------------------


def _smoothed_loss(logits, labels, smoothing):
    onehot = np.eye(logits.shape[1])[labels]
    with no_grad():
        return float(softmax_cross_entropy(tensor(logits), onehot, label_smoothing=smoothing,
                                           loss_collection=None).data)


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _smoothed_others_only(logits, labels, smoothing):
    c = logits.shape[1]
    target = np.full(logits.shape, smoothing / (c - 1))
    target[np.arange(len(labels)), labels] = 1 - smoothing
    return float(-(target * _log_softmax(logits)).sum(axis=1).mean())


def _smoothed_not_renormalised(logits, labels, smoothing):
    target = np.eye(logits.shape[1])[labels] + smoothing / logits.shape[1]
    return float(-(target * _log_softmax(logits)).sum(axis=1).mean())


def _run_loss(implementation, case):
    return {"loss": np.float64(implementation(*(a.copy() if isinstance(a, np.ndarray) else a for a in case)))}


def _smoothing_cases(rng):
    return [("6 examples of 10 classes (s = 0.1)", (rng.standard_normal((6, 10)) * 3, rng.integers(0, 10, 6), 0.1)),
            ("4 examples of 3 classes (s = 0.3)", (rng.standard_normal((4, 3)) * 3, rng.integers(0, 3, 4), 0.3)),
            ("2 examples with large logits (s = 0.1)", (rng.standard_normal((2, 5)) * 400, rng.integers(0, 5, 2), 0.1))]


add(FunctionExercise(
    name="smoothed_cross_entropy",
    title="Label-smoothed softmax cross-entropy (TF's convention)",
    task=("smoothed_cross_entropy(logits [N, C], labels [N], smoothing s) returns the mean over the\n"
          "batch of -sum_c target_c log softmax(logits)_c, the target putting 1 - s + s/C on the\n"
          "label and s/C on every other class (slim.losses.softmax_cross_entropy(label_smoothing=s)).\n"
          "Stay finite for large logits."),
    function_name="smoothed_cross_entropy",
    reference=_smoothed_loss,
    run=_run_loss,
    make_cases=_smoothing_cases,
    hint=("target = one_hot * (1 - s) + s / C; log softmax = shifted - log(sum(exp(shifted))) with "
          "shifted = logits - max, which cannot overflow."),
    mistakes=(
        WrongImplementation("others_only", _smoothed_others_only,
                            "your target puts 1 - s on the label and s / (C - 1) on the others; TF's "
                            "convention (and slim's) mixes the one-hot with the uniform distribution: "
                            "one_hot * (1 - s) + s / C, so the label gets 1 - s + s/C."),
        WrongImplementation("not_renormalised", _smoothed_not_renormalised,
                            "your target is one_hot + s / C, which sums to 1 + s: scale the one-hot by "
                            "(1 - s) so the target stays a distribution."),
    ),
))
