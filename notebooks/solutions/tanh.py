"""Solution of the ``tanh`` exercise (notebook 02's fixed ``Tanh``).

The buggy backward computed ``1 - x ** 2`` from the *input*; the derivative of tanh is
``1 - tanh(x) ** 2``, written with the *output* y that the forward saved.

It subclasses the skeleton (``minislim/exercises/skeletons/tanh.py``, the class the
notebook cell defines) and writes only what the student writes, its ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/tanh.py``.
"""
from minislim import exercises

Skeleton = exercises.get("tanh").skeleton_class()


class Tanh(Skeleton):
    def backward(self, grad_output):
        x, y = self.saved_arrays
        return (grad_output * (1 - y * y),)


if __name__ == "__main__":
    exercises.check(Tanh, "tanh")
