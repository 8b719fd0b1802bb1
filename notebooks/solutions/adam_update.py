"""Solution of the ``adam_update`` exercise (notebook 05), as slim.optimizers.Adam.

Run it to see the checker's verdict: ``python notebooks/solutions/adam_update.py``.
"""
import math

import numpy as np


def adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g                  # first moment: the mean gradient
    v = beta2 * v + (1 - beta2) * g * g              # second moment: the mean squared gradient
    lr_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)   # bias correction, in the rate
    return w - lr_t * m / (np.sqrt(v) + eps), m, v


if __name__ == "__main__":
    from minislim.exercises import check

    check(adam_update, "adam_update")
