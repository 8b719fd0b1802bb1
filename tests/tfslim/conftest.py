"""The optional TF-Slim oracle suite: minislim against the real ``tf_slim`` on the same inputs.

Runs only where TensorFlow and tf_slim are installed (``make tfslim-oracle`` builds a venv
with the pins that work: tensorflow-cpu 2.15.1, tf-keras 2.15.1, tf-slim 1.1.0, numpy<2 on
Python 3.11); every module here starts with ``pytest.importorskip("tf_slim")``, so CI,
which has neither, skips them.

Each test states one behaviour in its docstring's first line. When the run is given
``MINISLIM_TFSLIM_DOCS=1`` (``make tfslim-oracle`` does), the session writes
``docs/tfslim_parity.md``: the behaviours checked and their outcome, and the table of every
public name of ``tf_slim`` with minislim's support (see ``tfslim_names.py``).
"""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

_RESULTS: dict = {}


def import_tf_slim():
    """``(tensorflow, tf_slim)``, skipping the test when either is missing.

    tf_slim 1.1.0 reads ``tensorflow.python.framework.ops.Tensor`` and ``ops.IndexedSlices``
    (in ``isinstance`` checks), which TF 2.15 moved to ``framework.tensor`` and
    ``framework.indexed_slices``: the old names are put back, pointing at the same class, before tf_slim is used. And TF 2.15's
    ``tf.compat.v1.layers`` (which tf_slim's batch_norm calls) lazily imports
    ``tf_keras.legacy_tf_layers.normalization``, which tf-keras 2.15.1 ships as
    ``tf_keras.src.legacy_tf_layers.normalization``: the old module names are made to
    point at the new modules.
    """
    tf = pytest.importorskip("tensorflow")
    from tensorflow.python.framework import ops
    if not hasattr(ops, "Tensor"):
        from tensorflow.python.framework import tensor
        ops.Tensor = tensor.Tensor
    if not hasattr(ops, "IndexedSlices"):  # read by tf_slim.learning and optimize_loss
        from tensorflow.python.framework import indexed_slices
        ops.IndexedSlices = indexed_slices.IndexedSlices
    try:
        importlib.import_module("tf_keras.legacy_tf_layers.normalization")
    except ModuleNotFoundError:
        for name in ("legacy_tf_layers", "legacy_tf_layers.normalization"):
            sys.modules[f"tf_keras.{name}"] = importlib.import_module(f"tf_keras.src.{name}")
    return tf, pytest.importorskip("tf_slim")


@pytest.fixture
def tf1():
    """A fresh TensorFlow graph in TF 1 mode and its session: ``(tf, tf_slim, sess)``."""
    tf, tf_slim = import_tf_slim()
    tf.compat.v1.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        with tf.compat.v1.Session(graph=graph) as sess:
            yield tf, tf_slim, sess


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _RESULTS[report.nodeid] = report.outcome


def _behaviour(item) -> str:
    doc = (getattr(item, "function", None).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else item.name


def pytest_collection_modifyitems(session, config, items):
    session.config._tfslim_items = [item for item in items if "tests/tfslim/" in item.nodeid]


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("MINISLIM_TFSLIM_DOCS") != "1":
        return
    items = getattr(session.config, "_tfslim_items", [])
    if not items or not any(outcome == "passed" for outcome in _RESULTS.values()):
        return
    from tfslim_names import write_docs  # imports tf_slim: only here, where it runs
    rows = [(item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1], _behaviour(item),
             _RESULTS.get(item.nodeid, "not run")) for item in items]
    write_docs(Path(session.config.rootpath), rows)
