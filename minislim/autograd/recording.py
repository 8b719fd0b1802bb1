"""What each op call records about where it came from: its layer scope, its line of code.

Every recorded :class:`~minislim.autograd.function.Function` call keeps ``fn.scope``, the
full name of the variable scope that was open when it ran (``"vgg_cifar/conv1/conv1_1"``),
so that a picture of the graph (:mod:`minislim.viz`) and an anomaly report
(:mod:`minislim.autograd.anomaly`) can say which layer made an op. The framework's
``variable_scope`` keeps :attr:`Recording.scope` up to date (the autograd core cannot
import the framework, so the framework tells it).

The user's line of code (``fn.origin``) is recorded only inside ``detect_anomaly()``:
finding it walks the Python stack, far too slow for every op of every step.

>>> import minislim as slim
>>> with slim.variable_scope("block"):
...     y = slim.tensor([1.0], requires_grad=True) * 2
>>> y.creator.scope
'block'
"""
from __future__ import annotations

import os
import sys


class Recording:
    """The one owner of the switches read on every op call (class attributes: one lookup)."""

    #: full name of the innermost open variable scope ("" at the root)
    scope = ""
    #: ``detect_anomaly()`` is on: check every op's output and gradients, record origins
    anomaly = False


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
#: the op machinery: frames in here are never "where an op was created"
_CORE_DIRS = tuple(_PACKAGE_DIR + name for name in ("autograd" + os.sep, "ops" + os.sep, "kernels" + os.sep,
                                                    "nn.py"))


def _describe(frame) -> str:
    import linecache  # only in anomaly mode

    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
    return f"{where}: {line}" if line else where


def user_origin() -> str:
    """Where the op being called was created: ``"file.py:12 in fn: source line"``.

    The innermost caller outside the minislim package (your code); when the layer that
    called the op is a different frame inside minislim, it is added as ``(via ...)``, and
    when everything is inside minislim (the ``minislim`` command) that frame is the answer.
    """
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_CORE_DIRS):
        frame = frame.f_back
    layer_frame = frame
    while frame is not None and (os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR)
                                 or frame.f_code.co_filename.startswith("<frozen")):
        frame = frame.f_back  # (``python -m minislim`` starts in runpy, which is not your code)
    if frame is None:
        return _describe(layer_frame) if layer_frame is not None else "(unknown)"
    if layer_frame is not frame:
        return f"{_describe(frame)} (via {_describe(layer_frame)})"
    return _describe(frame)


def reset_recording() -> None:
    """Back to the defaults (used by the test suite's global-state reset)."""
    Recording.scope = ""
    Recording.anomaly = False
