"""Solution of the ``batch_norm`` exercise (notebooks 04 and 07): training mode, x [N, D].

It subclasses the skeleton (``minislim/exercises/skeletons/batch_norm.py``, the class the
notebook cell defines) and writes only what the student writes: ``forward`` and ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/batch_norm.py``.
"""
import numpy as np

from minislim import exercises

Skeleton = exercises.get("batch_norm").skeleton_class()


class BatchNorm(Skeleton):
    def forward(self, x, gamma, beta):
        mean = x.mean(axis=0)
        var = x.var(axis=0)                              # biased: divides by N
        sigma = np.sqrt(var + self.eps)
        x_hat = (x - mean) / sigma
        self.save_for_backward(x_hat, sigma, gamma)
        return gamma * x_hat + beta

    def backward(self, grad_output):
        x_hat, sigma, gamma = self.saved_arrays
        grad_gamma = (grad_output * x_hat).sum(axis=0)
        grad_beta = grad_output.sum(axis=0)
        dx_hat = grad_output * gamma
        # the simplified form: the paths through x_hat, the mean and the variance together
        grad_x = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / sigma
        return grad_x, grad_gamma, grad_beta


if __name__ == "__main__":
    exercises.check(BatchNorm, "batch_norm")
