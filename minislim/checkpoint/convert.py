"""Convert checkpoints between TensorFlow's formats and minislim's ``.npz``.

``convert(source, target)``: ``source`` is any checkpoint minislim reads (a TensorFlow V1
or V2 prefix, or an ``.npz``); ``target`` ending in ``.npz`` is written as an ``.npz``
that ``slim.checkpoint.restore`` reads, anything else as a V2 prefix TensorFlow reads
(``target.index`` and ``target.data-00000-of-00001``), so a model trained here goes back
to a TensorFlow user. Optimizer slots of an ``.npz`` become TensorFlow's
``<variable>/<slot>`` tensors.

>>> import os, tempfile
>>> import numpy as np
>>> from minislim.checkpoint import tensorflow as tf_format
>>> directory = tempfile.mkdtemp()
>>> _ = tf_format.write_v2(os.path.join(directory, "model.ckpt"), {"fc/weights": np.ones((2, 3), np.float32)})
>>> npz = convert(os.path.join(directory, "model.ckpt"), os.path.join(directory, "model.npz"))
>>> list_variables(npz)
[('fc/weights', (2, 3))]
>>> back = convert(npz, os.path.join(directory, "again.ckpt"))
>>> float(tf_format.open_checkpoint(back).read("fc/weights").sum())
6.0
"""
from __future__ import annotations

import os

import numpy as np

from minislim.checkpoint import tensorflow as tf_format
from minislim.checkpoint.format import FORMAT_VERSION, VERSION_KEY, write_npz
from minislim.checkpoint.saving import list_variables, read, resolve_path


def describe(path) -> list:
    """``[(name, shape, dtype name), ...]`` of a checkpoint's arrays (a TensorFlow one: its index only)."""
    resolved = resolve_path(path)
    if tf_format.find(resolved) == resolved:
        checkpoint = tf_format.open_checkpoint(resolved)
        dtypes = checkpoint.dtypes()
        return [(name, shape, dtypes[name]) for name, shape in checkpoint.shapes().items()]
    contents = read(resolved)
    arrays = dict(contents.variables)
    arrays.update({key: value for key, (_, _, value) in contents.slots.items()})
    return [(name, arrays[name].shape, arrays[name].dtype.name) for name, _ in list_variables(resolved)]


def convert(source, target) -> str:
    """Write the checkpoint ``source`` as ``target`` (``.npz``, or else a TensorFlow V2 prefix).

    Returns the path written (the ``.npz`` file, or the V2 prefix).
    """
    contents = read(source)
    arrays = dict(contents.variables)
    arrays.update({key: value for key, (_, _, value) in contents.slots.items()})
    target = os.fspath(target)
    if target.endswith(".npz"):
        arrays[VERSION_KEY] = np.asarray(FORMAT_VERSION, dtype=np.int64)
        return write_npz(target, arrays)
    return tf_format.write_v2(target, arrays)
