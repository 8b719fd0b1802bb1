"""Solution of the ``tanh`` exercise (notebook 02's fixed ``Tanh``).

The buggy backward computed ``1 - x ** 2`` from the *input*; the derivative of tanh is
``1 - tanh(x) ** 2``, written with the *output* y that the forward saved.
Run it to see the checker's verdict: ``python notebooks/solutions/tanh.py``.
"""
import numpy as np

import minislim as slim


class Tanh(slim.Function):
    def forward(self, x):
        y = np.tanh(x)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad_output):
        x, y = self.saved_arrays
        return (grad_output * (1 - y * y),)


if __name__ == "__main__":
    from minislim.exercises import check

    check(Tanh, "tanh")
