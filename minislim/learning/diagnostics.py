"""Training diagnostics: a per-layer text table, to see a vanishing gradient without TensorBoard.

For one training step, :class:`Watch` records

* each layer's **gradient norm** (all its trained variables together);
* the **update/weight ratio** ``||w_after - w_before|| / ||w_before||``: around 1e-3 is
  healthy for SGD; far below (1e-6) the layer barely learns (vanishing gradient or a tiny
  learning rate); far above (1e-1) the step is too large;
* the fraction of **dead ReLUs**: units (last axis: channels, features) whose ReLU output
  is 0 for every example and position of the batch.

A layer is the scope of its variables (``vgg_16/conv1/conv1_1`` for
``vgg_16/conv1/conv1_1/weights``); ReLU outputs are attributed to the variable scope open
when the ReLU ran, which for slim layers is the layer's own scope.

``train(..., diagnostics_every_n_steps=N)`` prints the table every N steps.

>>> import numpy as np
>>> import minislim as slim
>>> from minislim.learning.train_op import create_train_op
>>> def loss_fn(x):
...     with slim.variable_scope("fc"):
...         w = slim.variable("weights", initializer=np.array([[1.0, -1.0]], np.float32))
...         h = slim.nn.relu(x @ w)
...     return h.sum()
>>> step = create_train_op(loss_fn, slim.optimizers.SGD(0.1))
>>> x = np.array([[1.0], [2.0]], np.float32)
>>> _ = step(x)  # the first step creates the variables
>>> with Watch(step) as watch:
...     _ = step(x)
>>> print(watch.table())  # doctest: +NORMALIZE_WHITESPACE
layer  grad norm  update/weight  dead ReLU  note
fc     3.0e+00    2.5e-01        50%        update too large?, many dead ReLUs
"""
from __future__ import annotations

import numpy as np

from minislim.framework.scopes import get_variable_scope
from minislim.ops import activations


def _norm(arrays) -> float:
    return float(np.sqrt(sum(np.sum(np.square(a, dtype=np.float64)) for a in arrays)))


def layer_of(name: str) -> str:
    """The layer (scope) a variable belongs to: its name without the last component."""
    return name.rsplit("/", 1)[0] if "/" in name else name


class Watch:
    """Record the statistics of the steps run inside ``with Watch(train_op):``."""

    def __init__(self, train_op):
        self.train_op = train_op
        self.before: dict = {}
        self.relu: dict = {}  # scope -> [dead units, units]
        self._original = None

    def __enter__(self) -> "Watch":
        self.before = {id(v): v.data.copy() for v in self.train_op.variables()}
        self._original = activations.ReLU.forward
        original, relu = self._original, self.relu

        def recording_forward(function, x):
            y = original(function, x)
            if y.ndim >= 1 and y.size:
                fired = np.any(y.reshape(-1, y.shape[-1]) > 0, axis=0)
                counts = relu.setdefault(get_variable_scope().name, [0, 0])
                counts[0] += int(np.sum(~fired))
                counts[1] += fired.size
            return y

        activations.ReLU.forward = recording_forward
        return self

    def __exit__(self, *exc_info) -> None:
        activations.ReLU.forward = self._original

    def rows(self) -> list:
        """``[(layer, grad norm, update/weight, dead fraction), ...]`` (None where unknown)."""
        layers: dict = {}
        for grad, var in self.train_op.last_grads_and_vars:
            layers.setdefault(layer_of(var.name), []).append((grad, var))
        rows = []
        for layer, pairs in layers.items():
            grads = [g for g, _ in pairs if g is not None]
            grad_norm = _norm(grads) if grads else None
            ratio = None
            if all(id(v) in self.before for _, v in pairs):
                weight = _norm(self.before[id(v)] for _, v in pairs)
                update = _norm(v.data - self.before[id(v)] for _, v in pairs)
                ratio = update / weight if weight > 0 else None
            dead = self.relu.get(layer)
            rows.append((layer, grad_norm, ratio, dead[0] / dead[1] if dead else None))
        for scope, (dead, total) in self.relu.items():
            if scope not in layers:
                rows.append((scope or "(root)", None, None, dead / total))
        return rows

    def table(self) -> str:
        """The rows as an aligned text table with a hint per suspicious layer."""
        def fmt(value, pattern):
            return "-" if value is None else pattern.format(value)

        lines = [("layer", "grad norm", "update/weight", "dead ReLU", "note")]
        for layer, grad_norm, ratio, dead in self.rows():
            notes = []
            if grad_norm == 0:
                notes.append("no gradient")
            if ratio is not None and ratio < 1e-6:
                notes.append("vanishing update?")
            if ratio is not None and ratio > 1e-1:
                notes.append("update too large?")
            if dead is not None and dead >= 0.5:
                notes.append("many dead ReLUs")
            lines.append((layer, fmt(grad_norm, "{:.1e}"), fmt(ratio, "{:.1e}"), fmt(dead, "{:.0%}"),
                          ", ".join(notes)))
        widths = [max(len(row[i]) for row in lines) for i in range(5)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in lines)
