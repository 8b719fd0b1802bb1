"""``train``: the training loop (TF-Slim's ``learning.train``), resumable bit for bit.

``train(train_op, data, logdir, number_of_steps=1000)`` runs ``train_op(*batch)`` for
each batch of ``data``, epoch after epoch, until the global step reaches
``number_of_steps`` (None: until interrupted), and:

* prints a progress line every ``log_every_n_steps`` steps (step, loss, steps/s,
  examples/s, time left);
* saves ``<logdir>/model.ckpt-<step>.npz`` every ``save_interval_steps`` steps and/or
  ``save_interval_secs`` seconds, keeps the newest ``keep_checkpoint_max``, and always
  saves at the end;
* **resumes** from the newest checkpoint in ``logdir``: variables, optimizer slots,
  global step, the framework's random generators and the input position (a minislim
  pipeline restores its own state; any other re-iterable is advanced past the batches
  already consumed in the current epoch). So 30 steps, stop, then 30 more give the same
  weights, bit for bit, as 60 steps in one run;
* otherwise calls ``init_fn()`` (a warm start, e.g. ``assign_from_checkpoint_fn``), once
  the variables exist; a checkpoint in ``logdir`` wins, as in TF-Slim, and one line says
  which of the three (resumed, warm start, from scratch) happened;
* stops on a NaN/inf loss or gradient with :class:`NonFiniteError` before the bad update,
  or, for an update that overflowed, at the first checkpoint that would hold non-finite
  variables (not written): the last good checkpoint stays the newest;
* on Ctrl-C (SIGINT) or SIGTERM finishes the current step, saves a checkpoint and raises
  :class:`~minislim.learning.run_guard.Interrupted`, a ``KeyboardInterrupt`` whose
  ``exit_code`` is 130 or 143 (a second signal stops a step at once, but never tears a
  save in progress);
* holds the logdir's lock while it runs: a second trainer on the same logdir gets
  :class:`~minislim.learning.run_guard.LogdirBusy`; an OS error on the logdir (a full
  disk, a read-only directory) is a :class:`~minislim.learning.run_guard.LogdirError`
  naming the path, and the last good checkpoint stays;
* with ``diagnostics_every_n_steps=N`` prints the per-layer table of
  :mod:`minislim.learning.diagnostics` every N steps.

To restore or warm-start, ``train`` needs the variables before the first step: it runs the
model once on the first batch without training (``TrainOp.build``), then loads.

>>> import tempfile
>>> import numpy as np
>>> import minislim as slim
>>> def loss_fn(x, y):
...     w = slim.variable("w", shape=[1], initializer=slim.zeros_initializer())
...     return slim.losses.mean_squared_error(x * w, y)
>>> x = np.arange(8, dtype=np.float32) / 8
>>> data = slim.data.batches(x, 2 * x, batch_size=4, seed=0)
>>> op = slim.learning.create_train_op(loss_fn, slim.optimizers.SGD(0.5))
>>> loss = train(op, data, tempfile.mkdtemp(), number_of_steps=20, log_every_n_steps=10,
...              log_fn=lambda line: print(line.split("(")[0]))
No checkpoint in ...: training from scratch at step 0
step 10/20  loss 0.0016
step 20/20  loss 0.0000
Finished at step 20; saved .../model.ckpt-20.npz
"""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import numpy as np

from minislim.checkpoint.saving import (all_checkpoints, checkpoint_path, read, remove_temporaries, restore,
                                        save)
from minislim.framework.graph import get_rng_state, set_rng_state
from minislim.framework.variables import get_variables
from minislim.learning.diagnostics import Watch
from minislim.learning.run_guard import (Interrupted, LogdirError, StopSignals, describe_os_error, lock_logdir,
                                         prepare_logdir)
from minislim.learning.train_op import NonFiniteError
from minislim.parallel.data_parallel import any_rank


class DataExhausted(Exception):
    """A one-shot iterator ran out of batches."""


