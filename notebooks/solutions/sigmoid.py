"""Solution of the ``sigmoid`` exercise (``minislim.exercises``).

Run it to see the checker's verdict: ``python notebooks/solutions/sigmoid.py``.
"""
import numpy as np

import minislim as slim


class Sigmoid(slim.Function):
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, grad_output):
        (y,) = self.saved_arrays
        # d/dx 1 / (1 + e^-x) = e^-x / (1 + e^-x)^2 = y (1 - y)
        return (grad_output * y * (1 - y),)


if __name__ == "__main__":
    from minislim.exercises import check

    check(Sigmoid, "sigmoid")
