"""The op table: every differentiable op is registered here, once.

An entry says how to call the op and how to make valid inputs for it, so that the test
suite can gradient-check every op without a test file per op (``tests/ops/test_registry.py``
iterates over :data:`OPS`). An op that is not registered cannot ship unchecked.

Each entry holds

* ``name``: the public name (``"nn.softmax"``, ``"add"``, ...);
* ``fn``: a function of Tensors returning one Tensor (extra arguments bound in);
* ``make_inputs(rng)``: returns a list of float64 ndarrays inside the op's domain, with
  shapes drawn from ``rng`` (broadcasting included where the op broadcasts);
* ``make_kwargs(rng, inputs)``: optional, draws keyword arguments (an axis, keepdims);
* ``domain``: the constraint the generator respects, in words (e.g. "away from the kink
  at 0", "no ties"): finite differences are meaningless across a kink or a tie.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable
    make_inputs: Callable[[np.random.Generator], list]
    domain: str = "any real input"
    #: indices of inputs that are not differentiated (integer labels, index arrays)
    constant_inputs: tuple = ()
    make_kwargs: Callable | None = None

    def sample(self, rng: np.random.Generator):
        """Draw ``(inputs, kwargs)`` for one call: ``spec.fn(*inputs, **kwargs)``."""
        inputs = self.make_inputs(rng)
        kwargs = self.make_kwargs(rng, inputs) if self.make_kwargs else {}
        return inputs, kwargs


OPS: dict = {}


def register(name: str, fn: Callable, make_inputs: Callable, domain: str = "any real input",
             constant_inputs: tuple = (), make_kwargs: Callable | None = None) -> None:
    """Add an op to the table (a name may be registered once)."""
    if name in OPS:
        raise ValueError(f"op {name!r} is registered twice")
    OPS[name] = OpSpec(name, fn, make_inputs, domain, tuple(constant_inputs), make_kwargs)


# --- input generators shared by many entries ------------------------------------------

def random_shape(rng: np.random.Generator, min_rank: int = 0, max_rank: int = 3, max_size: int = 4) -> tuple:
    """A small random shape (sizes 1..max_size)."""
    rank = int(rng.integers(min_rank, max_rank + 1))
    return tuple(int(n) for n in rng.integers(1, max_size + 1, size=rank))


def broadcastable_pair(rng: np.random.Generator) -> tuple:
    """Two shapes that broadcast together, e.g. (3, 1, 4) and (2, 4)."""
    full = random_shape(rng, 1, 3)
    other = tuple(1 if rng.random() < 0.3 else n for n in full[int(rng.integers(0, len(full))):])
    return (full, other) if rng.random() < 0.5 else (other, full)


def away_from(values: np.ndarray, points, margin: float = 0.1) -> np.ndarray:
    """Push values at least ``margin`` away from each kink in ``points``."""
    values = np.array(values, dtype=np.float64)  # a copy, also of a 0-d scalar
    for p in points:
        near = np.abs(values - p) < margin
        values[near] = p + np.where(values[near] >= p, margin, -margin) * 2
    return values


def distinct(rng: np.random.Generator, shape: tuple, gap: float = 0.05) -> np.ndarray:
    """Values whose pairwise differences are all at least ``gap`` (no ties for max/min)."""
    size = int(np.prod(shape, dtype=int))
    values = (rng.permutation(size) * gap * 3 + rng.uniform(0, gap, size)) - size * gap * 1.5
    return values.reshape(shape)
