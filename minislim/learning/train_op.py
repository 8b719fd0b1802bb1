"""``create_train_op``: one training step as a callable (TF-Slim's ``learning.create_train_op``).

``step = create_train_op(loss_fn, optimizer)`` returns a :class:`TrainOp`. Each call
``step(*batch)``:

1. runs ``loss_fn(*batch)`` inside a template (first call: variables created; later
   calls: reused; the LOSSES collection starts empty each time), which returns the loss;
2. checks that the loss is finite (``check_numerics``), back-propagates, and checks the
   gradients too, before anything is changed;
3. scales gradients by ``gradient_multipliers``, clips each one to ``clip_gradient_norm``
   (TF's per-tensor ``clip_by_norm``) and/or all together to ``clip_global_norm``;
4. lets the optimizer update the variables and adds one to the global step;
5. returns the loss as a Python float.

>>> import numpy as np
>>> import minislim as slim
>>> def loss_fn(x, y):
...     w = slim.variable("w", shape=[2], initializer=slim.zeros_initializer())
...     return slim.losses.sum_of_squares((x * w).sum(axis=1), y)
>>> step = create_train_op(loss_fn, slim.optimizers.SGD(0.05))
>>> x, y = np.array([[1.0, 2.0]], np.float32), np.array([3.0], np.float32)
>>> [round(step(x, y), 4) for _ in range(3)]
[9.0, 2.25, 0.5625]
>>> int(step.global_step.data)
3
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.grad_mode import enable_grad, no_grad
from minislim.autograd.tensor import Tensor
from minislim.framework.graph import get_default_graph
from minislim.framework.variables import get_or_create_global_step, get_trainable_variables, get_variables
from minislim.learning.templates import model_template
from minislim.parallel.data_parallel import allreduce_gradients, any_rank, broadcast_variables, split_random_streams


class NonFiniteError(FloatingPointError):
    """The loss or a gradient is NaN or infinite; no variable was changed by this step."""


def clip_by_norm(grad: np.ndarray, max_norm: float) -> np.ndarray:
    """``grad * max_norm / max(norm(grad), max_norm)`` (a new array; TF's ``clip_by_norm``)."""
    norm = float(np.sqrt(np.sum(np.square(grad, dtype=np.float64))))
    if norm <= max_norm:
        return grad
    return grad * grad.dtype.type(max_norm / norm)


def global_norm(grads) -> float:
    """``sqrt(sum of squared norms)`` over the gradients that are not None."""
    return float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads if g is not None)))


