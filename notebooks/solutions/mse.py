"""Solution of the ``mse`` exercise (``minislim.exercises``).

It subclasses the skeleton (``minislim/exercises/skeletons/mse.py``, the class the
notebook cell defines) and writes only what the student writes, its ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/mse.py``.
"""
from minislim import exercises

Skeleton = exercises.get("mse").skeleton_class()


class MeanSquaredError(Skeleton):
    def backward(self, grad_output):
        (diff,) = self.saved_arrays
        # d/dp mean((p - t)^2) = 2 (p - t) / size; targets get the same with a minus sign
        grad = grad_output * 2 * diff / diff.size
        return grad, -grad


if __name__ == "__main__":
    exercises.check(MeanSquaredError, "mse")
