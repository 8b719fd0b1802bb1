"""Skeleton of the exercise 'dropout' (minislim.exercises): complete it in the notebook."""
import numpy as np

import minislim as slim


class Dropout(slim.Function):
    def __init__(self, rate=0.5, seed=0):
        self.rate, self.seed = rate, seed

    def forward(self, x):
        keep = np.random.default_rng(self.seed).random(x.shape) >= self.rate  # noqa: F841 (True: kept)
        # TODO: the output; save what backward needs
        raise NotImplementedError

    def backward(self, grad_output):
        # TODO: return (dL/dx,)
        raise NotImplementedError
