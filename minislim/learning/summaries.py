"""Summaries (``slim.summaries``) as JSON lines in the log directory, without TensorBoard.

``add_scalar_summary(tensor, name)`` and its relatives take the value now (eager) and put
a :class:`Summary` in the ``SUMMARIES`` collection (emptied at the start of each template
call, so a training step sees its own); :func:`write_summaries` appends them to
``<logdir>/summaries.jsonl``, one JSON object per line (``{"step", "name", "kind", ...}``),
and :func:`read_summaries` reads them back. Names follow TF-Slim: ``name`` or the tensor's
name, ``prefix/`` before it; the zero fraction's is ``<name>/Fraction_of_Zero_Values``.
Histograms keep counts over 30 bins and the min/max/mean/std; images keep their shape and
value range only (the pixels are not written).

>>> import tempfile
>>> import minislim as slim
>>> _ = slim.summaries.add_scalar_summary(slim.tensor(0.25), name="loss")
>>> _ = slim.summaries.add_zero_fraction_summary(slim.tensor([0.0, 1.0, 0.0, 2.0]), name="relu", prefix="fc")
>>> logdir = tempfile.mkdtemp()
>>> slim.summaries.write_summaries(logdir, global_step=7)
2
>>> [(s["step"], s["name"], s["value"]) for s in slim.summaries.read_summaries(logdir)]
[(7, 'loss', 0.25), (7, 'fc/relu/Fraction_of_Zero_Values', 0.5)]
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

import numpy as np

from minislim.framework.collections import GraphKeys, add_to_collection, get_collection, get_collection_ref

SUMMARIES_FILE = "summaries.jsonl"


@dataclass
class Summary:
    """One summary: ``kind`` is ``scalar``, ``histogram`` or ``image``; ``value`` a float for
    scalars; ``data`` the histogram's or image's description."""

    name: str
    kind: str
    value: float | None = None
    data: dict = field(default_factory=dict)

    def to_json(self, step) -> dict:
        record = {"step": None if step is None else int(step), "name": self.name, "kind": self.kind}
        if self.kind == "scalar":
            record["value"] = self.value if math.isfinite(self.value) else None
        record.update(self.data)
        return record


def _array(tensor) -> np.ndarray:
    return np.asarray(getattr(tensor, "data", tensor))


def _summary_name(tensor, name=None, prefix=None, postfix=None) -> str:
    if not name:
        name = getattr(tensor, "name", None)
        if not name:
            raise ValueError("summaries: give a name (this tensor has none)")
    if prefix:
        name = f"{prefix}/{name}"
    if postfix:
        name = f"{name}/{postfix}"
    return name


def add_scalar_summary(tensor, name=None, prefix=None, print_summary: bool = False) -> Summary:
    """Record the scalar ``tensor``'s value now; ``print_summary`` also prints it.

    Raises:
        ValueError: ``tensor`` holds more than one value; no name.
    """
    values = _array(tensor)
    if values.size != 1:
        raise ValueError(f"add_scalar_summary: {name or getattr(tensor, 'name', 'tensor')!r} must be a scalar, got "
                         f"shape {values.shape}")
    summary = Summary(_summary_name(tensor, name, prefix), "scalar", float(values.reshape(())))
    if print_summary:
        print(f"{summary.name}: {summary.value}")
    add_to_collection(GraphKeys.SUMMARIES, summary)
    return summary


def add_histogram_summary(tensor, name=None, prefix=None) -> Summary:
    """Record the distribution of ``tensor``'s values (30 bins, min, max, mean, std)."""
    values = _array(tensor).astype(np.float64).ravel()
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite, bins=30) if finite.size else (np.zeros(0), np.zeros(0))
    data = {"count": int(values.size), "min": float(finite.min()) if finite.size else None,
            "max": float(finite.max()) if finite.size else None,
            "mean": float(finite.mean()) if finite.size else None, "std": float(finite.std()) if finite.size else None,
            "bucket_edges": edges.tolist(), "bucket_counts": counts.astype(int).tolist()}
    summary = Summary(_summary_name(tensor, name, prefix), "histogram", data=data)
    add_to_collection(GraphKeys.SUMMARIES, summary)
    return summary


