"""Solution of the ``softmax`` exercise (``minislim.exercises``).

Run it to see the checker's verdict: ``python notebooks/solutions/softmax.py``.
"""
import numpy as np

import minislim as slim


class Softmax(slim.Function):
    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        s = e / e.sum(axis=-1, keepdims=True)
        self.save_for_backward(s)
        return s

    def backward(self, grad_output):
        (s,) = self.saved_arrays
        # dL/dx_j = sum_i g_i s_i (delta_ij - s_j) = s_j g_j - s_j sum_i g_i s_i
        return (s * (grad_output - np.sum(grad_output * s, axis=-1, keepdims=True)),)


if __name__ == "__main__":
    from minislim.exercises import check

    check(Softmax, "softmax")
