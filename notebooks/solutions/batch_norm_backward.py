"""Solution of the ``batch_norm_backward`` exercise (notebook 07): the three paths in one line.

Run it to see the checker's verdict: ``python notebooks/solutions/batch_norm_backward.py``.
"""


def batch_norm_backward(g, x_hat, gamma, sigma):
    dx_hat = g * gamma
    # direct path, minus the path through the mean, minus the path through the variance
    return (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / sigma


if __name__ == "__main__":
    from minislim.exercises import check

    check(batch_norm_backward, "batch_norm_backward")
