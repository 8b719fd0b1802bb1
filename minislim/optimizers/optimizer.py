"""The ``Optimizer`` base class: gradients in, in-place variable updates out (TF's API).

Training a variable ``w`` means repeating three things:

1. ``compute_gradients(loss, var_list)``: clear each variable's ``.grad``, run
   ``loss.backward()`` and return ``[(gradient ndarray, variable), ...]`` (``None`` for a
   variable the loss does not depend on);
2. optionally change the gradients (clip them, scale them);
3. ``apply_gradients(grads_and_vars, global_step)``: update every variable with its
   gradient by the optimizer's rule, and add one to ``global_step``.

``minimize(loss, var_list)`` does 1 and 3 at once.

Some rules need memory per variable (momentum's running sum, Adam's moments): these are
*slots*, named tensors (``fc/weights/momentum``) created on first use, owned by the
optimizer, never sharing a buffer with the variable, its gradient or each other, and saved
in checkpoints by :mod:`minislim.checkpoint` as ``<variable name>/<slot name>``.

A subclass lists its ``slot_names`` and writes ``_update(grad, value, slots, lr)``, which
returns the variable's new value and updates the slot arrays in place.

>>> import numpy as np
>>> import minislim as slim
>>> from minislim.optimizers import Momentum
>>> w = slim.tensor([1.0, 2.0], requires_grad=True)
>>> w.name = "w"
>>> opt = Momentum(learning_rate=0.1, momentum=0.9)
>>> opt.apply_gradients([(np.array([1.0, 1.0], np.float32), w)])
>>> w.data, opt.get_slot(w, "momentum").name
(array([0.9, 1.9], dtype=float32), 'w/momentum')
"""
from __future__ import annotations

from typing import Callable, Iterable, Union

import numpy as np

from minislim.autograd.tensor import Tensor

LearningRate = Union[float, Callable[[int], float]]


def _set_value(variable, value: np.ndarray) -> None:
    """Give ``variable`` its new value (``Variable.assign``; plain tensors for tests)."""
    assign = getattr(variable, "assign", None)
    if assign is not None:
        assign(value)
    else:
        variable.data[...] = value


def _default_var_list() -> list:
    from minislim.framework.variables import get_trainable_variables

    return list(get_trainable_variables())


def variable_name(variable) -> str:
    name = getattr(variable, "name", None)
    if not name:
        raise ValueError("optimizer: every variable needs a name (slots and checkpoints are keyed by it); "
                         f"got an unnamed tensor of shape {variable.shape}. Create it with slim.variable(...)")
    return name


