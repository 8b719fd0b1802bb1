"""Solution of the "diagnose a buggy op" task of notebook 02 (the fixed ``Tanh``).

The buggy backward computed ``1 - x ** 2`` from the *input*; the derivative of tanh is
``1 - tanh(x) ** 2``, written with the *output* y that the forward saved.
Run it to see the checker's verdict: ``python notebooks/solutions/tanh_from_notebook_02.py``.
"""
import numpy as np

import minislim as slim


class Tanh(slim.Function):
    def forward(self, x):
        y = np.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad_output):
        (y,) = self.saved_arrays
        return (grad_output * (1 - y * y),)


if __name__ == "__main__":
    from minislim.exercises import check

    x_check = np.array([[0.1, -0.5, 1.2], [2.0, -1.5, 0.3]])
    check(Tanh, reference=np.tanh, inputs=[x_check])
