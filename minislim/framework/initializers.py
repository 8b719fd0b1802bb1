"""Initializers: how a variable gets its first value (TensorFlow's names and formulas).

An initializer is a callable ``init(shape, dtype=None) -> ndarray``. The random ones draw
from the default graph's ``"initializers"`` stream (``graph.rng("initializers")``), so
``slim.set_random_seed`` fixes them; values are drawn in float64 and then cast, so a
float32 and a float64 graph start from the same numbers (up to rounding).

Passing ``seed=`` to an initializer gives it a private generator seeded with that value
at *every* call, as in TensorFlow 1: two variables with the same seeded initializer get
the same values.

Fans (used by Xavier/Glorot and variance scaling), for a shape ``[..., in, out]``:
``fan_in = in * prod(...)`` and ``fan_out = out * prod(...)``; so ``[KH, KW, C, OC]`` has
``fan_in = KH*KW*C`` and ``fan_out = KH*KW*OC``, ``[in, out]`` has ``in`` and ``out``, and a
vector ``[n]`` has ``fan_in = fan_out = n``.

>>> import minislim as slim
>>> slim.constant_initializer(0.5)([2]).tolist()
[0.5, 0.5]
>>> w = slim.xavier_initializer()([3, 3, 16, 32])
>>> w.dtype, bool(abs(w).max() <= (6 / (9 * 16 + 9 * 32)) ** 0.5)
(dtype('float32'), True)
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from minislim.framework.graph import get_default_graph

_MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


def _shape_tuple(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"initializer: shape must be a sequence of ints, got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"initializer: shape dimensions must be >= 0, got {dims}")
    return dims


def _resolve_dtype(dtype, default) -> np.dtype:
    if dtype is None:
        dtype = default
    if dtype is None:
        dtype = get_default_graph().dtype
    return np.dtype(dtype)


def compute_fans(shape) -> tuple:
    """``(fan_in, fan_out)`` of a weight shape, by TensorFlow's rule (module docstring)."""
    shape = _shape_tuple(shape)
    if not shape:
        return 1.0, 1.0
    fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
    fan_out = float(shape[-1])
    for dim in shape[:-2]:
        fan_in *= dim
        fan_out *= dim
    return fan_in, fan_out


class Initializer:
    """Base class: ``init(shape, dtype=None, rng=None) -> ndarray`` of that shape and dtype.

    Subclasses implement ``_generate(shape, rng) -> float64 ndarray`` (random ones) or
    override ``__call__``.
    """

    #: the dtype given to the factory (TF's ``dtype=`` argument); the variable's wins
    dtype = None
    seed = None
    random = True

    def __call__(self, shape, dtype=None, rng: np.random.Generator | None = None) -> np.ndarray:
        shape = _shape_tuple(shape)
        dtype = _resolve_dtype(dtype, self.dtype)
        if self.random and dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: cannot create random values of non-floating "
                            f"dtype {dtype}")
        if rng is None:
            rng = (np.random.default_rng(self.seed) if self.seed is not None
                   else get_default_graph().rng("initializers"))
        return np.asarray(self._generate(shape, rng)).astype(dtype, copy=False).reshape(shape)

    def _generate(self, shape: tuple, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if v is not None)
        return f"{type(self).__name__}({fields})"


class Constant(Initializer):
    """Every element ``value``; or ``value`` itself, reshaped, when it has as many elements."""

    random = False

    def __init__(self, value=0, dtype=None):
        self.value = value
        self.dtype = dtype

    def __call__(self, shape, dtype=None, rng=None) -> np.ndarray:
        shape = _shape_tuple(shape)
        dtype = _resolve_dtype(dtype, self.dtype)
        value = np.asarray(self.value, dtype=dtype)
        if value.size == 1:
            return np.full(shape, value.reshape(()), dtype=dtype)
        if value.size != math.prod(shape):
            raise ValueError(f"constant_initializer: value has {value.size} elements "
                             f"(shape {value.shape}), the variable's shape {shape} needs {math.prod(shape)}")
        return value.reshape(shape).copy()


class Zeros(Constant):
    """All zeros."""

    def __init__(self, dtype=None):
        super().__init__(0, dtype)

    def __repr__(self) -> str:
        return "Zeros()"


class Ones(Constant):
    """All ones."""

    def __init__(self, dtype=None):
        super().__init__(1, dtype)

    def __repr__(self) -> str:
        return "Ones()"


