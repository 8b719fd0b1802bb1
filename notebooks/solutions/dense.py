"""Solution of the ``dense`` exercise (``minislim.exercises``).

It subclasses the skeleton (``minislim/exercises/skeletons/dense.py``, the class the
notebook cell defines) and writes only what the student writes, its ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/dense.py``.
"""
from minislim import exercises

Skeleton = exercises.get("dense").skeleton_class()


class Dense(Skeleton):
    def backward(self, grad_output):
        x, w = self.saved_arrays
        grad_x = grad_output @ w.T          # [N, OUT] @ [OUT, IN] -> [N, IN]
        grad_w = x.T @ grad_output          # [IN, N] @ [N, OUT] -> [IN, OUT]
        grad_b = grad_output.sum(axis=0)    # b was added to each of the N rows
        return grad_x, grad_w, grad_b


if __name__ == "__main__":
    exercises.check(Dense, "dense")
