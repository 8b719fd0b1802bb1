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

import contextlib
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


def next_batch(source: InputPosition, step: int, log_fn):
    """The next batch of ``source``, or None (and one line) once a one-shot iterator is used up."""
    try:
        return source.next()
    except DataExhausted:
        log_fn(f"The data is exhausted at step {step}")
        return None


# --- resuming ------------------------------------------------------------------------------

class Start:
    """Where a run starts: what :func:`resume_or_start` found and did before the first step.

    Attributes:
        step: the global step.
        loss: the loss of the step before (a checkpoint's; None otherwise).
        batch: the first batch, already taken from the data (None: the data is used up).
        checkpoint: the checkpoint resumed from (None: a warm start or from scratch).
        extra: what a checkpoint saves besides the variables and the optimizer: the
            framework's random state (``"rng"``), the input position (``"data"``) and the
            ``"loss"``; the loop updates it after every step.
        done: the global step already reaches ``number_of_steps``: no step to run.
    """

    def __init__(self, step: int, loss, batch, checkpoint, extra: dict, done: bool):
        self.step, self.loss, self.batch, self.checkpoint = step, loss, batch, checkpoint
        self.extra, self.done = extra, done


def resume_or_start(train_op, source: InputPosition, logdir: str, number_of_steps, init_fn, log_fn,
                    writes: bool = True) -> Start:
    """Resume from the newest checkpoint in ``logdir``, else warm-start with ``init_fn``, else start
    from scratch, and say which in one line.

    The model is built on the first batch (``train_op.build``) before a checkpoint's or
    ``init_fn``'s values go in. ``writes`` (not a data-parallel worker): first remove the
    temporary files of an interrupted save.
    """
    leftovers = remove_temporaries(logdir) if writes else []
    if leftovers:
        log_fn(f"Removed {len(leftovers)} unfinished temporary checkpoint file(s) left by an interrupted save")
    latest = all_checkpoints(logdir)
    latest = latest[-1][1] if latest else None
    contents = read(latest) if latest else None
    if contents is not None:
        source.restore(contents.extra.get("data"))
    step = contents.global_step if contents is not None else int(train_op.global_step.data)
    loss = contents.extra.get("loss") if contents is not None else None
    extra = {"rng": None, "data": source.state(), "loss": loss}  # the input position before the first batch
    batch = next_batch(source, step, log_fn=_silent)  # None: a one-shot iterator the checkpoint's run used up
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
        return Start(step, loss, batch, latest, extra, done=True)
    if contents is not None:
        skipped = "; init_fn not called (a checkpoint in the logdir wins)" if init_fn is not None else ""
        log_fn(f"Resumed from {latest} at global step {step}{skipped}")
    elif init_fn is not None:
        train_op.build(*batch)
        init_fn()
        log_fn(f"No checkpoint in {logdir}: warm start with init_fn at step {step}")
    else:
        log_fn(f"No checkpoint in {logdir}: training from scratch at step {step}")
    extra["rng"] = get_rng_state()
    return Start(step, loss, batch, latest, extra, done=False)


# --- checkpointing -------------------------------------------------------------------------

def check_finite_variables(step: int) -> None:
    """Raise :class:`NonFiniteError` if a floating-point variable holds NaN or inf.

    The loss and gradients were checked before the update; an update can still overflow (a
    huge learning rate): a checkpoint is only ever written with finite variables.
    """
    for variable in get_variables():
        if np.issubdtype(variable.dtype, np.floating) and not np.isfinite(variable.data).all():
            raise NonFiniteError(f"step {step}: the update left non-finite values in {variable.name!r} "
                                 "(the loss and gradients were finite)")


