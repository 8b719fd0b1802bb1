"""Solution of the ``sigmoid`` exercise (``minislim.exercises``).

It subclasses the skeleton (``minislim/exercises/skeletons/sigmoid.py``, the class the
notebook cell defines) and writes only what the student writes, its ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/sigmoid.py``.
"""
from minislim import exercises

Skeleton = exercises.get("sigmoid").skeleton_class()


class Sigmoid(Skeleton):
    def backward(self, grad_output):
        (y,) = self.saved_arrays
        # d/dx 1 / (1 + e^-x) = e^-x / (1 + e^-x)^2 = y (1 - y)
        return (grad_output * y * (1 - y),)


if __name__ == "__main__":
    exercises.check(Sigmoid, "sigmoid")
