"""Solution of the ``matmul`` exercise (``minislim.exercises``).

Run it to see the checker's verdict: ``python notebooks/solutions/matmul.py``.
"""
import minislim as slim


class MatMul(slim.Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, grad_output):
        a, b = self.saved_arrays
        # [M, N] @ [N, K] -> [M, K] and [K, M] @ [M, N] -> [K, N]
        return grad_output @ b.T, a.T @ grad_output


if __name__ == "__main__":
    from minislim.exercises import check

    check(MatMul, "matmul")
