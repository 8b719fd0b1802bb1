"""RMSProp in the form of TF 1's ``RMSPropOptimizer`` (what TF-Slim's training scripts used).

* ``rms <- decay * rms + (1 - decay) * g**2``              (``rms`` starts at **1**, as in TF 1)
* ``momentum <- momentum_coef * momentum + lr * g / sqrt(rms + epsilon)``
* ``w <- w - momentum``

With ``centered=True`` a third slot ``mg`` tracks the mean gradient and the denominator
becomes ``sqrt(rms - mg**2 + epsilon)``. PyTorch's ``RMSprop`` differs (its average starts
at 0 and ``epsilon`` is added outside the square root), so the two do not agree exactly.

>>> import numpy as np
>>> import minislim as slim
>>> w = slim.tensor([1.0])
>>> w.name = "w"
>>> opt = RMSProp(0.1, decay=0.5)
>>> opt.apply_gradients([(np.array([1.0], np.float32), w)])
>>> round(float(w.data[0]), 5), opt.get_slot(w, "rms").data.tolist()
(0.9, [1.0])
"""
from __future__ import annotations

import numpy as np

from minislim.optimizers.optimizer import LearningRate, Optimizer


class RMSProp(Optimizer):
    """RMSProp; slots ``rms`` and ``momentum`` (and ``mg`` when centered).

    Args:
        learning_rate: a number or a schedule of the global step.
        decay: discount of the running mean of squared gradients.
        momentum: momentum coefficient (0 disables it, though the slot still exists).
        epsilon: added inside the square root (TF's default 1e-10).
        centered: normalise by an estimate of the variance instead of the second moment.
        name: shown in errors.
        weight_decay: L2 decay of every updated variable, added to the gradient (see
            :class:`~minislim.optimizers.optimizer.Optimizer`).
    """

    slot_initial_value = 1.0  # TF 1 starts rms at one; momentum and mg are reset to 0 below

    def __init__(self, learning_rate: LearningRate, decay: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-10, centered: bool = False, name: str = "RMSProp",
                 weight_decay: float = 0.0):
        super().__init__(learning_rate, name, weight_decay)
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"{name}: decay must be in [0, 1), got {decay}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1), got {momentum}")
        self.decay, self.momentum, self.epsilon = float(decay), float(momentum), float(epsilon)
        self.centered = bool(centered)
        self.slot_names = ("rms", "momentum", "mg") if centered else ("rms", "momentum")

    def _slots_for(self, var):
        fresh = self._slots.get(getattr(var, "name", None)) is None
        slots = super()._slots_for(var)
        if fresh:
            for name in ("momentum", "mg"):
                if name in slots:
                    slots[name].data.fill(0)
        return slots

    def _update(self, grad, value, slots, lr):
        f = value.dtype.type
        rms, mom = slots["rms"], slots["momentum"]
        np.multiply(rms, f(self.decay), out=rms)
        rms += f(1.0 - self.decay) * np.square(grad)
        denominator = rms + f(self.epsilon)
        if self.centered:
            mg = slots["mg"]
            np.multiply(mg, f(self.decay), out=mg)
            mg += f(1.0 - self.decay) * grad
            denominator = denominator - np.square(mg)
        np.multiply(mom, f(self.momentum), out=mom)
        mom += lr * grad / np.sqrt(denominator)
        return value - mom

    def __repr__(self) -> str:
        return (f"RMSProp(learning_rate={self.learning_rate!r}, decay={self.decay}, momentum={self.momentum}, "
                f"epsilon={self.epsilon}, centered={self.centered})")