class TrainOp:
    """The callable returned by :func:`create_train_op` (see the module docstring).

    Attributes:
        template: the template around ``loss_fn``.
        optimizer: the optimizer.
        global_step: the graph's ``global_step`` variable (int64 scalar).
        last_grads_and_vars: the (gradient, variable) pairs of the latest step, after
            multipliers and clipping (what the optimizer applied).
        last_global_norm: the global gradient norm of the latest step, before clipping.
    """

    def __init__(self, loss_fn, optimizer, clip_gradient_norm: float = 0, clip_global_norm: float = 0,
                 variables_to_train=None, gradient_multipliers: dict | None = None,
                 check_numerics: bool = True, communicator=None):
        for label, value in (("clip_gradient_norm", clip_gradient_norm), ("clip_global_norm", clip_global_norm)):
            if value < 0:
                raise ValueError(f"create_train_op: {label} must be >= 0 (0 disables it), got {value}")
        self.template = model_template(loss_fn)
        self.optimizer = optimizer
        self.clip_gradient_norm = float(clip_gradient_norm)
        self.clip_global_norm = float(clip_global_norm)
        self.variables_to_train = _check_variables_to_train(variables_to_train)
        self.gradient_multipliers = dict(gradient_multipliers or {})
        self.check_numerics = bool(check_numerics)
        self.global_step = get_or_create_global_step()
        self.last_grads_and_vars: list = []
        self.last_global_norm = None
        self.batch_size = None
        self.applying = False
        self.communicator = communicator  # data parallelism (slim.parallel): None, or a communicator
        self._variables_synced = False

    # --- pieces ------------------------------------------------------------------------
    def build(self, *batch) -> None:
        """Run the model once without training it, to create its variables (no update).

        ``train`` calls this before restoring a checkpoint or calling ``init_fn``.
        """
        with no_grad():
            self.template(*batch)

    def variables(self) -> list:
        """The variables this step trains (names and scopes resolved now, the model built)."""
        if self.variables_to_train is None:
            return list(get_trainable_variables())
        chosen = {}  # id -> variable, in order: a variable named twice is trained once
        for item in self.variables_to_train:
            found = get_trainable_variables(scope=item) if isinstance(item, str) else [item]
            if not found:
                names = [v.name for v in get_trainable_variables()]
                raise ValueError(f"create_train_op: variables_to_train: {item!r} matches no trainable variable "
                                 f"(they are {names})")
            chosen.update((id(v), v) for v in found)
        return list(chosen.values())

    def _multiplier(self, var):
        for key, value in self.gradient_multipliers.items():
            if key is var or (isinstance(key, str) and key == getattr(var, "name", None)):
                return value
        return None

    def _check_multipliers(self, var_list) -> None:
        names = {v.name for v in var_list}
        unknown = [k if isinstance(k, str) else getattr(k, "name", k) for k in self.gradient_multipliers
                   if not (k in names if isinstance(k, str) else any(k is v for v in var_list))]
        if unknown:
            raise ValueError(f"create_train_op: gradient_multipliers name variables that are not trained: {unknown}")

    # --- one step ----------------------------------------------------------------------
    def __call__(self, *batch) -> float:
        if self.communicator is not None and not self._variables_synced:
            split_random_streams(self.communicator, get_default_graph())  # each process its own dropout masks
        with enable_grad():
            loss = self.template(*batch)
        if self.communicator is not None and not self._variables_synced:
            loss = self._start_in_sync(batch, loss)
        if not isinstance(loss, Tensor) or loss.data.size != 1:
            raise TypeError(f"create_train_op: loss_fn must return a scalar Tensor (e.g. "
                            f"slim.losses.get_total_loss()), got {type(loss).__name__}"
                            f"{' of shape ' + str(loss.shape) if isinstance(loss, Tensor) else ''}")
        step = int(self.global_step.data)
        value = float(loss.data)
        if self.check_numerics and not np.isfinite(value):
            raise NonFiniteError(f"step {step + 1}: the loss is {value} (not finite); this step changed nothing")
        if not loss.requires_grad:
            raise ValueError("create_train_op: the loss does not depend on any trainable variable")
        var_list = self.variables()
        if self.gradient_multipliers:
            self._check_multipliers(var_list)
        for var in get_trainable_variables():
            var.grad = None  # also those not trained here: nothing piles up in them
        grads_and_vars = self.optimizer.compute_gradients(loss, var_list)
        if self.communicator is not None:  # the weighted mean over the processes' shards
            grads, value, global_batch = allreduce_gradients(self.communicator, [g for g, _ in grads_and_vars],
                                                             value, len(batch[0]))
            grads_and_vars = list(zip(grads, [v for _, v in grads_and_vars]))
        if self.check_numerics:
            bad = [v.name for g, v in grads_and_vars if g is not None and not np.all(np.isfinite(g))]
            if bad:
                raise NonFiniteError(f"step {step + 1}: the gradients of {bad} are not finite (loss {value}); "
                                     "this step changed nothing")
        grads_and_vars = self._transform(grads_and_vars)
        self.last_grads_and_vars = grads_and_vars
        self.applying = True  # an interruption now would leave the variables half updated
        self.optimizer.apply_gradients(grads_and_vars, global_step=self.global_step)
        self.applying = False
        if batch and hasattr(batch[0], "__len__"):
            self.batch_size = len(batch[0]) if self.communicator is None else global_batch
        return value

    def _start_in_sync(self, batch, loss):
        """Data parallelism, first step: every process takes rank 0's variables.

        The first forward pass created the variables (from the same seed on every process,
        normally, so with equal values); rank 0's values are broadcast anyway, and where a
        trainable one differed on some process, the forward pass runs again with them.
        """
        changed = broadcast_variables(self.communicator, get_variables())
        trainable = {v.name for v in get_trainable_variables()}
        self._variables_synced = True
        if any_rank(self.communicator, any(name in trainable for name in changed)):
            with enable_grad():
                loss = self.template(*batch)
        return loss

    def _transform(self, grads_and_vars: list) -> list:
        out = []
        for grad, var in grads_and_vars:
            if grad is not None:
                multiplier = self._multiplier(var)
                if multiplier is not None:
                    grad = grad * grad.dtype.type(multiplier)
                if self.clip_gradient_norm > 0:
                    grad = clip_by_norm(grad, self.clip_gradient_norm)
            out.append((grad, var))
        self.last_global_norm = global_norm(g for g, _ in out)
        if self.clip_global_norm > 0 and self.last_global_norm > self.clip_global_norm:
            scale = self.clip_global_norm / self.last_global_norm
            out = [(None if g is None else g * g.dtype.type(scale), v) for g, v in out]
        return out

    def __repr__(self) -> str:
        return f"<TrainOp {self.template!r} optimizer={self.optimizer!r} step={int(self.global_step.data)}>"