def add_image_summary(tensor, name=None, prefix=None, print_summary: bool = False) -> Summary:
    """Record an image batch ``[N, H, W, C]``'s shape and value range (not its pixels).

    Raises:
        ValueError: ``tensor`` is not of rank 4.
    """
    values = _array(tensor)
    if values.ndim != 4:
        raise ValueError(f"add_image_summary: images must be [N, H, W, C], got shape {values.shape}")
    summary = Summary(_summary_name(tensor, name, prefix), "image",
                      data={"shape": list(values.shape), "min": float(values.min()), "max": float(values.max())})
    if print_summary:
        print(f"{summary.name}: {summary.data}")
    add_to_collection(GraphKeys.SUMMARIES, summary)
    return summary


def add_zero_fraction_summary(tensor, name=None, prefix=None, print_summary: bool = False) -> Summary:
    """Record the fraction of ``tensor``'s values that are 0 (``<name>/Fraction_of_Zero_Values``)."""
    values = _array(tensor)
    fraction = float(np.count_nonzero(values == 0)) / max(values.size, 1)
    name = _summary_name(tensor, name, prefix, "Fraction_of_Zero_Values")
    return add_scalar_summary(fraction, name, print_summary=print_summary)


def add_scalar_summaries(tensors, prefix=None, print_summary: bool = False) -> list:
    """:func:`add_scalar_summary` for each tensor (named after it)."""
    return [add_scalar_summary(t, prefix=prefix, print_summary=print_summary) for t in tensors]


def add_histogram_summaries(tensors, prefix=None) -> list:
    """:func:`add_histogram_summary` for each tensor."""
    return [add_histogram_summary(t, prefix=prefix) for t in tensors]


def add_image_summaries(tensors, prefix=None) -> list:
    """:func:`add_image_summary` for each tensor."""
    return [add_image_summary(t, prefix=prefix) for t in tensors]


def add_zero_fraction_summaries(tensors, prefix=None) -> list:
    """:func:`add_zero_fraction_summary` for each tensor."""
    return [add_zero_fraction_summary(t, prefix=prefix) for t in tensors]


def write_summaries(logdir: str, global_step=None, summaries=None) -> int:
    """Append ``summaries`` (default: the SUMMARIES collection) to ``<logdir>/summaries.jsonl``.

    The summaries written are taken out of the SUMMARIES collection (a flush): each value
    is written once, as TF writes each run of its summary ops once.

    Returns:
        How many lines were written.
    """
    items = get_collection(GraphKeys.SUMMARIES) if summaries is None else list(summaries)
    written = {id(s) for s in items}
    collection = get_collection_ref(GraphKeys.SUMMARIES)
    collection[:] = [s for s in collection if id(s) not in written]
    step = None if global_step is None else int(_array(global_step))
    items = [s for s in items if isinstance(s, Summary)]
    os.makedirs(logdir, exist_ok=True)
    with open(os.path.join(logdir, SUMMARIES_FILE), "a", encoding="utf-8") as f:
        for summary in items:
            f.write(json.dumps(summary.to_json(step), allow_nan=False) + "\n")
    return len(items)


def read_summaries(logdir: str, name: str | None = None) -> list:
    """The records of ``<logdir>/summaries.jsonl`` (only those called ``name`` if given)."""
    path = os.path.join(logdir, SUMMARIES_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if name is None or r["name"] == name]


def add_gradients_summaries(grads_and_vars) -> list:
    """For each ``(gradient, variable)`` with a gradient: a histogram ``<var>/gradient`` and the
    scalar ``<var>/gradient_norm`` (TF-Slim's ``learning.add_gradients_summaries``)."""
    added = []
    for grad, var in grads_and_vars:
        if grad is not None:
            values = _array(grad)
            added.append(add_histogram_summary(values, f"{var.name}/gradient"))
            added.append(add_scalar_summary(float(np.sqrt(np.sum(np.square(values, dtype=np.float64)))),
                                            f"{var.name}/gradient_norm"))
    return added
