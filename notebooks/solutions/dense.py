"""Solution of the ``dense`` exercise (``minislim.exercises``).

Run it to see the checker's verdict: ``python notebooks/solutions/dense.py``.
"""
import minislim as slim


class Dense(slim.Function):
    def forward(self, x, w, b):
        self.save_for_backward(x, w)
        return x @ w + b

    def backward(self, grad_output):
        x, w = self.saved_arrays
        grad_x = grad_output @ w.T          # [N, OUT] @ [OUT, IN] -> [N, IN]
        grad_w = x.T @ grad_output          # [IN, N] @ [N, OUT] -> [IN, OUT]
        grad_b = grad_output.sum(axis=0)    # b was added to each of the N rows
        return grad_x, grad_w, grad_b


if __name__ == "__main__":
    from minislim.exercises import check

    check(Dense, "dense")
