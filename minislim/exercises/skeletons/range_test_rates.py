"""Skeleton of the exercise 'range_test_rates' (minislim.exercises): complete it in the notebook."""
import numpy as np


def range_test_rates(lr_min, lr_max, steps):
    k = np.arange(steps)  # noqa: F841 (yours to use)
    # TODO: return the steps rates, from lr_min to lr_max, each the previous times a constant factor
    raise NotImplementedError
