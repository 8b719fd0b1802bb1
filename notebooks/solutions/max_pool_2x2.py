"""Solution of the ``max_pool_2x2`` exercise (``minislim.exercises``).

Run it to see the checker's verdict: ``python notebooks/solutions/max_pool_2x2.py``.
"""
import minislim as slim


class MaxPool2x2(slim.Function):
    def forward(self, x):
        n, h, w, c = x.shape
        windows = x.reshape(n, h // 2, 2, w // 2, 2, c)   # window (i, j) is windows[:, i, :, j, :, :]
        y = windows.max(axis=(2, 4))
        self.save_for_backward(x, y)
        return y

    def backward(self, grad_output):
        x, y = self.saved_arrays
        n, h, w, c = x.shape
        windows = x.reshape(n, h // 2, 2, w // 2, 2, c)
        is_max = windows == y[:, :, None, :, None, :]      # True at the maximum of each window
        grad = is_max * grad_output[:, :, None, :, None, :]
        return (grad.reshape(x.shape),)


if __name__ == "__main__":
    from minislim.exercises import check

    check(MaxPool2x2, "max_pool_2x2")
