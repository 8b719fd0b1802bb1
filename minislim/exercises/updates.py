"""Plain-function exercises of notebooks 03 and 05: im2col, the SGD, momentum and Adam
updates (checked against :mod:`minislim.optimizers`) and a training loop on tensors.

>>> from minislim import exercises
>>> [n for n in exercises.names() if n.endswith("_update")]
['sgd_update', 'momentum_update', 'adam_update']
"""
from __future__ import annotations

import math

import numpy as np

from minislim.exercises.functional import FunctionExercise, WrongImplementation
from minislim.exercises.registry import add
from minislim.autograd.tensor import tensor
from minislim.optimizers import SGD, Adam, Momentum

# --- im2col (notebook 03) ----------------------------------------------------------------------


def _im2col(x, kh, kw, order=(3, 4, 5)):
    """Columns [N*OH*OW, KH*KW*C] of a VALID, stride-1 window; ``order`` permutes (KH, KW, C)."""
    from minislim.kernels.im2col import im2col
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    cols = im2col(x, (kh, kw), (1, 1), (1, 1), ((0, 0), (0, 0)), (oh, ow))
    return cols.transpose((0, 1, 2) + tuple(order)).reshape(n * oh * ow, kh * kw * c)


def _im2col_channels_first(x, kh, kw):
    return _im2col(x, kh, kw, order=(5, 3, 4))


def _im2col_taps_transposed(x, kh, kw):
    return _im2col(x, kh, kw, order=(4, 3, 5))


def _im2col_columns_first(x, kh, kw):
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    rows = _im2col(x, kh, kw).reshape(n, oh, ow, -1)
    return rows.transpose(0, 2, 1, 3).reshape(n * oh * ow, -1)


def _run_im2col(implementation, case):
    x, kh, kw = case
    return {"columns": implementation(x.copy(), kh, kw)}


def _im2col_cases(rng):
    return [("1 image 4x5x1, 3x2 kernel", (rng.standard_normal((1, 4, 5, 1)), 3, 2)),
            ("2 images 5x4x3, 2x3 kernel", (rng.standard_normal((2, 5, 4, 3)), 2, 3))]


add(FunctionExercise(
    name="im2col",
    title="im2col: every window of an image becomes one row",
    task=("my_im2col(x, kh, kw) for x [N, H, W, C], VALID padding, stride 1: OH = H - kh + 1,\n"
          "OW = W - kw + 1. Return the columns [N*OH*OW, kh*kw*C]: row (n*OH + i)*OW + j is\n"
          "the window x[n, i:i+kh, j:j+kw, :] flattened in (kh, kw, C) order, the order in which\n"
          "w.reshape(-1, OC) lays out a filter [KH, KW, C, OC]."),
    function_name="my_im2col",
    reference=_im2col,
    run=_run_im2col,
    make_cases=_im2col_cases,
    hint=("fill an array [N, OH, OW, KH, KW, C] (for each tap (i, j), the slice x[:, i:i+OH, j:j+OW, :]) "
          "and reshape it: reshape keeps row-major order."),
    mistakes=(
        WrongImplementation("channels_first", _im2col_channels_first,
                            "your rows hold each window in (C, KH, KW) order (all taps of channel 0 "
                            "first); the filters flatten as (KH, KW, C), channel fastest, so the product "
                            "with w.reshape(-1, OC) would mix channels up. Put C last."),
        WrongImplementation("taps_transposed", _im2col_taps_transposed,
                            "your rows list a window's taps column by column, (KW, KH, C); the filter "
                            "order is row by row, (KH, KW, C)."),
        WrongImplementation("rows_column_major", _im2col_columns_first,
                            "your rows go through the output pixels column by column (j before i); the "
                            "output y[n, i, j] is row (n*OH + i)*OW + j, row-major, so the reshape to "
                            "[N, OH, OW, OC] would put the pixels in the wrong places."),
    ),
))


# --- optimizer updates (notebook 05), against minislim.optimizers --------------------------------

_GRADS = 5  # updates per case


def _gradients(rng, shape=(2, 3)):
    return [rng.standard_normal(shape) for _ in range(_GRADS)]


def _optimizer_trajectory(optimizer, w0, grads):
    """The values of a float64 variable after each of ``optimizer``'s updates."""
    var = tensor(w0.copy())
    var.name = "w"
    values = []
    for g in grads:
        optimizer.apply_gradients([(g.copy(), var)])
        values.append(var.data.copy())
    return np.stack(values)


