"""Switching gradient recording off and on: ``no_grad`` and ``enable_grad``.

Inside ``with no_grad():`` a :class:`~minislim.autograd.function.Function` computes its
forward pass but records nothing, so no graph is built and nothing can be
back-propagated. Use it for evaluation, for parameter updates and in numerical checks.

>>> from minislim.autograd import Tensor, no_grad, is_grad_enabled
>>> with no_grad():
...     print(is_grad_enabled())
False
>>> is_grad_enabled()
True
"""
from __future__ import annotations

import contextlib


class _GradMode:
    """The one owner of the switch (a class attribute, read on every op call)."""

    enabled = True


def is_grad_enabled() -> bool:
    """Return True when ops record the graph for backward."""
    return _GradMode.enabled


@contextlib.contextmanager
def _grad_mode(enabled: bool):
    previous = _GradMode.enabled
    _GradMode.enabled = enabled
    try:
        yield
    finally:
        _GradMode.enabled = previous


def no_grad():
    """Context manager: ops inside it record no graph (like ``torch.no_grad()``)."""
    return _grad_mode(False)


def enable_grad():
    """Context manager: ops inside it record the graph, even within ``no_grad()``."""
    return _grad_mode(True)


def reset_grad_mode() -> None:
    """Switch recording back on (used by the test suite's global-state reset)."""
    _GradMode.enabled = True