class Optimizer:
    """Base class (see the module docstring).

    Args:
        learning_rate: a number, or a schedule: a callable of the global step (see
            :mod:`minislim.optimizers.schedules`).
        name: the optimizer's name (shown in errors and checkpoints).
        weight_decay: ``wd >= 0``: every update first adds ``wd * w`` to the gradient of each
            variable ``w`` it updates (L2 decay of every trained variable, batch norm's and
            biases included: PyTorch's ``weight_decay`` argument). TF-Slim's way, a
            ``weights_regularizer`` in the layers' ``arg_scope``, adds the same term to the
            loss, but only for the layers' weights.
    """

    #: the names of the per-variable slots this rule keeps, e.g. ("momentum",)
    slot_names: tuple = ()
    #: the value each slot starts with
    slot_initial_value: float = 0.0

    def __init__(self, learning_rate: LearningRate, name: str, weight_decay: float = 0.0):
        weight_decay = float(weight_decay)
        if not np.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"{name}: weight_decay must be a finite number >= 0, got {weight_decay}")
        self.weight_decay = weight_decay
        if not callable(learning_rate):
            learning_rate = float(learning_rate)
            if not np.isfinite(learning_rate) or learning_rate < 0:
                raise ValueError(f"{name}: learning_rate must be a finite number >= 0, got {learning_rate}")
        self.learning_rate = learning_rate
        self.name = name
        #: how many times ``apply_gradients`` has run (Adam's bias correction counts it)
        self.iterations = 0
        #: the learning rate of the latest ``apply_gradients`` (None before the first)
        self.last_learning_rate = None
        self._slots: dict = {}  # variable name -> (variable, {slot name: Tensor})

    # --- the learning rate -------------------------------------------------------------
    def current_learning_rate(self, step: int | None = None) -> float:
        """The rate for ``step`` (default: the number of updates done so far)."""
        if not callable(self.learning_rate):
            return self.learning_rate
        step = self.iterations if step is None else int(step)
        rate = float(self.learning_rate(step))
        if not np.isfinite(rate) or rate < 0:  # checked before any variable changes
            raise ValueError(f"{self.name}: the learning-rate schedule gave {rate} at step {step}; "
                             "a learning rate must be a finite number >= 0")
        return rate

    # --- slots -----------------------------------------------------------------------------
    def get_slot_names(self) -> list:
        """The names of the slots this optimizer keeps per variable (TF's ``get_slot_names``)."""
        return list(self.slot_names)

    def get_slot(self, var, name: str):
        """The slot tensor ``name`` of variable ``var``, or None if it has none yet."""
        if name not in self.slot_names:
            raise KeyError(f"{self.name} has no slot {name!r}; its slots are {list(self.slot_names)}")
        entry = self._slots.get(variable_name(var))
        return None if entry is None else entry[1][name]

    def variables(self) -> list:
        """The variables that have slots (those updated at least once, or restored)."""
        return [variable for variable, _ in self._slots.values()]

    def _slots_for(self, var) -> dict:
        name = variable_name(var)
        entry = self._slots.get(name)
        if entry is None or entry[0] is not var:
            if entry is not None and entry[1] and next(iter(entry[1].values())).shape != var.shape:
                raise ValueError(f"{self.name}: variable {name!r} has shape {var.shape} but the slots "
                                 "kept under that name were made for another variable of a different "
                                 "shape; use a new optimizer for a new model")
            slots = entry[1] if entry is not None else {
                slot: Tensor(np.full(var.shape, self.slot_initial_value, dtype=var.dtype), name=f"{name}/{slot}")
                for slot in self.slot_names}
            entry = self._slots[name] = (var, slots)
        return entry[1]

    # --- checkpoint state --------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"class", "iterations", "slots": {variable name: {slot name: ndarray}}}``.

        The arrays are the live slot buffers: copy them to keep a snapshot.
        """
        return {"class": type(self).__name__, "iterations": self.iterations,
                "slots": {name: {slot: t.data for slot, t in slots.items()}
                          for name, (_, slots) in self._slots.items()}}

    def load_state_dict(self, state: dict, variables: dict) -> None:
        """Restore what :meth:`state_dict` returned; ``variables`` maps names to variables.

        The slot values are copied (the optimizer owns its buffers).
        """
        for name, slots in state.get("slots", {}).items():
            if name not in variables:
                raise KeyError(f"{self.name}.load_state_dict: slots for unknown variable {name!r}")
            var = variables[name]
            unknown = set(slots) - set(self.slot_names)
            if unknown:
                raise KeyError(f"{self.name}.load_state_dict: variable {name!r} has slots {sorted(unknown)} "
                               f"that {type(self).__name__} does not keep (it keeps {list(self.slot_names)})")
            own = self._slots_for(var)
            for slot, value in slots.items():
                value = np.asarray(value)
                if value.shape != var.shape:
                    raise ValueError(f"{self.name}.load_state_dict: slot {name}/{slot} has shape {value.shape}, "
                                     f"the variable has shape {var.shape}")
                own[slot].data = np.array(value, dtype=var.dtype, copy=True)
        self.iterations = int(state.get("iterations", self.iterations))

    # --- the three steps ---------------------------------------------------------------
    def compute_gradients(self, loss: Tensor, var_list: Iterable | None = None) -> list:
        """Back-propagate ``loss`` and pair each variable with its gradient.

        Args:
            loss: a scalar tensor.
            var_list: the variables to differentiate (default: the default graph's
                trainable variables). Their ``.grad`` is cleared first.

        Returns:
            ``[(gradient ndarray or None, variable), ...]`` in ``var_list`` order. Each
            gradient is the variable's own fresh ``.grad`` buffer.
        """
        var_list = _default_var_list() if var_list is None else list(var_list)
        if not var_list:
            raise ValueError(f"{self.name}.compute_gradients: no variables to optimize")
        if not isinstance(loss, Tensor):
            raise TypeError(f"{self.name}.compute_gradients: loss must be a Tensor, got {type(loss).__name__}")
        if loss.data.size != 1:
            raise ValueError(f"{self.name}.compute_gradients: loss must be a scalar, got shape {loss.shape}")
        for var in var_list:
            var.grad = None
        loss.backward()
        return [(var.grad, var) for var in var_list]

    def apply_gradients(self, grads_and_vars: Iterable, global_step=None) -> None:
        """Update each variable from its gradient; add one to ``global_step`` if given.

        Args:
            grads_and_vars: ``(gradient ndarray or None, variable)`` pairs; a ``None``
                gradient leaves its variable alone. Gradients are not modified.
            global_step: a scalar integer variable (or None). The learning-rate schedule
                sees its value *before* the increment; without it, the schedule sees the
                number of updates done so far.

        Raises:
            ValueError: no pair has a gradient, or a gradient's shape is not its variable's.
        """
        pairs = [(g, v) for g, v in grads_and_vars]
        if all(g is None for g, _ in pairs):
            names = [getattr(v, "name", None) for _, v in pairs]
            raise ValueError(f"{self.name}: no gradients provided for any variable ({names}); "
                             "does the loss depend on them?")
        step = int(np.asarray(getattr(global_step, "data", global_step))) if global_step is not None else None
        lr = self.last_learning_rate = self.current_learning_rate(step)
        for grad, var in pairs:
            if grad is None:
                continue
            grad = np.asarray(getattr(grad, "data", grad))
            if grad.shape != var.shape:
                raise ValueError(f"{self.name}: gradient for {variable_name(var)!r} has shape {grad.shape}, "
                                 f"the variable has shape {var.shape}")
            if grad.dtype != var.dtype:
                grad = grad.astype(var.dtype)
            if self.weight_decay:  # L2 decay: the gradient of wd/2 * |w|^2 (a new array; grad is the caller's)
                grad = grad + var.dtype.type(self.weight_decay) * var.data
            slots = {name: t.data for name, t in self._slots_for(var).items()}
            new_value = self._update(grad, var.data, slots, var.dtype.type(lr))
            _set_value(var, new_value)
        self.iterations += 1
        if global_step is not None:
            _set_value(global_step, np.asarray(step + 1, dtype=np.asarray(global_step.data).dtype))

    def minimize(self, loss: Tensor, var_list: Iterable | None = None, global_step=None) -> list:
        """``compute_gradients`` then ``apply_gradients``; returns the pairs used."""
        grads_and_vars = self.compute_gradients(loss, var_list)
        self.apply_gradients(grads_and_vars, global_step=global_step)
        return grads_and_vars

    def _update(self, grad: np.ndarray, value: np.ndarray, slots: dict, lr) -> np.ndarray:
        """Return the variable's new value; update the arrays in ``slots`` in place.

        ``grad`` belongs to the caller: never write into it, never keep it in a slot.
        """
        raise NotImplementedError(f"{type(self).__name__}._update is not written")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.learning_rate!r})"