class InputPosition:
    """Batches of ``data`` epoch after epoch, with a position that can be saved.

    A minislim pipeline (anything with ``state_dict``/``load_state_dict``) keeps its own
    position; for any other iterable the position is (epoch, batches consumed in it).
    """

    def __init__(self, data):
        self.data = data
        self.is_pipeline = hasattr(data, "state_dict") and hasattr(data, "load_state_dict")
        self.epoch, self.batch = 0, 0
        self._iterator = None
        self._skip = 0
        self._seen_any = False

    def state(self) -> dict:
        if self.is_pipeline:
            return {"kind": "pipeline", "state": dict(self.data.state_dict())}
        return {"kind": "count", "epoch": self.epoch, "batch": self.batch}

    def restore(self, state: dict | None) -> None:
        if not state:
            return
        if state.get("kind") == "pipeline" and self.is_pipeline:
            self.data.load_state_dict(state["state"])
        elif state.get("kind") == "count" and not self.is_pipeline:
            self.epoch, self._skip = int(state["epoch"]), int(state["batch"])
        else:
            raise ValueError(f"train: the checkpoint's input position ({state.get('kind')}) does not fit this data "
                             f"({'a pipeline' if self.is_pipeline else 'a plain iterable'}); resume with the same "
                             "kind of data, or use another logdir")
        self._iterator = None

    def next(self):
        fresh_epochs = 0
        while True:
            if self._iterator is None:
                self._iterator = iter(self.data)
                fresh_epochs += 1
                if fresh_epochs > 2:
                    break
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                if not self.is_pipeline:
                    self.epoch, self.batch = self.epoch + 1, 0
                continue
            if self._skip:
                self._skip -= 1
                self.batch += 1
                continue
            self._seen_any = True
            self.batch += 1
            return tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)
        if not self._seen_any:
            raise ValueError("train: data yielded no batch at all")
        raise DataExhausted()


def _silent(line: str) -> None:
    """The log of a process other than rank 0 in data-parallel training."""


def _format_seconds(seconds: float) -> str:
    return str(timedelta(seconds=int(round(seconds))))


def prune_checkpoints(logdir: str, keep: int) -> list:
    """Delete all but the newest ``keep`` checkpoints; a file already gone is no error. Return the deleted."""
    deleted = []
    for _, old in all_checkpoints(logdir)[:-keep]:
        try:
            os.remove(old)
            deleted.append(old)
        except FileNotFoundError:  # removed by someone else meanwhile
            pass
    return deleted


def train(train_op, data, logdir: str, number_of_steps: int | None = None, log_every_n_steps: int = 10,
          save_interval_steps: int | None = None, save_interval_secs: float | None = 600,
          keep_checkpoint_max: int | None = 5, init_fn=None, diagnostics_every_n_steps: int | None = None,
          log_fn=print) -> float | None:
    """Run the training loop (see the module docstring).

    Args:
        train_op: from :func:`~minislim.learning.train_op.create_train_op`.
        data: an iterable of batch tuples (each passed as ``loss_fn(*batch)``), iterated
            again for every epoch; e.g. ``slim.data.batches(images, labels, batch_size=64)``.
        logdir: where checkpoints go (created if needed) and where training resumes from.
        number_of_steps: stop when the global step reaches this (None: run until Ctrl-C
            or until a one-shot iterator is exhausted).
        log_every_n_steps: print a progress line this often (0/None: never).
        save_interval_steps, save_interval_secs: save a checkpoint this often (None: not
            by this criterion). A final checkpoint is always saved.
        keep_checkpoint_max: keep at most this many checkpoints (None/0: keep all).
        init_fn: a function of no arguments called once the variables exist, when
            ``logdir`` holds no checkpoint (warm start).
        diagnostics_every_n_steps: print the per-layer diagnostics table this often.
        log_fn: where the lines go (default ``print``).

    Returns:
        the loss of the last step (None if no step ran).

    Raises:
        NonFiniteError: a NaN/inf loss or gradient, or non-finite variables when a
            checkpoint is due (the message names the last good checkpoint).
        Interrupted: after saving, on Ctrl-C or SIGTERM (a ``KeyboardInterrupt``).
        LogdirError: the logdir cannot be used (``LogdirBusy``: another trainer holds it).
    """
    if number_of_steps is not None and (int(number_of_steps) != number_of_steps or number_of_steps < 0):
        raise ValueError(f"train: number_of_steps must be an int >= 0 or None, got {number_of_steps!r}")
    # data parallelism (slim.parallel): every process trains, rank 0 alone logs, saves and
    # holds the logdir's lock
    comm = getattr(train_op, "communicator", None)
    if comm is not None and comm.rank != 0:
        return _train_locked(train_op, data, os.fspath(logdir), number_of_steps, log_every_n_steps,
                             save_interval_steps, save_interval_secs, keep_checkpoint_max, init_fn,
                             diagnostics_every_n_steps, _silent)
    logdir = prepare_logdir(logdir)
    with lock_logdir(logdir):
        return _train_locked(train_op, data, logdir, number_of_steps, log_every_n_steps, save_interval_steps,
                             save_interval_secs, keep_checkpoint_max, init_fn, diagnostics_every_n_steps, log_fn)


