"""``assign_from_checkpoint``: TF-Slim's (assign_op, feed_dict) pair, read from a minislim checkpoint.

``sess.run(assign_op, feed_dict)`` becomes ``assign_op()``; ``feed_dict`` maps each
variable to the value it will receive. Unlike :func:`~minislim.checkpoint.assign_from_checkpoint_fn`,
a ``var_list`` dict may map one checkpoint name to a list of variables (each gets the
value), as in TF-Slim.

>>> import os, tempfile
>>> import numpy as np
>>> import minislim as slim
>>> w = slim.variable("w", shape=[2], initializer=slim.constant_initializer([1.0, 2.0]))
>>> path = slim.checkpoint.save(os.path.join(tempfile.mkdtemp(), "model.ckpt"), [w])
>>> _ = w.assign(np.zeros(2, np.float32))
>>> assign_op, feed_dict = assign_from_checkpoint(path, [w])
>>> assign_op()
>>> w.data.tolist()
[1.0, 2.0]
"""
from __future__ import annotations

import warnings

from minislim.checkpoint.saving import read


def assign_from_checkpoint(model_path: str, var_list, ignore_missing_vars: bool = False) -> tuple:
    """``(assign_op, feed_dict)`` restoring ``var_list`` from the checkpoint ``model_path``.

    Args:
        model_path: a checkpoint file (or a log directory: its newest checkpoint).
        var_list: a list of variables (each under its own name) or a dict
            ``{checkpoint name: variable or list of variables}``. Empty: a no-op.
        ignore_missing_vars: skip, with a warning, names the checkpoint lacks.

    Raises:
        ValueError: a name missing from the checkpoint (unless ignored); a variable whose
            shape differs from the checkpoint's value.
    """
    grouped: dict = {}
    if isinstance(var_list, (list, tuple)):
        for var in var_list:
            grouped.setdefault(var.name, []).append(var)
    else:
        grouped = {name: list(v) if isinstance(v, (list, tuple)) else [v] for name, v in var_list.items()}
    feed_dict = {}
    if grouped:
        contents = read(model_path)
        for name, variables in grouped.items():
            if name not in contents.variables:
                message = f"Checkpoint is missing variable [{name}]"
                if ignore_missing_vars:
                    warnings.warn(message, stacklevel=2)
                    continue
                raise ValueError(message)
            value = contents.variables[name]
            for var in variables:
                if tuple(var.shape) != value.shape:
                    raise ValueError(f"Total size of new array must be unchanged for {name} lh_shape: "
                                     f"[{value.shape}], rh_shape: [{tuple(var.shape)}]")
                feed_dict[var] = value.astype(var.dtype, copy=False)
    pairs = list(feed_dict.items())

    def assign_op() -> None:
        for var, value in pairs:
            var.assign(value)

    return assign_op, feed_dict
