"""Solution of the ``dropout`` exercise (notebook 04): inverted dropout.

Run it to see the checker's verdict: ``python notebooks/solutions/dropout.py``.
"""
import numpy as np

import minislim as slim


class Dropout(slim.Function):
    def __init__(self, rate=0.5, seed=0):
        self.rate, self.seed = rate, seed

    def forward(self, x):
        keep = np.random.default_rng(self.seed).random(x.shape) >= self.rate  # True: kept
        scale = (keep / (1 - self.rate)).astype(x.dtype)   # 0 or 1 / (1 - rate)
        self.save_for_backward(scale)
        return x * scale

    def backward(self, grad_output):
        (scale,) = self.saved_arrays
        return (grad_output * scale,)


if __name__ == "__main__":
    from minislim.exercises import check

    check(Dropout, "dropout")
