"""Solution of the ``softmax`` exercise (``minislim.exercises``).

It subclasses the skeleton (``minislim/exercises/skeletons/softmax.py``, the class the
notebook cell defines) and writes only what the student writes, its ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/softmax.py``.
"""
import numpy as np

from minislim import exercises

Skeleton = exercises.get("softmax").skeleton_class()


class Softmax(Skeleton):
    def backward(self, grad_output):
        (s,) = self.saved_arrays
        # dL/dx_j = sum_i g_i s_i (delta_ij - s_j) = s_j g_j - s_j sum_i g_i s_i
        return (s * (grad_output - np.sum(grad_output * s, axis=-1, keepdims=True)),)


if __name__ == "__main__":
    exercises.check(Softmax, "softmax")
