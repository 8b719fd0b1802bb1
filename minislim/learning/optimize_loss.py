"""``optimize_loss``: TF-Slim's one-call training step (``tf_slim.optimize_loss``), eagerly.

TF builds the step once and runs it many times; here every call *is* a step: it
differentiates ``loss`` (a scalar Tensor just computed), transforms the gradients
(noise, multipliers, clipping by the global norm), updates the variables, adds one to the
global step and records the summaries. It returns ``loss``, as TF's train tensor evaluates
to the loss.

An optimizer given by name (``"SGD"``, ``"Momentum"`` (momentum 0.9), ``"Adam"``,
``"Adagrad"``, ``"RMSProp"``) or by class is made on the first call and kept (in the graph,
per ``name``), so its slots carry over from step to step as in TF. A float learning rate
becomes the non-trainable variable ``OptimizeLoss/learning_rate``, as in TF.

>>> import numpy as np
>>> import minislim as slim
>>> w = slim.variable("w", shape=[2], initializer=slim.zeros_initializer())
>>> step = slim.get_or_create_global_step()
>>> for _ in range(3):
...     loss = slim.losses.sum_of_squares((w * slim.tensor([1.0, 2.0])).sum(), slim.tensor(3.0))
...     _ = slim.optimize_loss(loss, step, learning_rate=0.05, optimizer="SGD")
>>> int(step.data), [round(v, 4) for v in w.data.tolist()]
(3, [0.525, 1.05])
>>> round(slim.get_unique_variable("OptimizeLoss/learning_rate").item(), 6)
0.05
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.tensor import Tensor
from minislim.framework.graph import get_default_graph
from minislim.framework.initializers import constant_initializer
from minislim.framework.scopes import AUTO_REUSE, variable_scope
from minislim.framework.variables import assert_global_step, get_global_step, get_trainable_variables, variable
from minislim.learning.gradients import multiply_gradients
from minislim.learning.summaries import add_histogram_summary, add_scalar_summary
from minislim.learning.train_op import global_norm
from minislim.optimizers.adagrad import Adagrad
from minislim.optimizers.adam import Adam
from minislim.optimizers.optimizer import Optimizer
from minislim.optimizers.rmsprop import RMSProp
from minislim.optimizers.sgd import SGD, Momentum

OPTIMIZER_CLS_NAMES = {
    "Adagrad": Adagrad,
    "Adam": Adam,
    "Momentum": lambda learning_rate: Momentum(learning_rate, momentum=0.9),
    "RMSProp": RMSProp,
    "SGD": SGD,
}
OPTIMIZER_SUMMARIES = ["learning_rate", "loss", "gradients", "gradient_norm", "global_gradient_norm"]
_CACHE = "minislim/optimize_loss_optimizers"  # a graph collection of (name, key, optimizer)


def _learning_rate(learning_rate, scope: str):
    if learning_rate is None or callable(learning_rate):
        return learning_rate
    if isinstance(learning_rate, Tensor) and learning_rate.ndim == 0:
        return float(learning_rate.item())
    if isinstance(learning_rate, float):
        if learning_rate < 0.0:
            raise ValueError(f"Invalid learning_rate {learning_rate}.")
        with variable_scope(scope, reuse=AUTO_REUSE):
            var = variable("learning_rate", shape=[], trainable=False,
                           initializer=constant_initializer(learning_rate))
        return float(var.item())
    raise ValueError(f"Learning rate should be 0d Tensor or float. Got {learning_rate!r} of type "
                     f"{type(learning_rate)}")


def _optimizer(optimizer, rate, scope: str) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        return optimizer
    graph = get_default_graph()
    key = optimizer if isinstance(optimizer, str) else getattr(optimizer, "__qualname__", repr(optimizer))
    for name, cached_key, cached in graph.get_collection(_CACHE):
        if name == scope and cached_key == key:
            cached.learning_rate = rate if rate is not None else cached.learning_rate
            return cached
    if isinstance(optimizer, str):
        if rate is None:
            raise ValueError(f"Learning rate is None, but should be specified if optimizer is string ({optimizer}).")
        if optimizer not in OPTIMIZER_CLS_NAMES:
            raise ValueError(f"Optimizer name should be one of [{', '.join(OPTIMIZER_CLS_NAMES)}], you provided "
                             f"{optimizer}." + (" (Ftrl is not in minislim)" if optimizer == "Ftrl" else ""))
        opt = OPTIMIZER_CLS_NAMES[optimizer](learning_rate=rate)
    elif isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        if rate is None:
            raise ValueError(f"Learning rate is None, but should be specified if optimizer is class ({optimizer}).")
        opt = optimizer(learning_rate=rate)
    elif callable(optimizer):
        opt = optimizer(rate) if rate is not None else optimizer()
        if not isinstance(opt, Optimizer):
            raise ValueError(f"Unrecognized optimizer: function should return subclass of Optimizer. Got {opt}.")
    else:
        raise ValueError("Unrecognized optimizer: should be string, subclass of Optimizer, instance of subclass of "
                         f"Optimizer or function with one argument. Got {optimizer}.")
    graph.add_to_collection(_CACHE, (scope, key, opt), persistent=True)
    return opt


def optimize_loss(loss, global_step, learning_rate, optimizer, gradient_noise_scale=None,
                  gradient_multipliers=None, clip_gradients=None, learning_rate_decay_fn=None,
                  update_ops=None, variables=None, name=None, summaries=None,
                  colocate_gradients_with_ops=False, increment_global_step=True):
    """Run one optimization step on ``loss`` (see the module docstring); returns ``loss``.

    Args:
        loss: a scalar Tensor.
        global_step: the global step variable, or None (the graph's, if any).
        learning_rate: a float, a scalar Tensor, a schedule of the step, or None (then
            ``optimizer`` must be an instance or a function of no arguments).
        optimizer: a name of ``OPTIMIZER_CLS_NAMES``, an Optimizer subclass, an
            instance, or a function ``learning_rate -> Optimizer``.
        gradient_noise_scale: add Gaussian noise of this standard deviation to every
            gradient (drawn from the graph's ``gradient_noise`` stream).
        gradient_multipliers: ``{variable or name: factor}``.
        clip_gradients: a float (clip by the global norm) or a function of the
            ``(gradient, variable)`` list returning a new one.
        learning_rate_decay_fn: ``(learning_rate, global_step) -> learning_rate`` (floats
            here), called at every step.
        update_ops, colocate_gradients_with_ops: accepted, ignored (nothing to run).
        variables: to optimize (default: every trainable variable).
        name: the scope (default ``OptimizeLoss``).
        summaries: which of ``OPTIMIZER_SUMMARIES`` to record in SUMMARIES (default
            loss, learning_rate, global_gradient_norm; see :mod:`~minislim.learning.summaries`).
        increment_global_step: add one to ``global_step``.

    Raises:
        ValueError: TF-Slim's: a loss that is not a scalar, an unknown optimizer or
            summary, a negative rate, a decay function without a global step, ...
    """
    if not isinstance(loss, Tensor) or loss.data.size != 1:
        raise ValueError(f"optimize_loss: loss must be a scalar Tensor, got {getattr(loss, 'shape', loss)!r}")
    if global_step is None:
        global_step = get_global_step()
    else:
        assert_global_step(global_step)
    scope = name or "OptimizeLoss"
    rate = _learning_rate(learning_rate, scope)
    if summaries is None:
        summaries = ["loss", "learning_rate", "global_gradient_norm"]
    for summary in summaries:
        if summary not in OPTIMIZER_SUMMARIES:
            raise ValueError(f"Summaries should be one of [{', '.join(OPTIMIZER_SUMMARIES)}], you provided {summary}.")
    if rate is not None and learning_rate_decay_fn is not None:
        if global_step is None:
            raise ValueError("global_step is required for learning_rate_decay_fn.")
        base = rate
        rate = lambda step: float(learning_rate_decay_fn(base, step))  # noqa: E731
    opt = _optimizer(optimizer, rate, scope)
    step_now = None if global_step is None else int(np.asarray(global_step.data))
    if "learning_rate" in summaries and rate is not None:
        add_scalar_summary(opt.current_learning_rate(step_now), "learning_rate")

    variables = get_trainable_variables() if variables is None else list(variables)
    gradients = opt.compute_gradients(loss, variables)
    if gradient_noise_scale is not None:
        noise_rng = get_default_graph().rng("gradient_noise")
        gradients = [(None if g is None else g + noise_rng.normal(size=g.shape).astype(g.dtype) *
                      g.dtype.type(gradient_noise_scale), v) for g, v in gradients]
    if gradient_multipliers is not None:
        gradients = multiply_gradients(gradients, gradient_multipliers)
    if "global_gradient_norm" in summaries or "gradient_norm" in summaries:
        add_scalar_summary(global_norm([g for g, _ in gradients]), "global_norm/gradient_norm")
    if isinstance(clip_gradients, float):
        norm = global_norm([g for g, _ in gradients])
        if norm > clip_gradients:  # TF's clip_by_global_norm
            scale = clip_gradients / norm
            gradients = [(None if g is None else g * g.dtype.type(scale), v) for g, v in gradients]
    elif callable(clip_gradients):
        gradients = clip_gradients(gradients)
    elif clip_gradients is not None:
        raise ValueError(f"Unknown type {type(clip_gradients)} for clip_gradients")
    if "loss" in summaries:
        add_scalar_summary(loss, "loss")
    for grad, var in gradients:
        if grad is not None:
            if "gradients" in summaries:
                add_histogram_summary(grad, f"gradients/{var.name}")
            if "gradient_norm" in summaries:
                add_scalar_summary(global_norm([grad]), f"gradient_norm/{var.name}")
    if clip_gradients is not None and ("global_gradient_norm" in summaries or "gradient_norm" in summaries):
        add_scalar_summary(global_norm([g for g, _ in gradients]), "global_norm/clipped_gradient_norm")
    opt.apply_gradients(gradients, global_step=global_step if increment_global_step else None)
    return loss
