"""Numerically stable softmax, log-softmax and log-sum-exp on ndarrays.

``exp`` overflows float32 above about 88, so each kernel first subtracts the maximum along
the axis: ``softmax(x) = softmax(x - max(x))`` exactly, and now every exponent is <= 0.

>>> import numpy as np
>>> softmax(np.array([1000.0, 1000.0])).tolist()
[0.5, 0.5]
>>> float(logsumexp(np.array([1000.0, 1000.0])))  # log(2 e^1000)
1000.6931471805599
"""
from __future__ import annotations

import numpy as np


def logsumexp(x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(x), axis))`` without overflow; keeps ``x``'s dtype."""
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0).astype(x.dtype, copy=False)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x) / sum(exp(x), axis)`` computed as ``exp(x - max)`` over its sum."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``x - logsumexp(x, axis)``: exact for large logits, where ``log(softmax)`` gives -inf."""
    return x - logsumexp(x, axis=axis, keepdims=True)
