"""Solution of the ``smoothed_cross_entropy`` exercise (notebook 12): TF's label smoothing.

Run it to see the checker's verdict: ``python notebooks/solutions/smoothed_cross_entropy.py``.
"""
import numpy as np


def smoothed_cross_entropy(logits, labels, smoothing):
    n, c = logits.shape
    one_hot = np.eye(c)[labels]
    target = one_hot * (1 - smoothing) + smoothing / c      # still a distribution
    shifted = logits - logits.max(axis=1, keepdims=True)    # exp cannot overflow
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -(target * log_p).sum(axis=1).mean()


if __name__ == "__main__":
    from minislim.exercises import check

    check(smoothed_cross_entropy, "smoothed_cross_entropy")
