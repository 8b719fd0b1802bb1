"""Solution of the ``mse`` exercise (``minislim.exercises``).

Run it to see the checker's verdict: ``python notebooks/solutions/mse.py``.
"""
import numpy as np

import minislim as slim


class MeanSquaredError(slim.Function):
    def forward(self, predictions, targets):
        diff = predictions - targets
        self.save_for_backward(diff)
        return np.mean(diff ** 2)

    def backward(self, grad_output):
        (diff,) = self.saved_arrays
        # d/dp mean((p - t)^2) = 2 (p - t) / size; targets get the same with a minus sign
        grad = grad_output * 2 * diff / diff.size
        return grad, -grad


if __name__ == "__main__":
    from minislim.exercises import check

    check(MeanSquaredError, "mse")