class RandomNormal(Initializer):
    """Normal(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=None):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, dtype

    def _generate(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) with values beyond two standard deviations drawn again."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=None):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, dtype

    def _generate(self, shape, rng):
        values = rng.standard_normal(size=shape)
        outside = np.flatnonzero(np.abs(values) > 2.0)  # about 4.6% of the values
        while outside.size:
            redrawn = rng.standard_normal(size=outside.size)
            values.flat[outside] = redrawn
            outside = outside[np.abs(redrawn) > 2.0]
        values *= self.stddev
        values += self.mean
        return values


class RandomUniform(Initializer):
    """Uniform on ``[minval, maxval)`` (``maxval=None`` means 1, as in TF for floats)."""

    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=None):
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, dtype

    def _generate(self, shape, rng):
        maxval = 1.0 if self.maxval is None else self.maxval
        return rng.uniform(self.minval, maxval, size=shape)


class VarianceScaling(Initializer):
    """TF-Slim's ``variance_scaling_initializer`` (``tf.contrib.layers``' formula).

    With ``n`` = fan_in, fan_out or their average (``mode``): uniform on ``[-l, l]`` with
    ``l = sqrt(3 * factor / n)``, or a truncated normal with ``stddev = sqrt(1.3 * factor / n)``
    (1.3 makes up for the truncation at two standard deviations).
    """

    def __init__(self, factor=2.0, mode="FAN_IN", uniform=False, seed=None, dtype=None):
        if mode not in _MODES:
            raise TypeError(f"variance_scaling_initializer: unknown mode {mode!r}, expected one of {list(_MODES)}")
        if not isinstance(factor, numbers.Real) or factor < 0:
            raise ValueError(f"variance_scaling_initializer: factor must be a number >= 0, got {factor!r}")
        self.factor, self.mode, self.uniform, self.seed, self.dtype = factor, mode, uniform, seed, dtype

    def scale(self, shape) -> float:
        """The limit (uniform) or standard deviation (normal) for this shape."""
        fan_in, fan_out = compute_fans(shape)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[self.mode]
        n = max(n, 1.0)
        return math.sqrt((3.0 if self.uniform else 1.3) * self.factor / n)

    def _generate(self, shape, rng):
        scale = self.scale(shape)
        if self.uniform:
            return rng.uniform(-scale, scale, size=shape)
        return TruncatedNormal(0.0, scale)._generate(shape, rng)


# --- TensorFlow's factory functions -------------------------------------------------------

def zeros_initializer(dtype=None) -> Zeros:
    """All zeros (``tf.zeros_initializer()``)."""
    return Zeros(dtype)


def ones_initializer(dtype=None) -> Ones:
    """All ones (``tf.ones_initializer()``)."""
    return Ones(dtype)


def constant_initializer(value=0, dtype=None) -> Constant:
    """A constant: a scalar broadcast, or an array with the variable's number of elements."""
    return Constant(value, dtype)


def random_normal_initializer(mean=0.0, stddev=1.0, seed=None, dtype=None) -> RandomNormal:
    """Normal(mean, stddev) (``tf.random_normal_initializer``)."""
    return RandomNormal(mean, stddev, seed, dtype)


def truncated_normal_initializer(mean=0.0, stddev=1.0, seed=None, dtype=None) -> TruncatedNormal:
    """Normal(mean, stddev) truncated at two standard deviations (``tf.truncated_normal_initializer``)."""
    return TruncatedNormal(mean, stddev, seed, dtype)


def random_uniform_initializer(minval=0.0, maxval=None, seed=None, dtype=None) -> RandomUniform:
    """Uniform on ``[minval, maxval)``, ``maxval=None`` meaning 1 (``tf.random_uniform_initializer``)."""
    return RandomUniform(minval, maxval, seed, dtype)


def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                 dtype=None) -> VarianceScaling:
    """He/MSRA-style scaling by default (``factor=2.0, mode='FAN_IN'``); see :class:`VarianceScaling`."""
    return VarianceScaling(factor, mode, uniform, seed, dtype)


def xavier_initializer(uniform=True, seed=None, dtype=None) -> VarianceScaling:
    """Xavier/Glorot: ``variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=uniform)``.

    Uniform: limit ``sqrt(6 / (fan_in + fan_out))``; normal: truncated normal with
    ``stddev = sqrt(2.6 / (fan_in + fan_out))``. The default weights initializer of the layers.
    """
    return VarianceScaling(1.0, "FAN_AVG", uniform, seed, dtype)


#: TF-Slim's alias
xavier_initializer_conv2d = xavier_initializer
