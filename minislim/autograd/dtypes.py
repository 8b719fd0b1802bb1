"""dtype rules: what ``slim.tensor(data)`` stores, and which dtypes can carry gradients.

* A Python float, or a list holding one, becomes **float32** (the framework's default),
  or the float dtype asked for (``as_array(0.1, "float64")`` is exactly ``0.1``).
* A Python int or bool (or a list of them) becomes int64 or bool, as in PyTorch.
* An ndarray keeps its dtype: asking for float64 is explicit, never a silent promotion.
* Strings, objects and other non-numeric data raise ``TypeError``.
* Only floating-point tensors can require gradients.

>>> as_array(1.5).dtype, as_array([1, 2]).dtype, as_array(np.zeros(2)).dtype
(dtype('float32'), dtype('int64'), dtype('float64'))
"""
from __future__ import annotations

import numbers

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)


def as_array(data, dtype=None) -> np.ndarray:
    """Convert ``data`` (a number, nested list, or ndarray) to an ndarray by the rules above.

    Raises:
        TypeError: for data that is not numeric.
    """
    # Python floats are float64: when a float dtype is asked for, convert to it directly
    # (0.1 asked as float64 must stay 0.1, not pass through float32 first).
    float_dtype = np.dtype(dtype) if dtype is not None and np.dtype(dtype).kind == "f" else DEFAULT_FLOAT
    if isinstance(data, np.ndarray):
        array = data
    elif isinstance(data, (bool, np.bool_)):
        array = np.asarray(data, dtype=bool)
    elif isinstance(data, numbers.Integral):
        array = np.asarray(data, dtype=np.int64)
    elif isinstance(data, numbers.Real):
        array = np.asarray(data, dtype=float_dtype)
    else:
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as error:
            raise TypeError(f"expected numbers, a nested list or an ndarray, got {type(data).__name__}: {error}") from None
        if array.dtype == np.float64:
            array = array.astype(float_dtype)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"expected numeric data (bool, int or float), got {type(data).__name__} of dtype {array.dtype}")
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


def check_differentiable(dtype: np.dtype) -> None:
    """Raise TypeError unless ``dtype`` is floating point (only those can carry gradients)."""
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"only floating-point tensors can require gradients, got dtype {np.dtype(dtype)}")
