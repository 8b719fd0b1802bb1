"""The catalogue of wrong answers: for every exercise, the classic mistakes, each with the
diagnosis the checker must give (its code, and words the student must read).

A wrong answer is a ``backward`` (or a dict of methods) that replaces the solution's, for
the ``Function`` exercises, or a whole wrong implementation for the plain-function ones.
Hints follow maths problems only, and name the input they are about.
"""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import minislim as slim
from minislim.exercises import check, get
from minislim.exercises.checker import NOT_ABOUT_THE_MATHS

SOLUTIONS = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"


def solution(name: str):
    """What notebooks/solutions/<name>.py defines for the exercise."""
    spec = importlib.util.spec_from_file_location(f"solution_{name}", SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, get(name).class_name)


# --- the basic six (notebook 02) ----------------------------------------------------------------

def sigmoid_forgets_grad_output(self, grad_output):
    (y,) = self.saved_arrays
    return (y * (1 - y),)


def sigmoid_wrong_sign(self, grad_output):
    (y,) = self.saved_arrays
    return (grad_output * y * (y - 1),)


def sigmoid_factor_2(self, grad_output):
    (y,) = self.saved_arrays
    return (2 * grad_output * y * (1 - y),)


def sigmoid_wrong_shape(self, grad_output):
    (y,) = self.saved_arrays
    return ((grad_output * y * (1 - y)).sum(axis=0),)


def sigmoid_with_input_instead_of_output(self, grad_output):
    (y,) = self.saved_arrays
    x = np.log(y / (1 - y))
    return (grad_output * x * (1 - x),)


def softmax_zeros(self, grad_output):
    return (np.zeros_like(grad_output),)


def softmax_diagonal_only(self, grad_output):
    (s,) = self.saved_arrays
    return (grad_output * s * (1 - s),)


def matmul_transposed_grad(self, grad_output):
    a, b = self.saved_arrays
    return (grad_output @ b.T).T, a.T @ grad_output


def matmul_one_gradient(self, grad_output):
    a, b = self.saved_arrays
    return grad_output @ b.T


def matmul_swapped(self, grad_output):
    a, b = self.saved_arrays
    return a.T @ grad_output, grad_output @ b.T


def mse_no_mean(self, grad_output):
    (diff,) = self.saved_arrays
    return grad_output * 2 * diff, -grad_output * 2 * diff


def mse_no_factor_2(self, grad_output):
    (diff,) = self.saved_arrays
    return grad_output * diff / diff.size, -grad_output * diff / diff.size


def mse_targets_sign(self, grad_output):
    (diff,) = self.saved_arrays
    grad = grad_output * 2 * diff / diff.size
    return grad, grad


def mse_forgets_grad_output(self, grad_output):
    (diff,) = self.saved_arrays
    return 2 * diff / diff.size, -2 * diff / diff.size


def mse_no_targets_gradient(self, grad_output):
    (diff,) = self.saved_arrays
    return grad_output * 2 * diff / diff.size, None