def _check_variables_to_train(variables_to_train) -> list | None:
    """None, or a list of variables and names/scopes (a single name is a list of one).

    The model's variables exist only once its function has run (at the first step), so
    names and scopes are resolved at every step; an empty list is refused, since it is
    what ``slim.get_trainable_variables("scope")`` gives when called before the model.
    """
    if variables_to_train is None:
        return None
    items = [variables_to_train] if isinstance(variables_to_train, str) else list(variables_to_train)
    if not items:
        raise ValueError("create_train_op: variables_to_train is empty. The model's variables exist only after "
                         "its first step: give scope names instead, e.g. variables_to_train=['logits']")
    for item in items:
        if not isinstance(item, str) and not (hasattr(item, "name") and hasattr(item, "data")):
            raise TypeError(f"create_train_op: variables_to_train must hold variables or names/scopes (str), "
                            f"got {item!r}")
    return items


def create_train_op(loss_fn, optimizer, clip_gradient_norm: float = 0, clip_global_norm: float = 0,
                    variables_to_train=None, gradient_multipliers: dict | None = None,
                    check_numerics: bool = True, communicator=None) -> TrainOp:
    """Make the training step (see the module docstring).

    Args:
        loss_fn: ``loss_fn(*batch) -> scalar Tensor``; builds the model with slim layers
            and returns e.g. ``slim.losses.get_total_loss()``. Its variables keep their own
            names (no template prefix); a ``slim.make_template`` is used as it is.
        optimizer: a :mod:`minislim.optimizers` optimizer.
        clip_gradient_norm: if > 0, clip each gradient to this norm (TF: per tensor).
        clip_global_norm: if > 0, scale all gradients together so that their global norm
            is at most this.
        variables_to_train: the variables to update (default: every trainable variable):
            variables, or names and scopes (``["logits"]``: every trainable variable whose
            name starts with ``logits``, as TF's ``get_collection(scope=...)``), resolved at
            every step.
        gradient_multipliers: ``{variable or name: factor}`` applied to the gradients.
        check_numerics: stop with :class:`NonFiniteError` on a NaN/inf loss or gradient,
            before any variable changes.
        communicator: data-parallel training (:mod:`minislim.parallel`): each step
            averages the gradients (and the loss) of every process, weighted by their batch
            sizes, in one all-reduce; the first step gives every process rank 0's variables.
            Each process passes its own shard of the global batch
            (``slim.data.batches(..., communicator=comm)``); the step returns the global loss.

    Returns:
        a :class:`TrainOp`; ``train_op(*batch)`` runs one step and returns the loss.
    """
    return TrainOp(loss_fn, optimizer, clip_gradient_norm, clip_global_norm, variables_to_train,
                   gradient_multipliers, check_numerics, communicator)
