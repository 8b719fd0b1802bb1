"""Adam (Kingma & Ba), in the form TF's ``AdamOptimizer`` computes it.

With ``t`` the number of updates so far plus one:

* ``m <- beta1 * m + (1 - beta1) * g``
* ``v <- beta2 * v + (1 - beta2) * g**2``
* ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``
* ``w <- w - lr_t * m / (sqrt(v) + epsilon)``

This is the paper's "epsilon hat" form: the bias correction is folded into the rate, so
``epsilon`` is added to the uncorrected ``sqrt(v)``. PyTorch adds it to the corrected one;
the two agree up to terms of the order of ``epsilon``.

>>> import numpy as np
>>> import minislim as slim
>>> w = slim.tensor([1.0])
>>> w.name = "w"
>>> opt = Adam(0.1)
>>> opt.apply_gradients([(np.array([3.0], np.float32), w)])
>>> round(float(w.data[0]), 5), opt.get_slot_names()
(0.9, ['m', 'v'])
"""
from __future__ import annotations

import math

import numpy as np

from minislim.optimizers.optimizer import LearningRate, Optimizer


class Adam(Optimizer):
    """Adam; slots ``m`` (first moment) and ``v`` (second moment).

    Args:
        learning_rate: a number or a schedule of the global step.
        beta1, beta2: decay rates of the moment estimates, in [0, 1).
        epsilon: added to ``sqrt(v)`` (TF's default 1e-8).
        name: shown in errors.
        weight_decay: L2 decay of every updated variable, added to the gradient (see
            :class:`~minislim.optimizers.optimizer.Optimizer`; PyTorch's Adam, not AdamW).
    """

    slot_names = ("m", "v")

    def __init__(self, learning_rate: LearningRate = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, name: str = "Adam", weight_decay: float = 0.0):
        super().__init__(learning_rate, name, weight_decay)
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: {label} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def _update(self, grad, value, slots, lr):
        m, v = slots["m"], slots["v"]
        f = value.dtype.type
        t = self.iterations + 1
        np.multiply(m, f(self.beta1), out=m)
        m += f(1.0 - self.beta1) * grad
        np.multiply(v, f(self.beta2), out=v)
        v += f(1.0 - self.beta2) * np.square(grad)
        lr_t = f(float(lr) * math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t))
        return value - lr_t * m / (np.sqrt(v) + f(self.epsilon))

    def __repr__(self) -> str:
        return (f"Adam(learning_rate={self.learning_rate!r}, beta1={self.beta1}, beta2={self.beta2}, "
                f"epsilon={self.epsilon})")
