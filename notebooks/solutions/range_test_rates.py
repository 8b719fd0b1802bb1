"""Solution of the ``range_test_rates`` exercise (notebook 08): a geometric progression.

Run it to see the checker's verdict: ``python notebooks/solutions/range_test_rates.py``.
"""
import numpy as np


def range_test_rates(lr_min, lr_max, steps):
    k = np.arange(steps)
    return lr_min * (lr_max / lr_min) ** (k / (steps - 1))   # the exponent runs from 0 to 1


if __name__ == "__main__":
    from minislim.exercises import check

    check(range_test_rates, "range_test_rates")