def dense_bias_mean(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, x.T @ grad_output, grad_output.mean(axis=0)


def dense_weights_transposed(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, (x.T @ grad_output).T, grad_output.sum(axis=0)


def dense_no_bias_gradient(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, x.T @ grad_output


def dense_bias_summed_over_the_wrong_axis(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, x.T @ grad_output, grad_output.sum(axis=1)


def pool_spreads_to_the_whole_window(self, grad_output):
    return (np.repeat(np.repeat(grad_output, 2, axis=1), 2, axis=2),)


def pool_averages(self, grad_output):
    return (np.repeat(np.repeat(grad_output, 2, axis=1), 2, axis=2) / 4,)


def pool_forgets_grad_output(self, grad_output):
    x, y = self.saved_arrays
    n, h, w, c = x.shape
    is_max = x.reshape(n, h // 2, 2, w // 2, 2, c) == y[:, :, None, :, None, :]
    return (is_max.reshape(x.shape).astype(x.dtype),)


def pool_not_reshaped(self, grad_output):
    x, y = self.saved_arrays
    n, h, w, c = x.shape
    is_max = x.reshape(n, h // 2, 2, w // 2, 2, c) == y[:, :, None, :, None, :]
    return (is_max * grad_output[:, :, None, :, None, :],)


def sigmoid_formula_on_output(self, grad_output):
    (y,) = self.saved_arrays
    s = 1 / (1 + np.exp(-y))                  # sigmoid'(x) = s(x)(1 - s(x)), but at y
    return (grad_output * s * (1 - s),)


def softmax_sum_over_the_batch(self, grad_output):
    (s,) = self.saved_arrays
    return (s * (grad_output - (grad_output * s).sum(axis=0, keepdims=True)),)


def dense_bias_not_summed(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, x.T @ grad_output, grad_output


# --- the layers (notebooks 02 to 05) --------------------------------------------------------------

def tanh_formula_on_input(self, grad_output):
    x, y = self.saved_arrays
    return (grad_output * (1 - x ** 2),)


def tanh_square_misplaced(self, grad_output):
    x, y = self.saved_arrays
    return (grad_output * (1 - y) ** 2,)


def tanh_formula_on_output(self, grad_output):
    x, y = self.saved_arrays
    return (grad_output * (1 - np.tanh(y) ** 2),)


def conv_col2im_assigns(self, grad_output):
    x, w, columns = self.saved_arrays
    kh, kw, c, oc = w.shape
    n, oh, ow, _ = grad_output.shape
    g = grad_output.reshape(-1, oc)
    dcols = (g @ w.reshape(-1, oc).T).reshape(n, oh, ow, kh, kw, c)
    grad_x = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            grad_x[:, i:i + kh, j:j + kw, :] = dcols[:, i, j]      # BUG: = instead of +=
    return grad_x, (columns.T @ g).reshape(w.shape)


def conv_filter_grad_not_reshaped(self, grad_output):
    grad_x, _ = solution("conv2d").backward(self, grad_output)
    x, w, columns = self.saved_arrays
    return grad_x, columns.T @ grad_output.reshape(-1, w.shape[-1])


def dropout_unscaled_backward(self, grad_output):
    (scale,) = self.saved_arrays
    return (grad_output * (scale > 0),)


def dropout_backward_without_mask(self, grad_output):
    return (grad_output / (1 - self.rate),)


def dropout_forward_unscaled(self, x):
    keep = np.random.default_rng(self.seed).random(x.shape) >= self.rate
    self.save_for_backward(keep.astype(x.dtype))
    return x * keep


def bn_parts(self):
    x_hat, sigma, gamma = self.saved_arrays
    return x_hat, sigma, gamma


def bn_diagonal_only(self, grad_output):
    x_hat, sigma, gamma = bn_parts(self)
    return grad_output * gamma / sigma, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)


def bn_no_variance_path(self, grad_output):
    x_hat, sigma, gamma = bn_parts(self)
    d = grad_output * gamma
    return (d - d.mean(axis=0)) / sigma, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)


def bn_means_over_features(self, grad_output):
    x_hat, sigma, gamma = bn_parts(self)
    d = grad_output * gamma
    grad_x = (d - d.mean(axis=1, keepdims=True) - x_hat * (d * x_hat).mean(axis=1, keepdims=True)) / sigma
    return grad_x, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)


def bn_gamma_without_x_hat(self, grad_output):
    grad_x, _, grad_beta = solution("batch_norm").backward(self, grad_output)
    return grad_x, grad_output.sum(axis=0), grad_beta


def bn_gamma_beta_not_summed(self, grad_output):
    grad_x, _, _ = solution("batch_norm").backward(self, grad_output)
    x_hat, sigma, gamma = bn_parts(self)
    return grad_x, grad_output * x_hat, grad_output


def bn_beta_summed_over_features(self, grad_output):
    grad_x, grad_gamma, _ = solution("batch_norm").backward(self, grad_output)
    return grad_x, grad_gamma, grad_output.sum(axis=1)


def sce_without_one_hot(self, grad_output):
    (p,) = self.saved_arrays
    return (grad_output * p / len(self.labels),)


def sce_not_divided_by_n(self, grad_output):
    (p,) = self.saved_arrays
    grad = p.copy()
    grad[np.arange(len(self.labels)), self.labels] -= 1
    return (grad_output * grad,)


def sce_forward_unstable(self, logits):
    e = np.exp(logits)                                     # BUG: overflows for large logits
    p = e / e.sum(axis=-1, keepdims=True)
    self.save_for_backward(p)
    return -np.log(p[np.arange(len(self.labels)), self.labels]).mean()


# --- the plain-function exercises (notebooks 01, 03, 05) ------------------------------------------

def im2col_channels_first(x, kh, kw):
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    cols = np.empty((n, oh, ow, c, kh, kw))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = x[:, i:i + oh, j:j + ow, :]
    return cols.reshape(n * oh * ow, -1)


def im2col_kw_first(x, kh, kw):
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    cols = np.empty((n, oh, ow, kw, kh, c))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, j, i, :] = x[:, i:i + oh, j:j + ow, :]
    return cols.reshape(n * oh * ow, -1)


def im2col_loops_columns_first(x, kh, kw):
    n, h, w, c = x.shape
    rows = [x[b, i:i + kh, j:j + kw, :].ravel()
            for b in range(n) for j in range(w - kw + 1) for i in range(h - kh + 1)]
    return np.stack(rows)


def im2col_forgets_the_batch(x, kh, kw):
    return solution("im2col")(x[:1], kh, kw)


def sgd_uphill(w, g, lr):
    return w + lr * g


def sgd_without_rate(w, g, lr):
    return w - g


def momentum_step_before_accumulating(w, g, accum, lr, momentum):
    w = w - lr * accum
    return w, momentum * accum + g


def momentum_average(w, g, accum, lr, momentum):
    accum = momentum * accum + (1 - momentum) * g
    return w - lr * accum, accum


def momentum_forgets_the_state(w, g, accum, lr, momentum):
    new = momentum * accum + g
    return w - lr * new, accum


def momentum_half_rate(w, g, accum, lr, momentum):
    accum = momentum * accum + g
    return w - lr / 2 * accum, accum


def adam_without_bias_correction(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def adam_abs_instead_of_square(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * abs(g)
    lr_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - lr_t * m / (np.sqrt(v) + eps), m, v


def adam_betas_swapped(w, g, m, v, t, lr, beta1, beta2, eps):
    return solution("adam_update")(w, g, m, v, t, lr, beta2, beta1, eps)


def loop_without_zero_grad(params, batches, loss_fn, optimizer):
    losses = []
    for inputs, targets in batches:
        loss = loss_fn(inputs, targets)
        loss.backward()
        optimizer.apply_gradients([(p.grad, p) for p in params])
        losses.append(float(loss.data))
    return losses


def loop_forgets_to_update(params, batches, loss_fn, optimizer):
    losses = []
    for inputs, targets in batches:
        for p in params:
            p.zero_grad()
        loss = loss_fn(inputs, targets)
        loss.backward()
        losses.append(float(loss.data))
    return losses


def value_ops_with(**methods):
    return type("MyValue", (solution("value_ops"),), methods)


def _pow_without_minus_one(self, n):
    out = type(self)(self.data ** n, (self,))

    def _backward():
        self.grad += n * self.data ** n * out.grad
    out._backward = _backward
    return out


def _exp_at_input(self):
    out = type(self)(math.exp(self.data), (self,))

    def _backward():
        self.grad += self.data * out.grad
    out._backward = _backward
    return out


def _relu_always_open(self):
    out = type(self)(max(self.data, 0.0), (self,))

    def _backward():
        self.grad += out.grad
    out._backward = _backward
    return out


def _relu_assigns(self):
    out = type(self)(max(self.data, 0.0), (self,))

    def _backward():
        self.grad = (self.data > 0) * out.grad
    out._backward = _backward
    return out


def _exp_forgets_out_grad(self):
    out = type(self)(math.exp(self.data), (self,))

    def _backward():
        self.grad += out.data
    out._backward = _backward
    return out


def train_values_without_zero_grad(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


def train_values_uphill(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = 0.0
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data += lr * p.grad
        losses.append(loss.data)
    return losses


def train_values_keeps_the_loss_values(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = 0.0
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss)                              # BUG: the Value, not its number
    return losses


def train_values_update_before_backward(params, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0.0
        loss = loss_fn()
        loss.backward()
        losses.append(loss.data)
    return losses


WRONG_ANSWERS = [
    ("sigmoid", sigmoid_forgets_grad_output, ["ignores_grad_output"], "your backward ignores grad_output"),
    ("sigmoid", sigmoid_wrong_sign, ["sign_flipped"], "has its sign flipped"),
    ("sigmoid", sigmoid_factor_2, ["scaled"], "exactly twice the true one at every element: look for a factor of 2"),
    ("sigmoid", sigmoid_wrong_shape, ["extra_sum"],
     "it looks summed over axis 0 of grad_output (3, 4) (length 3); but 'x' has the output's shape"),
    ("sigmoid", sigmoid_with_input_instead_of_output, ["formula_on_input"],
     "the derivative written with the output, y * (1 - y), but evaluated at the input x"),
    ("sigmoid", sigmoid_formula_on_output, ["formula_on_output"],
     "the derivative evaluated at the output y instead of at the input x"),
    ("softmax", softmax_zeros, ["zeros"], "would not notice, because the outputs sum to a constant"),
    ("softmax", softmax_diagonal_only, ["diagonal_only"],
     "only the diagonal terms ds_j/dx_j of the Jacobian, as if softmax were elementwise"),
    ("softmax", softmax_sum_over_the_batch, ["reduced_wrong_axis"],
     "computes sum(g * s) over axis 0 (the rows, across examples) instead of the last axis"),
    ("matmul", matmul_transposed_grad, ["transposed"],
     "has shape (4, 3), the transpose of the input's shape (3, 4)"),
    ("matmul", matmul_one_gradient, ["wrong_count"], "returned 1 gradient but the op has 2 inputs (a, b)"),
    ("matmul", matmul_swapped, ["wrong_shape", "wrong_shape"], "has the wrong shape (4, 2)"),
    ("mse", mse_no_mean, ["scaled", "scaled"],
     "exactly 12 times the true one at every element: 12 is the number of elements of 'predictions'; "
     "did you forget to divide by it"),
    ("mse", mse_no_factor_2, ["scaled", "scaled"], "exactly half the true one"),
    ("mse", mse_targets_sign, ["sign_flipped"], "your gradient for 'targets' has its sign flipped"),
    ("mse", mse_forgets_grad_output, ["ignores_grad_output", "ignores_grad_output"],
     "your backward ignores grad_output"),
    ("mse", mse_no_targets_gradient, ["missing_gradient"], "returned None for 'targets'"),
    ("dense", dense_bias_mean, ["scaled"],
     "exactly 1/5 of the true one at every element: 5 is the length of axis 0 of 'x'"),
    ("dense", dense_weights_transposed, ["transposed"], "your gradient for 'w' has shape (2, 3), the transpose"),
    ("dense", dense_no_bias_gradient, ["wrong_count"], "returned 2 gradients but the op has 3 inputs (x, w, b)"),
    ("dense", dense_bias_summed_over_the_wrong_axis, ["reduced_wrong_axis"],
     "it looks summed over axis 1 of grad_output (5, 2) (length 2); but 'b' was broadcast over axis 0 "
     "(length 5): sum over that instead (`.sum(axis=0)`)"),
    ("dense", dense_bias_not_summed, ["missing_sum"],
     "'b' was broadcast over axis 0 of the output (length 5), so each of those 5 slices used the same "
     "'b' and its gradient is the sum of their contributions: sum over axis 0 (`.sum(axis=0)`)"),
    ("max_pool_2x2", pool_spreads_to_the_whole_window, ["nonzero_where_zero"],
     "nonzero at 108 of 144 elements where the true gradient is exactly zero"),
    ("max_pool_2x2", pool_averages, ["wrong"], "also nonzero at 108 elements where the true gradient is exactly zero"),
    ("max_pool_2x2", pool_forgets_grad_output, ["ignores_grad_output"], "your backward ignores grad_output"),
    ("max_pool_2x2", pool_not_reshaped, ["wrong_shape"], "it must have the input's shape (2, 4, 6, 3)"),
    # the layers
    ("tanh", tanh_formula_on_input, ["formula_on_input"], "is grad_output * (1 - x**2): the derivative "
     "written with the output, 1 - y**2, but evaluated at the input x"),
    ("tanh", tanh_square_misplaced, ["squared_the_wrong_thing"], "the square is on the wrong term"),
    ("tanh", tanh_formula_on_output, ["formula_on_output"], "evaluated at the output y instead of at the input x"),
    ("conv2d", conv_col2im_assigns, ["overlaps_overwritten"], "a later window overwrites an earlier one"),
    ("conv2d", conv_filter_grad_not_reshaped, ["wrong_shape"],
     "your gradient for 'w' has the wrong shape (12, 3): it must have the input's shape (3, 2, 2, 3)"),
    ("dropout", dropout_unscaled_backward, ["missing_scale"], "applies the mask but not the scale 1 / (1 - rate)"),
    ("dropout", dropout_backward_without_mask, ["missing_mask"], "reaches the dropped elements too"),
    ("dropout", {"forward": dropout_forward_unscaled}, ["forward_mismatch"], "your forward output differs"),
    ("batch_norm", bn_diagonal_only, ["diagonal_only"],
     "the path through x_hat only, as if the batch mean and variance were constants"),
    ("batch_norm", bn_no_variance_path, ["missing_variance_term"], "but not the one through the variance"),
    ("batch_norm", bn_means_over_features, ["reduced_wrong_axis"], "takes its means over axis 1"),
    ("batch_norm", bn_gamma_without_x_hat, ["missing_x_hat"], "is the sum of grad_output: that is beta's"),
    ("batch_norm", bn_gamma_beta_not_summed, ["missing_sum", "missing_sum"],
     "'gamma' was broadcast over axis 0 of the output (length 6)"),
    ("batch_norm", bn_beta_summed_over_features, ["reduced_wrong_axis"],
     "it looks summed over axis 1 of grad_output (6, 4) (length 4); but 'beta' was broadcast over axis 0"),
    ("softmax_cross_entropy", sce_without_one_hot, ["missing_one_hot"], "the one-hot labels are missing"),
    ("softmax_cross_entropy", sce_not_divided_by_n, ["scaled"],
     "exactly 5 times the true one at every element: 5 is the length of axis 0 of 'logits'"),
    ("softmax_cross_entropy", {"forward": sce_forward_unstable}, ["forward_mismatch"],
     "yours is nan, the reference gives"),
    # the plain-function exercises
    ("im2col", im2col_channels_first, ["channels_first"], "in (C, KH, KW) order"),
    ("im2col", im2col_kw_first, ["taps_transposed"], "column by column, (KW, KH, C)"),
    ("im2col", im2col_loops_columns_first, ["rows_column_major"], "column by column (j before i)"),
    ("im2col", im2col_forgets_the_batch, ["wrong_shape"], "your result 'columns' has shape (8, 18); it must have shape (16, 18)"),
    ("sgd_update", sgd_uphill, ["ascent"], "moves w *up* the gradient"),
    ("sgd_update", sgd_without_rate, ["missing_learning_rate"], "scale it by the learning rate"),
    ("momentum_update", momentum_step_before_accumulating, ["stale_state"], "from *before* adding this gradient"),
    ("momentum_update", momentum_average, ["dampened"], "your accumulator is an average"),
    ("momentum_update", momentum_forgets_the_state, ["state_not_returned"], "returns the old accumulator"),
    ("momentum_update", momentum_half_rate, ["wrong"], "differs from the reference at 30 of 30 elements"),
    ("adam_update", adam_without_bias_correction, ["no_bias_correction"], "has no bias correction"),
    ("adam_update", adam_abs_instead_of_square, ["v_not_squared"], "averages |g| instead of g**2"),
    ("adam_update", adam_betas_swapped, ["betas_swapped"], "swaps beta1 and beta2"),
    ("training_loop", loop_without_zero_grad, ["grads_accumulate"], "never clears the gradients"),
    ("training_loop", loop_forgets_to_update, ["wrong"], "your result 'losses' differs from the reference"),
    ("value_ops", value_ops_with(__pow__=_pow_without_minus_one), ["pow_exponent"], "n * x**(n - 1)"),
    ("value_ops", value_ops_with(exp=_exp_at_input), ["formula_on_input"], "which is out.data"),
    ("value_ops", value_ops_with(relu=_relu_always_open), ["relu_always_open"], "for negative inputs too"),
    ("value_ops", value_ops_with(relu=_relu_assigns), ["overwrites_grad"],
     "in case 'relu at 0.8': your closures assign `self.grad = ...` instead of adding"),
    ("value_ops", value_ops_with(exp=_exp_forgets_out_grad), ["ignores_grad_output"],
     "in cases 'exp at 0.4', 'exp at -1.1': your closures add the local derivative without"),
    ("value_training_loop", train_values_without_zero_grad, ["grads_accumulate"], "never sets the gradients back to 0"),
    ("value_training_loop", train_values_uphill, ["ascent"], "moves the parameters *up* the gradient"),
    ("value_training_loop", train_values_update_before_backward, ["update_before_backward"],
     "updates the parameters before computing this step's gradient"),
    ("value_training_loop", train_values_keeps_the_loss_values, ["not_an_array"], "is not an array of numbers"),
]




# --- notebooks 06-12 -------------------------------------------------------------------------------

class AccuracyOfBatchMeans:
    def __init__(self):
        self.total, self.batches = 0.0, 0

    def update(self, logits, labels):
        self.total += (logits.argmax(axis=1) == labels).mean()
        self.batches += 1

    def result(self):
        return self.total / self.batches


class AccuracyThatForgets:
    def __init__(self):
        self.correct, self.seen = 0, 0

    def update(self, logits, labels):
        self.correct = (logits.argmax(axis=1) == labels).sum()
        self.seen = len(labels)

    def result(self):
        return self.correct / self.seen


def bn_backward_direct_only(g, x_hat, gamma, sigma):
    return gamma * g / sigma


def bn_backward_no_variance_path(g, x_hat, gamma, sigma):
    right = solution("batch_norm_backward")(g, x_hat, gamma, sigma)
    return right + x_hat * (g * gamma * x_hat).mean(axis=0) / sigma  # the variance's term taken back out


def bn_backward_means_over_features(g, x_hat, gamma, sigma):
    d = g * gamma
    return (d - d.mean(axis=1, keepdims=True) - x_hat * (d * x_hat).mean(axis=1, keepdims=True)) / sigma


def rates_linspace(lr_min, lr_max, steps):
    return np.linspace(lr_min, lr_max, steps)


def rates_one_short(lr_min, lr_max, steps):
    return np.array([lr_min * (lr_max / lr_min) ** (k / steps) for k in range(steps)])


def flip_vertical(images, flip):
    out = images.copy()
    for i in np.flatnonzero(flip):
        out[i] = images[i, ::-1]
    return out


def flip_everything(images, flip):
    return images[:, :, ::-1]


def flip_in_place(images, flip):
    images[flip] = images[flip][:, :, ::-1]
    return images


def saliency_of_every_class(score_fn, images):
    x = slim.tensor(images, requires_grad=True)
    slim.nn.sum(score_fn(x)).backward()
    return np.abs(x.grad).max(axis=-1)


def saliency_without_abs(score_fn, images):
    x = slim.tensor(images, requires_grad=True)
    scores = score_fn(x)
    slim.nn.sum(scores * slim.tensor(np.eye(scores.shape[1])[scores.data.argmax(axis=1)])).backward()
    return x.grad.max(axis=-1)


def probe_summed_not_averaged(features, labels, w, b):
    logits = features @ w + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return features.T @ p, p.sum(axis=0)


def probe_bias_not_summed(features, labels, w, b):
    grad_w, _ = solution("probe_gradients")(features, labels, w, b)
    logits = features @ w + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return grad_w, (p - np.eye(w.shape[1])[labels]) / len(labels)


def log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def smoothing_over_the_others(logits, labels, smoothing):
    n, c = logits.shape
    target = np.full((n, c), smoothing / (c - 1))
    target[np.arange(n), labels] = 1 - smoothing
    return -(target * log_softmax(logits)).sum(axis=1).mean()


def smoothing_added_to_the_one_hot(logits, labels, smoothing):
    n, c = logits.shape
    target = np.eye(c)[labels] + smoothing / c
    return -(target * log_softmax(logits)).sum(axis=1).mean()


def smoothing_unstable(logits, labels, smoothing):
    n, c = logits.shape
    target = np.eye(c)[labels] * (1 - smoothing) + smoothing / c
    with np.errstate(all="ignore"):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return -(target * np.log(p)).sum(axis=1).mean()


WRONG_ANSWERS += [
    ("streaming_accuracy", AccuracyOfBatchMeans, ["mean_of_batch_means"], "mean of the batches' accuracies"),
    ("streaming_accuracy", AccuracyThatForgets, ["last_batch_only"], "the accuracy of the last batch only"),
    ("batch_norm_backward", bn_backward_direct_only, ["direct_path_only"], "only the direct path"),
    ("batch_norm_backward", bn_backward_no_variance_path, ["missing_variance_term"], "the path through the variance"),
    ("batch_norm_backward", bn_backward_means_over_features, ["wrong"], "differs from the reference"),
    ("range_test_rates", rates_linspace, ["linear"], "constant *step* (np.linspace)"),
    ("range_test_rates", rates_one_short, ["stops_short"], "your last rate is below lr_max"),
    ("flip_some", flip_vertical, ["upside_down"], "flipped upside down (axis 1, the height)"),
    ("flip_some", flip_everything, ["flipped_all"], "you mirror every image"),
    ("flip_some", flip_in_place, ["wrong"], "your result 'input after the call' differs"),
    ("saliency_map", saliency_of_every_class, ["all_scores"], "the sum of *all* the class scores"),
    ("saliency_map", saliency_without_abs, ["signed"], "keeps the gradient's sign"),
    ("probe_gradients", probe_summed_not_averaged, ["not_averaged"], "N times the true ones"),
    ("probe_gradients", probe_bias_not_summed, ["wrong_shape"], "your result 'dL/db' has shape (12, 4)"),
    ("smoothed_cross_entropy", smoothing_over_the_others, ["others_only"], "s / (C - 1) on the others"),
    ("smoothed_cross_entropy", smoothing_added_to_the_one_hot, ["not_renormalised"], "sums to 1 + s"),
    ("smoothed_cross_entropy", smoothing_unstable, ["wrong"], "in case '2 examples with large logits (s = 0.1)'"),
]


# --- notebooks 13-15 -------------------------------------------------------------------------------

def varint_highest_group_first(data, position):
    value = 0
    while data[position] & 0x80:
        value = value * 128 + (data[position] & 0x7F)
        position += 1
    return value * 128 + data[position], position + 1


def varint_keeps_the_top_bit(data, position):
    value = 0
    for k, byte in enumerate(data[position:]):
        value |= byte << (7 * k)
        if byte < 128:
            return value, position + k + 1


def hvp_first_order(loss_fn, params, v):
    grads = slim.grad(loss_fn(params), params)
    return [g.data * d for g, d in zip(grads, v)]


def hvp_without_v(loss_fn, params, v):
    grads = slim.grad(loss_fn(params), params, create_graph=True)
    return [h.data * d for h, d in zip(slim.grad(sum(g.sum() for g in grads), params), v)]


def reduce_scatter_leftwards(chunks, round_):
    n = len(chunks)
    for i in range(n):
        chunks[(i - 1) % n][(i - round_) % n] += chunks[i][(i - round_) % n]
    return chunks


def reduce_scatter_replaces(chunks, round_):
    n = len(chunks)
    sent = [chunks[i][(i - round_) % n].copy() for i in range(n)]
    for i in range(n):
        chunks[(i + 1) % n][(i - round_) % n] = sent[i]
    return chunks


def reduce_scatter_sends_ahead(chunks, round_):
    n = len(chunks)
    sent = [chunks[i][(i + round_) % n].copy() for i in range(n)]
    for i in range(n):
        chunks[(i + 1) % n][(i + round_) % n] += sent[i]
    return chunks


WRONG_ANSWERS += [
    ("read_varint", varint_highest_group_first, ["big_endian"], "a varint is little-endian"),
    ("read_varint", varint_keeps_the_top_bit, ["continuation_bit_kept"], "continuation bit included"),
    ("hessian_vector_product", hvp_first_order, ["gradient_times_v"], "first-order only"),
    ("hessian_vector_product", hvp_without_v, ["row_sums_times_v"], "that is (H 1) * v, not H v"),
    ("reduce_scatter_round", reduce_scatter_leftwards, ["sends_left"], "send to their *left* neighbour"),
    ("reduce_scatter_round", reduce_scatter_replaces, ["overwrites"], "it must *add* it"),
    ("reduce_scatter_round", reduce_scatter_sends_ahead, ["wrong_chunk"], "it must send (i - round_) mod N"),
]


def wrong_answer(name, wrong):
    if get(name).kind != "function_class":
        return wrong
    methods = wrong if isinstance(wrong, dict) else {"backward": wrong}
    return type("Wrong", (solution(name),), methods)


def label(entry):
    wrong = entry[1]
    what = wrong.__name__ if callable(wrong) and not isinstance(wrong, type) else \
        "-".join(wrong) if isinstance(wrong, dict) else "-".join(k for k in vars(wrong) if not k.startswith("__") or k == "__pow__")
    return f"{entry[0]}-{what}"


def test_the_catalogue_is_large_and_covers_every_exercise():
    from minislim.exercises import names
    assert len(WRONG_ANSWERS) >= 20
    assert {entry[0] for entry in WRONG_ANSWERS} == set(names())
    codes = {code for entry in WRONG_ANSWERS for code in entry[2]}
    assert {"missing_sum", "reduced_wrong_axis", "diagonal_only", "formula_on_input",
            "formula_on_output", "extra_sum"} <= codes


@pytest.mark.parametrize("name, wrong, codes, words", WRONG_ANSWERS, ids=[label(e) for e in WRONG_ANSWERS])
def test_the_checker_rejects_a_wrong_answer_with_its_diagnosis(name, wrong, codes, words):
    result = check(wrong_answer(name, wrong), name, verbose=False)
    text = str(result)
    assert not result.passed
    assert result.codes == codes, text
    assert any(words in problem.message for problem in result.problems), text
    maths = [p for p in result.problems if p.code not in NOT_ABOUT_THE_MATHS]
    assert ("hint" in text) == bool(maths), text  # hints follow maths problems only
