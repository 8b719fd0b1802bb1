"""Plain gradient descent and momentum (TF's ``GradientDescentOptimizer``, ``MomentumOptimizer``).

SGD:       ``w <- w - lr * g``

Momentum (TF's form, with an accumulator rather than a velocity):

* ``accum <- momentum * accum + g``
* ``w <- w - lr * accum``                      (classical)
* ``w <- w - lr * (g + momentum * accum)``     (Nesterov, ``use_nesterov=True``)

PyTorch's ``SGD(momentum=...)`` (with ``dampening=0``) follows the same equations.

>>> import numpy as np
>>> import minislim as slim
>>> w = slim.tensor([1.0])
>>> w.name = "w"
>>> opt = SGD(0.5)
>>> opt.apply_gradients([(np.array([2.0], np.float32), w)])
>>> w.data.tolist()
[0.0]
"""
from __future__ import annotations

import numpy as np

from minislim.optimizers.optimizer import LearningRate, Optimizer


class SGD(Optimizer):
    """Gradient descent: ``w <- w - lr * g``.

    Args:
        learning_rate: a number or a schedule of the global step.
        name: shown in errors.
        weight_decay: L2 decay of every updated variable (see :class:`Optimizer`).
    """

    def __init__(self, learning_rate: LearningRate, name: str = "GradientDescent", weight_decay: float = 0.0):
        super().__init__(learning_rate, name, weight_decay)

    def _update(self, grad, value, slots, lr):
        return value - lr * grad


class Momentum(Optimizer):
    """Momentum in TF's form (see the module docstring); one slot, ``momentum``.

    Args:
        learning_rate: a number or a schedule of the global step.
        momentum: the decay of the accumulator, in [0, 1).
        use_nesterov: use Nesterov's look-ahead form.
        name: shown in errors.
        weight_decay: L2 decay of every updated variable, added to the gradient before the
            accumulator (PyTorch's ``SGD(weight_decay=...)``; see :class:`Optimizer`).
    """

    slot_names = ("momentum",)

    def __init__(self, learning_rate: LearningRate, momentum: float, use_nesterov: bool = False,
                 name: str = "Momentum", weight_decay: float = 0.0):
        super().__init__(learning_rate, name, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.use_nesterov = bool(use_nesterov)

    def _update(self, grad, value, slots, lr):
        accum = slots["momentum"]
        mu = value.dtype.type(self.momentum)
        np.multiply(accum, mu, out=accum)
        np.add(accum, grad, out=accum)  # the slot's own buffer; grad is only read
        if self.use_nesterov:
            return value - lr * (grad + mu * accum)
        return value - lr * accum

    def __repr__(self) -> str:
        return (f"Momentum(learning_rate={self.learning_rate!r}, momentum={self.momentum}, "
                f"use_nesterov={self.use_nesterov}, weight_decay={self.weight_decay})")
