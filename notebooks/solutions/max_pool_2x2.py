"""Solution of the ``max_pool_2x2`` exercise (``minislim.exercises``).

It subclasses the skeleton (``minislim/exercises/skeletons/max_pool_2x2.py``, the class the
notebook cell defines) and writes only what the student writes, its ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/max_pool_2x2.py``.
"""
from minislim import exercises

Skeleton = exercises.get("max_pool_2x2").skeleton_class()


class MaxPool2x2(Skeleton):
    def backward(self, grad_output):
        x, y = self.saved_arrays
        n, h, w, c = x.shape
        windows = x.reshape(n, h // 2, 2, w // 2, 2, c)
        is_max = windows == y[:, :, None, :, None, :]      # True at the maximum of each window
        grad = is_max * grad_output[:, :, None, :, None, :]
        return (grad.reshape(x.shape),)


if __name__ == "__main__":
    exercises.check(MaxPool2x2, "max_pool_2x2")
