"""Solution of the ``im2col`` exercise (notebook 03): VALID, stride 1.

Run it to see the checker's verdict: ``python notebooks/solutions/im2col.py``.
"""
import numpy as np


def my_im2col(x, kh, kw):
    """x [N, H, W, C] -> columns [N*OH*OW, KH*KW*C], one window per row in (KH, KW, C) order."""
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    columns = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for i in range(kh):              # one copy per tap: the rows of tap (i, j) are a shifted slice
        for j in range(kw):
            columns[:, :, :, i, j, :] = x[:, i:i + oh, j:j + ow, :]
    return columns.reshape(n * oh * ow, kh * kw * c)


if __name__ == "__main__":
    from minislim.exercises import check

    check(my_im2col, "im2col")
