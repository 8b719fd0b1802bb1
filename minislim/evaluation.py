"""Evaluation (``slim.evaluation``): run metrics over data with the weights of a checkpoint.

``evaluate_once(checkpoint_path, eval_fn, data, metrics)``:

1. runs ``eval_fn(*batch)`` on the first batch to create the model's variables, in a
   graph of its own (as TF-Slim evaluates in a graph and session of its own: a model
   training in the default graph keeps its values); the function runs inside a root
   template, like ``create_train_op``'s, so its variables have the same names as in
   training (a template passed in is used as it is, in its own graph);
2. restores them from the checkpoint (every model variable must be there; entries the
   model does not use, such as optimizer slots, are ignored);
3. resets the metrics and, for every batch of one pass over ``data``, calls
   ``eval_fn(*batch)``, which returns ``{metric name: update arguments}``, and updates
   each metric with them (a tuple is unpacked: ``metric.update(*args)``);
4. returns ``{metric name: result, ..., "global_step": step of the checkpoint}``.

Gradients are off throughout (``no_grad``). ``evaluation_loop`` does the same for every
new checkpoint that appears in a directory, as TF-Slim's does while training runs.

>>> import tempfile
>>> import numpy as np
>>> import minislim as slim
>>> def model(x):
...     w = slim.variable("w", shape=[2, 2], initializer=slim.zeros_initializer())
...     return x @ w
>>> logdir = tempfile.mkdtemp()
>>> with slim.Graph().as_default():               # "training" wrote a checkpoint
...     t = slim.learning.model_template(model)
...     _ = t(slim.tensor(np.ones((1, 2), np.float32)))
...     slim.get_variables()[0].assign(np.eye(2))
...     _ = slim.checkpoint.save(slim.checkpoint.checkpoint_path(logdir, 5), slim.get_variables(), global_step=5)
<Variable 'w' shape=(2, 2) dtype=float32>
>>> x, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], np.float32), np.array([0, 1, 1])
>>> def eval_fn(x, y):
...     return {"accuracy": (model(x), y)}
>>> evaluate_once(logdir, eval_fn, [(x, y)], {"accuracy": slim.metrics.Accuracy()}, log_fn=None)
{'accuracy': 0.6666666666666666, 'global_step': 5}
"""
from __future__ import annotations

import itertools
import time

from minislim.autograd.grad_mode import no_grad
from minislim.checkpoint.saving import latest_checkpoint, resolve_path, restore
from minislim.framework.graph import Graph, get_default_graph
from minislim.framework.template import Template
from minislim.framework.variables import get_variables
from minislim.learning.templates import model_template
from minislim.metrics import aggregate_metric_map


def _as_batch(batch) -> tuple:
    return tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)


def evaluate_once(checkpoint_path: str, eval_fn, data, metrics: dict, log_fn=print) -> dict:
    """Evaluate the checkpoint once over one pass of ``data`` (see the module docstring).

    Args:
        checkpoint_path: a checkpoint file, or a directory (its newest checkpoint).
        eval_fn: ``eval_fn(*batch) -> {metric name: update args}``; builds the model
            (e.g. with ``is_training=False``).
        data: an iterable of batch tuples (one pass is made).
        metrics: ``{name: metric}`` (see :mod:`minislim.metrics`), or ``(value_fn,
            update_fn)`` pairs.
        log_fn: prints a one-line summary (None: quiet).

    Returns:
        ``{name: result, ..., "global_step": int or None}``.

    Raises:
        ValueError: ``data`` is empty, or ``eval_fn`` did not return every metric.
        CheckpointError: the checkpoint lacks a model variable or does not fit it.
    """
    path = resolve_path(checkpoint_path)
    if isinstance(eval_fn, Template):  # a template is used as it is, in its own graph
        return _evaluate(path, eval_fn, data, metrics, log_fn)
    # A graph of its own (TF-Slim evaluates in a graph and session of its own): restoring the
    # checkpoint must not overwrite a model that is training in the default graph.
    with Graph(dtype=get_default_graph().dtype).as_default():
        return _evaluate(path, model_template(eval_fn), data, metrics, log_fn)


def _evaluate(path: str, template, data, metrics: dict, log_fn) -> dict:
    names_to_values, names_to_updates = aggregate_metric_map(metrics)
    batches = iter(data)
    try:
        first = _as_batch(next(batches))
    except StopIteration:
        raise ValueError("evaluate_once: data yielded no batch") from None
    with no_grad():
        template(*first)  # creates the variables (if this is the first call)
        result = restore(path, get_variables(), strict=False)
        for name, metric in metrics.items():
            if hasattr(metric, "reset"):
                metric.reset()
        count = 0
        for batch in itertools.chain([first], batches):
            outputs = template(*_as_batch(batch))
            if not isinstance(outputs, dict):
                raise TypeError(f"evaluate_once: eval_fn must return a dict {{metric name: update arguments}}, "
                                f"got {type(outputs).__name__}")
            missing = [name for name in names_to_updates if name not in outputs]
            if missing:
                raise ValueError(f"evaluate_once: eval_fn returned nothing for metrics {missing} "
                                 f"(it returned {sorted(outputs)})")
            for name, update in names_to_updates.items():
                args = outputs[name]
                update(*args) if isinstance(args, tuple) else update(args)
            count += 1
    values = {name: value() for name, value in names_to_values.items()}
    values["global_step"] = result.global_step
    if log_fn is not None:
        shown = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items()
                          if k != "global_step" and not hasattr(v, "shape"))
        log_fn(f"Evaluated {path} (global step {result.global_step}) on {count} batches: {shown}")
    return values


def evaluation_loop(checkpoint_dir: str, eval_fn, data, metrics: dict, eval_interval_secs: float = 60,
                    timeout: float | None = None, max_number_of_evaluations: int | None = None,
                    log_fn=print) -> list:
    """Evaluate every new checkpoint that appears in ``checkpoint_dir``.

    Polls the directory every ``eval_interval_secs`` seconds and evaluates the newest
    checkpoint whenever it changes (checkpoints written in between are skipped, as in
    TF-Slim).

    Args:
        checkpoint_dir: the training logdir.
        eval_fn, data, metrics, log_fn: as for :func:`evaluate_once` (``data`` must be
            re-iterable: one pass per evaluation).
        eval_interval_secs: seconds between two looks at the directory.
        timeout: stop after this many seconds without a new checkpoint (None: never).
        max_number_of_evaluations: stop after this many evaluations (None: no limit).

    Returns:
        the list of results, one dict per evaluation, oldest first.
    """
    results, last_path = [], None
    last_new = time.monotonic()
    while max_number_of_evaluations is None or len(results) < max_number_of_evaluations:
        path = latest_checkpoint(checkpoint_dir)
        if path is not None and path != last_path:
            results.append(evaluate_once(path, eval_fn, data, metrics, log_fn=log_fn))
            last_path, last_new = path, time.monotonic()
            continue
        if timeout is not None and time.monotonic() - last_new >= timeout:
            if log_fn is not None:
                log_fn(f"No new checkpoint in {checkpoint_dir} for {timeout} s: evaluation loop stops")
            break
        time.sleep(eval_interval_secs)
    return results
