"""Solution of the ``dropout`` exercise (notebook 04): inverted dropout.

It subclasses the skeleton (``minislim/exercises/skeletons/dropout.py``, the class the
notebook cell defines) and writes only what the student writes: ``forward`` and ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/dropout.py``.
"""
import numpy as np

from minislim import exercises

Skeleton = exercises.get("dropout").skeleton_class()


class Dropout(Skeleton):
    def forward(self, x):
        keep = np.random.default_rng(self.seed).random(x.shape) >= self.rate  # True: kept
        scale = (keep / (1 - self.rate)).astype(x.dtype)   # 0 or 1 / (1 - rate)
        self.save_for_backward(scale)
        return x * scale

    def backward(self, grad_output):
        (scale,) = self.saved_arrays
        return (grad_output * scale,)


if __name__ == "__main__":
    exercises.check(Dropout, "dropout")