def _run_update(update, case):
    """Apply ``update`` (a reference optimizer's name or the student's function) step by step."""
    kind, w0, grads, hyper = case
    if isinstance(update, str):
        optimizer = {"sgd": lambda: SGD(hyper["lr"]),
                     "momentum": lambda: Momentum(hyper["lr"], hyper["momentum"]),
                     "adam": lambda: Adam(hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["eps"])}[update]()
        return {"w after each update": _optimizer_trajectory(optimizer, w0, grads)}
    w, values = w0.copy(), []
    state = [np.zeros_like(w0), np.zeros_like(w0)]
    for t, g in enumerate(grads, start=1):
        if kind == "sgd":
            w = update(w, g.copy(), hyper["lr"])
        elif kind == "momentum":
            w, state[0] = update(w, g.copy(), state[0], hyper["lr"], hyper["momentum"])
        else:
            w, state[0], state[1] = update(w, g.copy(), state[0], state[1], t, hyper["lr"], hyper["beta1"],
                                           hyper["beta2"], hyper["eps"])
        values.append(np.array(w, dtype=np.float64, copy=True))
    return {"w after each update": np.stack(values)}


def _cases(kind, **hyper):
    def make(rng):
        w0 = rng.standard_normal((2, 3))
        grads = _gradients(rng)
        scaled = [g * 10 for g in _gradients(rng)]
        return [(f"{kind}, {_GRADS} updates", (kind, w0, grads, hyper)),
                (f"{kind}, larger gradients", (kind, w0, scaled, hyper))]
    return make


def _reference(name):
    return name  # _run_update turns the name into minislim's optimizer


def _sgd_uphill(w, g, lr):
    return w + lr * g


def _sgd_no_lr(w, g, lr):
    return w - g


add(FunctionExercise(
    name="sgd_update",
    title="The SGD update",
    task="sgd_update(w, g, lr) returns the new w: one step of size lr against the gradient g.",
    function_name="sgd_update",
    reference=_reference("sgd"),
    run=_run_update,
    make_cases=_cases("sgd", lr=0.1),
    hint="w <- w - lr * g.",
    mistakes=(
        WrongImplementation("ascent", _sgd_uphill, "your update moves w *up* the gradient (w + lr * g); "
                            "descent subtracts: w - lr * g."),
        WrongImplementation("missing_learning_rate", _sgd_no_lr, "your update subtracts the whole gradient: "
                            "scale it by the learning rate, w - lr * g."),
    ),
))


def _momentum_stale(w, g, accum, lr, momentum):
    new = momentum * accum + g
    return w - lr * accum, new


def _momentum_dampened(w, g, accum, lr, momentum):
    accum = momentum * accum + (1 - momentum) * g
    return w - lr * accum, accum


def _momentum_state_lost(w, g, accum, lr, momentum):
    new = momentum * accum + g
    return w - lr * new, accum


add(FunctionExercise(
    name="momentum_update",
    title="The momentum update (TF's form, as slim.optimizers.Momentum)",
    task=("momentum_update(w, g, accum, lr, momentum) returns (new w, new accum):\n"
          "accum <- momentum * accum + g, then w <- w - lr * accum (accum starts at zeros)."),
    function_name="momentum_update",
    reference=_reference("momentum"),
    run=_run_update,
    make_cases=_cases("momentum", lr=0.1, momentum=0.9),
    hint="first the accumulator (a decaying sum of the gradients), then the step with the new accumulator.",
    mistakes=(
        WrongImplementation("stale_state", _momentum_stale,
                            "your step uses the accumulator from *before* adding this gradient: update "
                            "accum first (momentum * accum + g), then step with the new value."),
        WrongImplementation("dampened", _momentum_dampened,
                            "your accumulator is an average, momentum * accum + (1 - momentum) * g; TF's "
                            "and slim's momentum add the whole gradient (momentum * accum + g), so their "
                            "steps are 1 / (1 - momentum) times larger at equilibrium."),
        WrongImplementation("state_not_returned", _momentum_state_lost,
                            "your update returns the old accumulator, so the next call starts from it "
                            "again: momentum never builds up. Return the new accum."),
    ),
))


