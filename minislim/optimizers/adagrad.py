"""Adagrad in the form of TF 1's ``AdagradOptimizer``.

* ``accumulator <- accumulator + g**2``  (starts at ``initial_accumulator_value``, 0.1)
* ``w <- w - lr * g / sqrt(accumulator)``

Each weight's step shrinks with the sum of its past squared gradients, so rarely-updated
weights keep larger steps. TF 1 adds no epsilon (the initial value keeps the root
positive); Keras' and PyTorch's Adagrad differ there.

>>> import numpy as np
>>> import minislim as slim
>>> w = slim.tensor([1.0])
>>> w.name = "w"
>>> opt = Adagrad(0.1, initial_accumulator_value=3.0)
>>> opt.apply_gradients([(np.array([1.0], np.float32), w)])  # accumulator 4: step 0.1 * 1 / 2
>>> round(float(w.data[0]), 5), opt.get_slot(w, "accumulator").data.tolist()
(0.95, [4.0])
"""
from __future__ import annotations

import math

import numpy as np

from minislim.optimizers.optimizer import LearningRate, Optimizer


class Adagrad(Optimizer):
    """Adagrad; one slot, ``accumulator``.

    Args:
        learning_rate: a number or a schedule of the global step.
        initial_accumulator_value: the accumulator's starting value, > 0 (TF 1's default 0.1).
        name: shown in errors.

    Raises:
        ValueError: ``initial_accumulator_value`` not a finite number > 0.
    """

    slot_names = ("accumulator",)

    def __init__(self, learning_rate: LearningRate, initial_accumulator_value: float = 0.1,
                 name: str = "Adagrad"):
        super().__init__(learning_rate, name)
        value = float(initial_accumulator_value)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: initial_accumulator_value must be a finite number > 0, got "
                             f"{initial_accumulator_value!r}")
        self.slot_initial_value = value

    def _update(self, grad, value, slots, lr):
        accumulator = slots["accumulator"]
        accumulator += np.square(grad)
        return value - lr * grad / np.sqrt(accumulator)

    def __repr__(self) -> str:
        return (f"Adagrad(learning_rate={self.learning_rate!r}, "
                f"initial_accumulator_value={self.slot_initial_value})")