class Checkpointer:
    """The checkpoints of one ``train`` run: when one is due, the finite check, the save, keeping the newest N.

    ``path`` and ``step`` name the newest checkpoint (at first the one resumed from, or
    None). A data-parallel worker (``writes=False``) checks and keeps count as rank 0 does,
    but writes nothing: rank 0 writes.
    """

    def __init__(self, logdir: str, train_op, stop: StopSignals, start: Start, every_n_steps, every_n_secs,
                 keep_max, writes: bool = True):
        self.logdir, self.train_op, self.stop, self.writes = logdir, train_op, stop, writes
        self.every_n_steps, self.every_n_secs, self.keep_max = every_n_steps, every_n_secs, keep_max
        self.path = start.checkpoint
        self.step = start.step if start.checkpoint is not None else None
        self.time = time.time()

    def due(self, step: int) -> bool:
        """Whether a save is due after ``step`` (every N steps, or N seconds after the last one)."""
        by_steps = self.every_n_steps and step % self.every_n_steps == 0
        by_time = self.every_n_secs is not None and time.time() - self.time >= self.every_n_secs
        return bool(by_steps or by_time)

    def save(self, step: int, extra: dict) -> str:
        """Write ``model.ckpt-<step>.npz`` with ``extra`` and delete all but the newest ``keep_max``.

        Returns the path. Raises :class:`NonFiniteError` (nothing written) if a variable is
        not finite, and :class:`LogdirError` if the file cannot be written.
        """
        check_finite_variables(step)
        path = checkpoint_path(self.logdir, step)
        if not self.writes:  # rank 0 writes this checkpoint
            self.step, self.time, self.path = step, time.time(), path
            return path
        with self.stop.saving():  # a signal now waits: the save is never torn
            try:
                save(path, get_variables(), optimizer=self.train_op.optimizer, global_step=step,
                     extra={"rng": extra["rng"], "data": extra["data"], "loss": extra["loss"]})
            except OSError as error:
                raise LogdirError(f"cannot save checkpoint {path}: {describe_os_error(error, path)}; the newest "
                                  f"checkpoint is {self.path or 'none'}") from None
        self.step, self.time, self.path = step, time.time(), path
        if self.keep_max:
            prune_checkpoints(self.logdir, int(self.keep_max))
        return path

    def stopped(self, error: NonFiniteError) -> NonFiniteError:
        """``error`` with what happened next: training stopped, the newest checkpoint is the last good one."""
        good = self.path or "none (no checkpoint was saved yet)"
        return NonFiniteError(f"{error}. Training stopped; nothing was saved after the last good step, the newest "
                              f"checkpoint is {good}. Try a lower learning rate, gradient clipping "
                              "(create_train_op(..., clip_global_norm=...)), or look for NaN in the inputs.")


# --- one step, the progress line, stopping --------------------------------------------------

def run_step(train_op, batch, step: int, diagnostics_every_n_steps, log_fn) -> float:
    """``train_op(*batch)``; every ``diagnostics_every_n_steps`` steps inside a :class:`Watch`, whose
    per-layer table is printed."""
    if not (diagnostics_every_n_steps and (step + 1) % diagnostics_every_n_steps == 0):
        return train_op(*batch)
    with Watch(train_op) as watch:
        loss = train_op(*batch)
    log_fn(f"diagnostics at step {step + 1} (global gradient norm {train_op.last_global_norm:.2e}):\n"
           + watch.table())
    return loss


class ProgressLine:
    """Every ``every_n_steps`` steps, one line: the step, the loss, steps/s, examples/s, the time left."""

    def __init__(self, number_of_steps, every_n_steps, log_fn):
        self.number_of_steps, self.every_n_steps, self.log_fn = number_of_steps, every_n_steps, log_fn
        self._new_window()

    def _new_window(self) -> None:
        self.start, self.steps, self.examples = time.perf_counter(), 0, 0

    def step_done(self, step: int, loss: float, examples) -> None:
        """Count a step of ``examples`` examples (None: unknown); print the line when it is due."""
        self.steps += 1
        self.examples += examples or 0
        if not self.every_n_steps or step % self.every_n_steps:
            return
        elapsed = time.perf_counter() - self.start
        rate = self.steps / elapsed if elapsed > 0 else float("inf")
        total = self.number_of_steps
        line = f"step {step}" + (f"/{total}" if total is not None else "")
        line += f"  loss {loss:.4f}  ({rate:.1f} steps/s"
        line += f", {self.examples / elapsed:.0f} examples/s)" if self.examples and elapsed > 0 else ")"
        if total is not None and rate > 0:
            line += f"  time left {_format_seconds((total - step) / rate)}"
        self.log_fn(line)
        self._new_window()


def stop_together(comm, stop: StopSignals) -> None:
    """Data parallelism: a signal that reached any process stops them all after this same step."""
    if comm is not None and comm.size > 1 and any_rank(comm, stop.signum is not None) and stop.signum is None:
        stop.signum = signal.SIGINT


