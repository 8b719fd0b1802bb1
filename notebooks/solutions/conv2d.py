"""Solution of the ``conv2d`` exercise (notebook 03): VALID, stride 1, with im2col.

It subclasses the skeleton (``minislim/exercises/skeletons/conv2d.py``, the class the
notebook cell defines) and writes only what the student writes: ``forward`` and ``backward``.
Run it to see the checker's verdict: ``python notebooks/solutions/conv2d.py``.
"""
import numpy as np

from minislim import exercises

Skeleton = exercises.get("conv2d").skeleton_class()


def my_im2col(x, kh, kw):
    """As in notebooks/solutions/im2col.py (the previous exercise)."""
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    columns = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            columns[:, :, :, i, j, :] = x[:, i:i + oh, j:j + ow, :]
    return columns.reshape(n * oh * ow, kh * kw * c)


class Conv2D(Skeleton):
    def forward(self, x, w):
        kh, kw, c, oc = w.shape
        n, h, wd, _ = x.shape
        oh, ow = h - kh + 1, wd - kw + 1
        columns = my_im2col(x, kh, kw)                          # [N*OH*OW, KH*KW*C]
        self.save_for_backward(x, w, columns)
        return (columns @ w.reshape(-1, oc)).reshape(n, oh, ow, oc)

    def backward(self, grad_output):
        x, w, columns = self.saved_arrays
        kh, kw, c, oc = w.shape
        n, oh, ow, _ = grad_output.shape
        g = grad_output.reshape(-1, oc)                      # [N*OH*OW, OC]
        grad_w = (columns.T @ g).reshape(w.shape)
        dcols = (g @ w.reshape(-1, oc).T).reshape(n, oh, ow, kh, kw, c)
        grad_x = np.zeros_like(x)
        for i in range(oh):                                  # col2im: add each window back
            for j in range(ow):
                grad_x[:, i:i + kh, j:j + kw, :] += dcols[:, i, j]
        return grad_x, grad_w


if __name__ == "__main__":
    exercises.check(Conv2D, "conv2d")