def _adam_no_correction(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _adam_v_not_squared(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * np.abs(g)
    lr_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - lr_t * m / (np.sqrt(v) + eps), m, v


def _adam_betas_swapped(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta2 * m + (1 - beta2) * g
    v = beta1 * v + (1 - beta1) * g * g
    lr_t = lr * math.sqrt(1 - beta1 ** t) / (1 - beta2 ** t)
    return w - lr_t * m / (np.sqrt(v) + eps), m, v


add(FunctionExercise(
    name="adam_update",
    title="The Adam update (as slim.optimizers.Adam)",
    task=("adam_update(w, g, m, v, t, lr, beta1, beta2, eps) returns (new w, new m, new v); t is\n"
          "1 at the first update. m <- beta1 m + (1 - beta1) g; v <- beta2 v + (1 - beta2) g**2;\n"
          "lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t); w <- w - lr_t * m / (sqrt(v) + eps)."),
    function_name="adam_update",
    reference=_reference("adam"),
    run=_run_update,
    make_cases=_cases("adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8),
    hint=("m and v start at zero, so early on they are too small by the factors (1 - beta1**t) and "
          "(1 - beta2**t): the bias correction divides them out."),
    mistakes=(
        WrongImplementation("no_bias_correction", _adam_no_correction,
                            "your update has no bias correction: m and v start at zero, so in the first "
                            "steps they underestimate the moments by (1 - beta1**t) and (1 - beta2**t). "
                            "Use lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)."),
        WrongImplementation("v_not_squared", _adam_v_not_squared,
                            "your v averages |g| instead of g**2: the second moment is the mean of the "
                            "squared gradient, and sqrt(v) is then its root mean square."),
        WrongImplementation("betas_swapped", _adam_betas_swapped,
                            "your update swaps beta1 and beta2: beta1 (0.9, short memory) belongs to the "
                            "first moment m, beta2 (0.999, long memory) to v."),
    ),
))


# --- a training loop on tensors (notebook 05) ----------------------------------------------------

def _regression_problem():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 3))
    t = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    params = [tensor(rng.standard_normal((3, 1)) * 0.1, requires_grad=True),
              tensor(np.zeros(1), requires_grad=True)]
    params[0].name, params[1].name = "w", "b"
    batches = [(x[i:i + 4], t[i:i + 4]) for i in range(0, 12, 4)] * 2

    def loss_fn(inputs, targets):
        residual = tensor(inputs) @ params[0] + params[1] - tensor(targets)
        return (residual * residual).mean()
    return params, batches, loss_fn


def _run_training_loop(loop, case):
    params, batches, loss_fn = _regression_problem()
    optimizer = SGD(case)
    losses = loop(params, batches, loss_fn, optimizer)
    return {"losses": losses, "parameters": np.concatenate([p.data.ravel() for p in params])}


def _loop(params, batches, loss_fn, optimizer):
    losses = []
    for inputs, targets in batches:
        for p in params:
            p.zero_grad()
        loss = loss_fn(inputs, targets)
        loss.backward()
        optimizer.apply_gradients([(p.grad, p) for p in params])
        losses.append(float(loss.data))
    return losses


def _loop_no_zero(params, batches, loss_fn, optimizer):
    losses = []
    for inputs, targets in batches:
        loss = loss_fn(inputs, targets)
        loss.backward()
        optimizer.apply_gradients([(p.grad, p) for p in params])
        losses.append(float(loss.data))
    return losses


add(FunctionExercise(
    name="training_loop",
    title="The training loop that slim.learning.train runs",
    task=("train_loop(params, batches, loss_fn, optimizer): for each (inputs, targets) batch, clear\n"
          "every parameter's gradient (p.zero_grad()), compute loss = loss_fn(inputs, targets),\n"
          "loss.backward(), then optimizer.apply_gradients([(p.grad, p) for p in params]); record\n"
          "float(loss.data). Return the list of losses."),
    function_name="train_loop",
    reference=_loop,
    run=_run_training_loop,
    make_cases=lambda rng: [("SGD, lr 0.1", 0.1), ("SGD, lr 0.02", 0.02)],
    hint="one step: zero_grad, forward, backward, apply_gradients.",
    mistakes=(
        WrongImplementation("grads_accumulate", _loop_no_zero,
                            "your loop never clears the gradients: backward *adds* to p.grad, so each "
                            "update uses the sum of every gradient so far. Call p.zero_grad() for every "
                            "parameter before each backward."),
    ),
))