def report_interruption(error: KeyboardInterrupt, train_op, checkpoints: Checkpointer, step: int, extra: dict,
                        log_fn) -> None:
    """Ctrl-C or SIGTERM: save unless the update was cut halfway or the newest checkpoint holds
    ``step`` already, and say so in one line."""
    how = "Interrupted" if getattr(error, "signum", signal.SIGINT) == signal.SIGINT else "Terminated (SIGTERM)"
    if train_op.applying:
        log_fn(f"{how} during an update: the variables are half updated, so nothing was saved; "
               f"the newest checkpoint is {checkpoints.path}")
    elif checkpoints.step != step and step > 0:
        log_fn(f"{how} at step {step}: saved {checkpoints.save(step, extra)}")
    else:
        log_fn(f"{how} at step {step}: the newest checkpoint is {checkpoints.path}")


# --- the loop --------------------------------------------------------------------------------

def train(train_op, data, logdir: str, number_of_steps: int | None = None, log_every_n_steps: int = 10,
          save_interval_steps: int | None = None, save_interval_secs: float | None = 600,
          keep_checkpoint_max: int | None = 5, init_fn=None, diagnostics_every_n_steps: int | None = None,
          log_fn=print, after_step=None) -> float | None:
    """Run the training loop (see the module docstring).

    Args:
        train_op: from :func:`~minislim.learning.train_op.create_train_op`; ``train`` uses its
            call, ``build``, ``global_step``, ``optimizer``, ``communicator``, ``batch_size``,
            ``applying`` and ``last_global_norm``.
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
        after_step: the per-step hook: ``after_step(step, loss)`` is called after every
            step with the new global step and the step's loss (a float), before the
            progress line and any checkpoint, in every process of data-parallel training;
            ``train_op.optimizer.last_learning_rate`` is the rate the step used. An
            exception it raises stops training as one from the step would. ``minislim
            train`` appends a record to its training log with it.

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
    worker = comm is not None and comm.rank != 0
    logdir = os.fspath(logdir) if worker else prepare_logdir(logdir)
    with contextlib.nullcontext() if worker else lock_logdir(logdir):
        return _train_loop(train_op, data, logdir, number_of_steps, log_every_n_steps, save_interval_steps,
                           save_interval_secs, keep_checkpoint_max, init_fn, diagnostics_every_n_steps,
                           _silent if worker else log_fn, after_step, comm, worker)


def _train_loop(train_op, data, logdir, number_of_steps, log_every_n_steps, save_interval_steps,
                save_interval_secs, keep_checkpoint_max, init_fn, diagnostics_every_n_steps, log_fn, after_step,
                comm, worker):
    """``train`` once the logdir is locked (by rank 0, under data parallelism): the loop itself."""
    source = InputPosition(data)
    start = resume_or_start(train_op, source, logdir, number_of_steps, init_fn, log_fn, writes=not worker)
    if start.done:
        return start.loss
    step, loss, batch, extra = start.step, start.loss, start.batch, start.extra
    stop = StopSignals(log_fn)
    checkpoints = Checkpointer(logdir, train_op, stop, start, save_interval_steps, save_interval_secs,
                               keep_checkpoint_max, writes=not worker)
    progress = ProgressLine(number_of_steps, log_every_n_steps, log_fn)
    stop.install()
    try:
        while number_of_steps is None or step < number_of_steps:
            batch = batch if batch is not None else next_batch(source, step, log_fn)
            if batch is None:  # a one-shot iterator is used up
                break
            loss = run_step(train_op, batch, step, diagnostics_every_n_steps, log_fn)
            step, batch = int(train_op.global_step.data), None
            extra.update(rng=get_rng_state(), data=source.state(), loss=loss)
            if after_step is not None:
                after_step(step, loss)
            progress.step_done(step, loss, train_op.batch_size)
            stop_together(comm, stop)
            stop.check()  # Ctrl-C or SIGTERM arrived: raises Interrupted
            if checkpoints.due(step):
                checkpoints.save(step, extra)
        if checkpoints.step != step:
            checkpoints.save(step, extra)
    except NonFiniteError as error:
        raise checkpoints.stopped(error) from None
    except KeyboardInterrupt as error:
        report_interruption(error, train_op, checkpoints, step, extra, log_fn)
        if isinstance(error, Interrupted):
            raise
        raise Interrupted(signal.SIGINT) from None
    finally:
        stop.restore()
    log_fn(f"Finished at step {step}; saved {checkpoints.path}")
    return loss if loss is None else float(loss)
