"""The random generator behind stochastic ops (``nn.dropout``) when no ``rng`` is passed.

The ops do not own that generator; they ask a *source* for it at every call. The
framework (layer 4) installs a source that returns the default graph's ``"nn"`` stream,
so each graph has its own generator, seeded by the graph's seed (0 unless
``slim.set_random_seed`` says otherwise), and leaving a graph's ``as_default()`` block
gives the ops back the outer graph's generator. Without a source (the ops used without
the framework), this module's own generator, seeded with 0, is used. NumPy's global
random state never is.

>>> import numpy as np
>>> mine = np.random.default_rng(3)
>>> previous = set_source(lambda: mine)
>>> default_generator() is mine
True
>>> _ = set_source(previous)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

_own = np.random.default_rng(0)
_source: Callable[[], np.random.Generator] | None = None


def default_generator() -> np.random.Generator:
    """The generator used by ops called without an explicit ``rng``."""
    return _own if _source is None else _source()


def set_source(source: Callable[[], np.random.Generator] | None):
    """Make :func:`default_generator` return ``source()``; None: this module's generator.

    Returns:
        The previous source (to put back).
    """
    global _source
    previous, _source = _source, source
    return previous
