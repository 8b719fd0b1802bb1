"""Solution of the ``matmul`` exercise (``minislim.exercises``).

It subclasses the skeleton (``minislim/exercises/skeletons/matmul.py``, the class the
notebook cell defines) and writes only what the student writes, its ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/matmul.py``.
"""
from minislim import exercises

Skeleton = exercises.get("matmul").skeleton_class()


class MatMul(Skeleton):
    def backward(self, grad_output):
        a, b = self.saved_arrays
        # [M, N] @ [N, K] -> [M, K] and [K, M] @ [M, N] -> [K, N]
        return grad_output @ b.T, a.T @ grad_output


if __name__ == "__main__":
    exercises.check(MatMul, "matmul")