def _train_locked(train_op, data, logdir, number_of_steps, log_every_n_steps, save_interval_steps,
                  save_interval_secs, keep_checkpoint_max, init_fn, diagnostics_every_n_steps, log_fn):
    """``train`` once the logdir is locked (by rank 0, under data parallelism)."""
    comm = getattr(train_op, "communicator", None)
    worker = comm is not None and comm.rank != 0
    leftovers = remove_temporaries(logdir) if not worker else []
    if leftovers:
        log_fn(f"Removed {len(leftovers)} unfinished temporary checkpoint file(s) left by an interrupted save")
    source = InputPosition(data)
    latest = all_checkpoints(logdir)
    latest = latest[-1][1] if latest else None
    contents = read(latest) if latest else None
    if contents is not None:
        source.restore(contents.extra.get("data"))
    step = contents.global_step if contents is not None else int(train_op.global_step.data)
    loss = contents.extra.get("loss") if contents is not None else None

    state = {"data": source.state(), "rng": None, "loss": loss}
    try:
        batch = source.next()
    except DataExhausted:  # a one-shot iterator used up by the run that wrote the checkpoint
        batch = None
    if contents is not None and batch is not None:
        # build the model on one batch, then give it the checkpoint's values (also when there
        # is nothing left to do: the caller gets the trained model, not fresh weights)
        train_op.build(*batch)
        restore(latest, get_variables(), optimizer=train_op.optimizer)
        if "rng" in contents.extra:
            set_rng_state(contents.extra["rng"])
    if number_of_steps is not None and step >= number_of_steps:
        restored = "; the model holds its values" if contents is not None and batch is not None else ""
        log_fn(f"Global step {step} in {latest or 'the graph'} already reaches number_of_steps={number_of_steps}; "
               f"nothing to do{restored}")
        return loss
    if contents is not None:
        skipped = "; init_fn not called (a checkpoint in the logdir wins)" if init_fn is not None else ""
        log_fn(f"Resumed from {latest} at global step {step}{skipped}")
    elif init_fn is not None:
        train_op.build(*batch)
        init_fn()
        log_fn(f"No checkpoint in {logdir}: warm start with init_fn at step {step}")
    else:
        log_fn(f"No checkpoint in {logdir}: training from scratch at step {step}")
    state["rng"] = get_rng_state()

    saved = {"step": step if contents is not None else None, "time": time.time(), "path": latest}

    def save_now() -> str:
        # The loss and gradients were checked; an update can still overflow (a huge learning
        # rate): a checkpoint is only ever written with finite variables.
        for variable in get_variables():
            if np.issubdtype(variable.dtype, np.floating) and not np.isfinite(variable.data).all():
                raise NonFiniteError(f"step {step}: the update left non-finite values in {variable.name!r} "
                                     "(the loss and gradients were finite)")
        path = checkpoint_path(logdir, step)
        if worker:  # rank 0 writes this checkpoint
            saved.update(step=step, time=time.time(), path=path)
            return path
        with stop.saving():  # a signal now waits: the save is never torn
            try:
                save(path, get_variables(), optimizer=train_op.optimizer, global_step=step,
                     extra={"rng": state["rng"], "data": state["data"], "loss": state["loss"]})
            except OSError as error:
                raise LogdirError(f"cannot save checkpoint {path}: {describe_os_error(error, path)}; the newest "
                                  f"checkpoint is {saved['path'] or 'none'}") from None
        saved.update(step=step, time=time.time(), path=path)
        if keep_checkpoint_max:
            prune_checkpoints(logdir, int(keep_checkpoint_max))
        return path

    stop = StopSignals(log_fn)
    window_start, window_steps, window_examples = time.perf_counter(), 0, 0
    stop.install()
    try:
        while number_of_steps is None or step < number_of_steps:
            if batch is None:
                try:
                    batch = source.next()
                except DataExhausted:
                    log_fn(f"The data is exhausted at step {step}")
                    break
            if diagnostics_every_n_steps and (step + 1) % diagnostics_every_n_steps == 0:
                with Watch(train_op) as watch:
                    loss = train_op(*batch)
                log_fn(f"diagnostics at step {step + 1} (global gradient norm {train_op.last_global_norm:.2e}):\n"
                       + watch.table())
            else:
                loss = train_op(*batch)
            step = int(train_op.global_step.data)
            state.update(data=source.state(), rng=get_rng_state(), loss=loss)
            window_steps += 1
            window_examples += train_op.batch_size or 0
            batch = None
            if log_every_n_steps and step % log_every_n_steps == 0:
                elapsed = time.perf_counter() - window_start
                rate = window_steps / elapsed if elapsed > 0 else float("inf")
                line = f"step {step}" + (f"/{number_of_steps}" if number_of_steps is not None else "")
                line += f"  loss {loss:.4f}  ({rate:.1f} steps/s"
                line += f", {window_examples / elapsed:.0f} examples/s)" if window_examples and elapsed > 0 else ")"
                if number_of_steps is not None and rate > 0:
                    line += f"  time left {_format_seconds((number_of_steps - step) / rate)}"
                log_fn(line)
                window_start, window_steps, window_examples = time.perf_counter(), 0, 0
            if comm is not None and comm.size > 1 and any_rank(comm, stop.signum is not None) \
                    and stop.signum is None:
                stop.signum = signal.SIGINT  # a signal reached another process: all stop after this same step
            stop.check()
            due_steps = save_interval_steps and step % save_interval_steps == 0
            due_time = save_interval_secs is not None and time.time() - saved["time"] >= save_interval_secs
            if due_steps or due_time:
                save_now()
        if saved["step"] != step:
            save_now()
    except NonFiniteError as error:
        good = saved["path"] or "none (no checkpoint was saved yet)"
        raise NonFiniteError(f"{error}. Training stopped; nothing was saved after the last good step, the newest "
                             f"checkpoint is {good}. Try a lower learning rate, gradient clipping "
                             "(create_train_op(..., clip_global_norm=...)), or look for NaN in the inputs.") from None
    except KeyboardInterrupt as error:
        how = "Interrupted" if getattr(error, "signum", signal.SIGINT) == signal.SIGINT else "Terminated (SIGTERM)"
        if train_op.applying:
            log_fn(f"{how} during an update: the variables are half updated, so nothing was saved; "
                   f"the newest checkpoint is {saved['path']}")
        elif saved["step"] != step and step > 0:
            log_fn(f"{how} at step {step}: saved {save_now()}")
        else:
            log_fn(f"{how} at step {step}: the newest checkpoint is {saved['path']}")
        if isinstance(error, Interrupted):
            raise
        raise Interrupted(signal.SIGINT) from None
    finally:
        stop.restore()
    log_fn(f"Finished at step {step}; saved {saved['path']}")
    return loss if loss is None else float(loss)
