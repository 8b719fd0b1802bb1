"""Learning-rate schedules: callables that map the global step to a learning rate.

An optimizer accepts either a number or one of these as its ``learning_rate`` and calls it
with the current global step before each update (TF evaluates its decay ops the same way:
with the value of ``global_step`` *before* the step increments it).

>>> lr = exponential_decay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
>>> [lr(0), lr(9), lr(10), lr(25)]
[0.1, 0.1, 0.05, 0.025]
>>> piecewise_constant([100, 200], [1.0, 0.5, 0.1])(150)
0.5
>>> round(cosine_decay(1.0, decay_steps=100)(50), 6)
0.5
"""
from __future__ import annotations

import math
from typing import Sequence


def _check_rate(schedule: str, name: str, value) -> float:
    """``value`` as a float, if it is a finite number >= 0 (a rate, or a factor of one)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{schedule}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{schedule}: {name} must be a finite number >= 0, got {value}")
    return value


def _not_the_global_step(schedule: str, decay_steps) -> None:
    """TF 1's ``tf.train.*_decay(learning_rate, global_step, decay_steps, ...)`` take the global
    step second; these schedules do not (the optimizer calls them with it): a Tensor where
    ``decay_steps`` goes is that call ported unchanged, a TypeError that says so."""
    from minislim.autograd import Tensor
    if isinstance(decay_steps, Tensor):
        raise TypeError(f"{schedule}: decay_steps must be a number, got a Tensor ({decay_steps!r}): minislim's "
                        f"schedules take no global_step (TF 1's second argument); {schedule}(learning_rate, "
                        f"decay_steps, ...) returns a function of the step, which the optimizer calls")


def _check_step(schedule: str, step) -> int:
    try:
        value = int(step)
    except (TypeError, ValueError):
        raise TypeError(f"{schedule}: the global step must be an integer, got {step!r}") from None
    if value < 0 or value != step:
        raise ValueError(f"{schedule}: the global step must be a non-negative integer, got {step!r}")
    return value


class ExponentialDecay:
    """``learning_rate * decay_rate ** (step / decay_steps)`` (TF's ``exponential_decay``).

    With ``staircase=True`` the exponent is rounded down, so the rate drops in steps
    every ``decay_steps``.
    """

    def __init__(self, learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        _not_the_global_step("exponential_decay", decay_steps)
        if decay_steps <= 0:
            raise ValueError(f"exponential_decay: decay_steps must be positive, got {decay_steps}")
        self.learning_rate = _check_rate("exponential_decay", "learning_rate", learning_rate)
        self.decay_steps = decay_steps  # a float is kept (TF divides in floating point)
        self.decay_rate = _check_rate("exponential_decay", "decay_rate", decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step) -> float:
        step = _check_step("exponential_decay", step)
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.learning_rate * self.decay_rate ** exponent

    def __repr__(self) -> str:
        return (f"exponential_decay({self.learning_rate}, decay_steps={self.decay_steps}, "
                f"decay_rate={self.decay_rate}, staircase={self.staircase})")


class PiecewiseConstant:
    """``values[i]`` on the i-th interval cut by ``boundaries`` (TF's ``piecewise_constant``).

    ``values[0]`` for ``step <= boundaries[0]``, ``values[1]`` for ``boundaries[0] < step <=
    boundaries[1]``, ..., ``values[-1]`` for ``step > boundaries[-1]``.
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]):
        boundaries = list(boundaries)
        values = [_check_rate("piecewise_constant", f"values[{i}]", v) for i, v in enumerate(values)]
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"piecewise_constant: needs one more value than boundaries, got "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        if any(later <= earlier for earlier, later in zip(boundaries, boundaries[1:])):
            raise ValueError(f"piecewise_constant: boundaries must increase strictly, got {boundaries}")
        self.boundaries, self.values = boundaries, values

    def __call__(self, step) -> float:
        step = _check_step("piecewise_constant", step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def __repr__(self) -> str:
        return f"piecewise_constant({self.boundaries}, {self.values})"


class CosineDecay:
    """Optional linear warm-up, then half a cosine from ``learning_rate`` down to
    ``alpha * learning_rate`` over ``decay_steps`` steps (TF's ``cosine_decay``).

    During the first ``warmup_steps`` steps the rate rises linearly from
    ``warmup_learning_rate`` to ``learning_rate``; the cosine then starts at step
    ``warmup_steps`` and ``decay_steps`` counts from there (as in Keras' ``CosineDecay``).
    After the decay the rate stays at ``alpha * learning_rate``.
    """

    def __init__(self, learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_steps: int = 0, warmup_learning_rate: float = 0.0):
        if decay_steps <= 0:
            raise ValueError(f"cosine_decay: decay_steps must be positive, got {decay_steps}")
        if warmup_steps < 0:
            raise ValueError(f"cosine_decay: warmup_steps must be >= 0, got {warmup_steps}")
        self.learning_rate = _check_rate("cosine_decay", "learning_rate", learning_rate)
        self.decay_steps = int(decay_steps)
        self.alpha = _check_rate("cosine_decay", "alpha", alpha)
        self.warmup_steps = int(warmup_steps)
        self.warmup_learning_rate = _check_rate("cosine_decay", "warmup_learning_rate", warmup_learning_rate)

    def __call__(self, step) -> float:
        step = _check_step("cosine_decay", step)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.warmup_learning_rate + (self.learning_rate - self.warmup_learning_rate) * fraction
        progress = min(step - self.warmup_steps, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def __repr__(self) -> str:
        return (f"cosine_decay({self.learning_rate}, decay_steps={self.decay_steps}, alpha={self.alpha}, "
                f"warmup_steps={self.warmup_steps}, warmup_learning_rate={self.warmup_learning_rate})")


def exponential_decay(learning_rate: float, decay_steps: int, decay_rate: float,
                      staircase: bool = False) -> ExponentialDecay:
    """Exponentially decaying rate; see :class:`ExponentialDecay`."""
    return ExponentialDecay(learning_rate, decay_steps, decay_rate, staircase)


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> PiecewiseConstant:
    """Piecewise constant rate; see :class:`PiecewiseConstant`."""
    return PiecewiseConstant(boundaries, values)


def cosine_decay(learning_rate: float, decay_steps: int, alpha: float = 0.0, warmup_steps: int = 0,
                 warmup_learning_rate: float = 0.0) -> CosineDecay:
    """Cosine decay with optional linear warm-up; see :class:`CosineDecay`."""
    return CosineDecay(learning_rate, decay_steps, alpha, warmup_steps, warmup_learning_rate)


# --- TF 1's other decays (tf.compat.v1.train.*_decay), as schedules of the step -----------

def _check_decay_steps(schedule: str, decay_steps):
    _not_the_global_step(schedule, decay_steps)
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, (int, float)) or not decay_steps > 0:
        raise ValueError(f"{schedule}: decay_steps must be a positive number, got {decay_steps!r}")
    return decay_steps


class PolynomialDecay:
    """From ``learning_rate`` to ``end_learning_rate`` along ``(1 - step / decay_steps) ** power``.

    TF's ``polynomial_decay``: after ``decay_steps`` the rate stays at
    ``end_learning_rate``; with ``cycle=True`` the decay restarts instead, over
    ``decay_steps * ceil(step / decay_steps)`` steps (1 at step 0).
    """

    def __init__(self, learning_rate: float, decay_steps, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False):
        self.decay_steps = _check_decay_steps("polynomial_decay", decay_steps)
        self.learning_rate = _check_rate("polynomial_decay", "learning_rate", learning_rate)
        self.end_learning_rate = _check_rate("polynomial_decay", "end_learning_rate", end_learning_rate)
        self.power = _check_rate("polynomial_decay", "power", power)
        self.cycle = bool(cycle)

    def __call__(self, step) -> float:
        step = _check_step("polynomial_decay", step)
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps = decay_steps * (1.0 if step == 0 else math.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        fraction = step / decay_steps
        return (self.learning_rate - self.end_learning_rate) * (1.0 - fraction) ** self.power + self.end_learning_rate

    def __repr__(self) -> str:
        return (f"polynomial_decay({self.learning_rate}, decay_steps={self.decay_steps}, "
                f"end_learning_rate={self.end_learning_rate}, power={self.power}, cycle={self.cycle})")


class NaturalExpDecay:
    """``learning_rate * exp(-decay_rate * step / decay_steps)`` (TF's ``natural_exp_decay``);
    ``staircase=True`` rounds ``step / decay_steps`` down."""

    def __init__(self, learning_rate: float, decay_steps, decay_rate: float, staircase: bool = False):
        self.decay_steps = _check_decay_steps("natural_exp_decay", decay_steps)
        self.learning_rate = _check_rate("natural_exp_decay", "learning_rate", learning_rate)
        self.decay_rate = _check_rate("natural_exp_decay", "decay_rate", decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step) -> float:
        fraction = _check_step("natural_exp_decay", step) / self.decay_steps
        if self.staircase:
            fraction = math.floor(fraction)
        return self.learning_rate * math.exp(-self.decay_rate) ** fraction

    def __repr__(self) -> str:
        return (f"natural_exp_decay({self.learning_rate}, decay_steps={self.decay_steps}, "
                f"decay_rate={self.decay_rate}, staircase={self.staircase})")


class InverseTimeDecay:
    """``learning_rate / (1 + decay_rate * step / decay_steps)`` (TF's ``inverse_time_decay``);
    ``staircase=True`` rounds ``step / decay_steps`` down."""

    def __init__(self, learning_rate: float, decay_steps, decay_rate: float, staircase: bool = False):
        self.decay_steps = _check_decay_steps("inverse_time_decay", decay_steps)
        self.learning_rate = _check_rate("inverse_time_decay", "learning_rate", learning_rate)
        self.decay_rate = _check_rate("inverse_time_decay", "decay_rate", decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step) -> float:
        fraction = _check_step("inverse_time_decay", step) / self.decay_steps
        if self.staircase:
            fraction = math.floor(fraction)
        return self.learning_rate / (1.0 + self.decay_rate * fraction)

    def __repr__(self) -> str:
        return (f"inverse_time_decay({self.learning_rate}, decay_steps={self.decay_steps}, "
                f"decay_rate={self.decay_rate}, staircase={self.staircase})")


def polynomial_decay(learning_rate: float, decay_steps, end_learning_rate: float = 0.0001, power: float = 1.0,
                     cycle: bool = False) -> PolynomialDecay:
    """Polynomial decay; see :class:`PolynomialDecay`.

    >>> lr = polynomial_decay(1.0, 10, end_learning_rate=0.0, power=2.0)
    >>> [lr(0), lr(5), lr(10), lr(20)]
    [1.0, 0.25, 0.0, 0.0]
    >>> round(polynomial_decay(1.0, 10, end_learning_rate=0.0, cycle=True)(15), 6)  # over 20 steps
    0.25
    """
    return PolynomialDecay(learning_rate, decay_steps, end_learning_rate, power, cycle)


def natural_exp_decay(learning_rate: float, decay_steps, decay_rate: float, staircase: bool = False) -> NaturalExpDecay:
    """Natural exponential decay; see :class:`NaturalExpDecay`."""
    return NaturalExpDecay(learning_rate, decay_steps, decay_rate, staircase)


def inverse_time_decay(learning_rate: float, decay_steps, decay_rate: float, staircase: bool = False) -> InverseTimeDecay:
    """Inverse time decay; see :class:`InverseTimeDecay`.

    >>> inverse_time_decay(1.0, 10, 1.0)(10), inverse_time_decay(1.0, 10, 1.0, staircase=True)(19)
    (0.5, 0.5)
    """
    return InverseTimeDecay(learning_rate, decay_steps, decay_rate, staircase)
