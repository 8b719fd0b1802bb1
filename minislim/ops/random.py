"""The random generator behind stochastic ops (``nn.dropout``) when no ``rng`` is passed.

It is a ``numpy.random.Generator`` owned here, never NumPy's global state;
``slim.set_random_seed`` reseeds it together with every other generator the framework owns.

>>> seed(0); a = default_generator().random()
>>> seed(0); a == default_generator().random()
True
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def default_generator() -> np.random.Generator:
    """The generator used by ops called without an explicit ``rng``."""
    return _generator


def seed(value: int) -> None:
    """Replace the default generator by a fresh one seeded with ``value``."""
    global _generator
    _generator = np.random.default_rng(value)
