"""Layer 8: checkpoints (``slim.checkpoint``): save, restore, inspect, compare.

* :func:`save` / :func:`restore`: variables, optimizer slots, global step, extra state in
  one ``.npz``, written atomically and read without ever unpickling;
* :func:`latest_checkpoint`, :func:`list_variables`, :func:`load_variable`;
* :func:`assign_from_checkpoint_fn`: the ``init_fn`` that warm-starts training;
* :func:`diff`: what a restore would do, with include/exclude suggestions;
* TensorFlow checkpoints (V1 and V2, :mod:`minislim.checkpoint.tensorflow`) are read
  wherever a path is taken; :func:`convert` writes ``.npz`` or V2, :func:`describe` lists.

>>> import os, tempfile
>>> import minislim as slim
>>> logdir = tempfile.mkdtemp()
>>> w = slim.tensor([1.0])
>>> w.name = "w"
>>> _ = slim.checkpoint.save(slim.checkpoint.checkpoint_path(logdir, 5), [w], global_step=5)
>>> os.path.basename(slim.checkpoint.latest_checkpoint(logdir))
'model.ckpt-5.npz'
"""
from minislim.checkpoint.convert import convert, describe
from minislim.checkpoint.diff import CheckpointDiff, diff
from minislim.checkpoint.format import FORMAT_VERSION, CheckpointError
from minislim.checkpoint.saving import (RestoreResult, all_checkpoints, assign_from_checkpoint_fn,
                                        checkpoint_path, latest_checkpoint, list_variables, load_variable, resolve_path,
                                        read, remove_temporaries, restore, save)

__all__ = ["save", "restore", "read", "latest_checkpoint", "all_checkpoints", "checkpoint_path",
           "list_variables", "load_variable", "resolve_path", "remove_temporaries", "assign_from_checkpoint_fn", "diff", "CheckpointDiff",
           "CheckpointError", "RestoreResult", "FORMAT_VERSION", "convert", "describe"]

from minislim.checkpoint.assign import assign_from_checkpoint  # noqa: E402

__all__ += ["assign_from_checkpoint"]
