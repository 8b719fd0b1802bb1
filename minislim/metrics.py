"""Streaming metrics (``slim.metrics``): accumulate over batches, read the result at the end.

Each metric has ``update(...)`` (add one batch), ``result()`` (the value over everything
added since the last ``reset()``) and ``reset()``: the eager form of TF-Slim's
``streaming_*`` (value, update_op) pairs. Inputs may be Tensors or ndarrays.

Class predictions may be given as class ids ``[N]`` or as scores/logits ``[N, C]`` with
``C >= 2`` (one axis more than the labels), which are turned into ids with ``argmax``
(ties: the lowest class id, NumPy's rule); any other shape, ``[N, 1]`` included, is a
``ValueError``. Labels are class ids. Class ids are integers; floats are accepted when
they hold integer values (``1.0``), and anything else (``1.5``, ``nan``) is a
``ValueError`` naming the metric and the argument. ``weights`` (broadcast to the labels'
shape) weight each example; a weight of 0 leaves it out.

>>> import numpy as np
>>> acc = Accuracy()
>>> acc.update(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
>>> acc.update(np.array([1]), np.array([1]))
>>> round(acc.result(), 4)
0.6667
>>> names_to_values, names_to_updates = aggregate_metric_map({"accuracy": acc, "mean": Mean()})
>>> names_to_updates["mean"](np.array([1.0, 3.0]))
>>> names_to_values["mean"]()
2.0
"""
from __future__ import annotations

import numpy as np


def _array(value) -> np.ndarray:
    return np.asarray(getattr(value, "data", value))


def _ids(metric: str, argument: str, values: np.ndarray) -> np.ndarray:
    """``values`` as int64 class ids: integers or bools as they are, floats only when integer-valued."""
    if values.dtype.kind in "biu":
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values) | (values != np.round(values))
        if np.any(bad):
            raise ValueError(f"{metric}: {argument} must be class ids (integer values), got "
                             f"{values[bad].ravel()[0].item()!r} at index {tuple(int(i) for i in np.argwhere(bad)[0])}")
        return values.astype(np.int64)
    raise ValueError(f"{metric}: {argument} must be class ids (integer values), got dtype {values.dtype}")


def _class_ids(metric: str, predictions, labels) -> tuple:
    """Class ids ``[N]`` (int64) from predictions given as ids ``[N]`` or scores ``[N, C]``, and labels ``[N]``."""
    predictions, labels = _array(predictions), _array(labels)
    scores_shape = "(" + ", ".join(str(n) for n in labels.shape + ("num_classes",)) + ")"
    expected = f"class ids shaped like labels {labels.shape} or scores {scores_shape} with num_classes >= 2"
    if predictions.ndim == labels.ndim + 1 and predictions.shape[:-1] == labels.shape:
        if predictions.shape[-1] < 2:
            raise ValueError(f"{metric}: predictions must be {expected}, got shape {predictions.shape}: one "
                             "score per example has no argmax to take (for a binary decision pass class ids, "
                             "e.g. (scores[:, 0] > 0).astype(int))")
        predictions = np.argmax(predictions, axis=-1)
    elif predictions.shape != labels.shape:
        raise ValueError(f"{metric}: predictions must be {expected}, got shape {predictions.shape}")
    return _ids(metric, "predictions", predictions), _ids(metric, "labels", labels)


def _weights(metric: str, weights, shape: tuple) -> np.ndarray:
    if weights is None:
        return np.ones(shape, dtype=np.float64)
    weights = _array(weights).astype(np.float64)
    try:
        return np.broadcast_to(weights, shape)
    except ValueError:
        raise ValueError(f"{metric}: weights of shape {weights.shape} do not broadcast to {shape}") from None


class Metric:
    """Base class: ``update`` adds a batch, ``result`` reads, ``reset`` starts over."""

    def __init__(self, name: str):
        self.name = name
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, result={self.result()!r})"


class Mean(Metric):
    """The (weighted) mean of every value passed to ``update(values, weights=None)``."""

    def __init__(self, name: str = "mean"):
        super().__init__(name)

    def reset(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update(self, values, weights=None) -> None:
        values = _array(values).astype(np.float64)
        weights = _weights(self.name, weights, values.shape)
        self.total += float(np.sum(values * weights))
        self.count += float(np.sum(weights))

    def result(self) -> float:
        """The mean so far (0.0 before any value, as in TF)."""
        return self.total / self.count if self.count else 0.0


class Accuracy(Mean):
    """The fraction of predictions equal to the labels: ``update(predictions, labels, weights=None)``."""

    def __init__(self, name: str = "accuracy"):
        super().__init__(name)

    def update(self, predictions, labels, weights=None) -> None:
        predictions, labels = _class_ids(self.name, predictions, labels)
        super().update(predictions == labels, weights)


class TopKAccuracy(Mean):
    """The fraction of examples whose label is among the ``k`` highest scores.

    ``update(predictions [N, C] scores, labels [N] ids, weights=None)``. Ties follow TF's
    ``in_top_k``: a label counts as in the top k when fewer than ``k`` classes score
    strictly higher than it.
    """

    def __init__(self, k: int = 5, name: str | None = None):
        if k < 1:
            raise ValueError(f"TopKAccuracy: k must be >= 1, got {k}")
        self.k = int(k)
        super().__init__(name or f"top_{k}_accuracy")

    def update(self, predictions, labels, weights=None) -> None:
        scores, labels = _array(predictions), _ids(self.name, "labels", _array(labels))
        if scores.ndim != labels.ndim + 1 or scores.shape[:-1] != labels.shape:
            raise ValueError(f"{self.name}: predictions must be scores shaped {labels.shape + ('C',)}, "
                             f"got {scores.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[-1]):
            raise ValueError(f"{self.name}: labels must be in [0, {scores.shape[-1]}), got "
                             f"[{labels.min()}, {labels.max()}]")
        label_scores = np.take_along_axis(scores, labels[..., None], axis=-1)
        higher = np.sum(scores > label_scores, axis=-1)
        super().update(higher < self.k, weights)


class _Counts(Metric):
    """True/false positives and negatives of a binary decision (or of one class)."""

    def __init__(self, name: str, class_id: int | None):
        self.class_id = class_id
        super().__init__(name)

    def reset(self) -> None:
        self.true_positives = self.false_positives = self.false_negatives = 0.0

    def update(self, predictions, labels, weights=None) -> None:
        """Binary: predictions and labels are cast to bool. With ``class_id``: class ids or
        scores, and "positive" means "is class ``class_id``"."""
        if self.class_id is None:
            predictions, labels = _array(predictions).astype(bool), _array(labels).astype(bool)
            if predictions.shape != labels.shape:
                raise ValueError(f"{self.name}: predictions {predictions.shape} and labels {labels.shape} "
                                 "must have the same shape")
        else:
            predictions, labels = _class_ids(self.name, predictions, labels)
            predictions, labels = predictions == self.class_id, labels == self.class_id
        weights = _weights(self.name, weights, labels.shape)
        self.true_positives += float(np.sum(weights * (predictions & labels)))
        self.false_positives += float(np.sum(weights * (predictions & ~labels)))
        self.false_negatives += float(np.sum(weights * (~predictions & labels)))


class Precision(_Counts):
    """``true positives / (true positives + false positives)`` (0.0 when nothing was predicted positive).

    ``update(predictions, labels, weights=None)``; see ``class_id`` for multi-class use.
    """

    def __init__(self, class_id: int | None = None, name: str = "precision"):
        super().__init__(name, class_id)

    def result(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 0.0


class Recall(_Counts):
    """``true positives / (true positives + false negatives)`` (0.0 when no label was positive)."""

    def __init__(self, class_id: int | None = None, name: str = "recall"):
        super().__init__(name, class_id)

    def result(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 0.0


class ConfusionMatrix(Metric):
    """Counts ``[num_classes, num_classes]``: row = label, column = prediction (TF's layout).

    ``update(predictions, labels, weights=None)``; ``result()`` returns a copy (int64
    without weights, float64 with them).
    """

    def __init__(self, num_classes: int, name: str = "confusion_matrix"):
        if num_classes < 1:
            raise ValueError(f"ConfusionMatrix: num_classes must be >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        super().__init__(name)

    def reset(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, predictions, labels, weights=None) -> None:
        predictions, labels = _class_ids(self.name, predictions, labels)
        for what, ids in (("predictions", predictions), ("labels", labels)):
            if ids.size and (ids.min() < 0 or ids.max() >= self.num_classes):
                raise ValueError(f"{self.name}: {what} must be class ids in [0, {self.num_classes}), got "
                                 f"values in [{ids.min()}, {ids.max()}]")
        if weights is not None:
            weights = _weights(self.name, weights, labels.shape)
            self.matrix = self.matrix.astype(np.float64)
            np.add.at(self.matrix, (labels.ravel(), predictions.ravel()), weights.ravel())
        else:
            np.add.at(self.matrix, (labels.ravel(), predictions.ravel()), 1)

    def result(self) -> np.ndarray:
        return self.matrix.copy()

    def __repr__(self) -> str:
        return f"ConfusionMatrix(num_classes={self.num_classes}, name={self.name!r})"


def aggregate_metric_map(names_to_metrics: dict) -> tuple:
    """Split ``{name: metric}`` into ``(names_to_values, names_to_updates)``, as TF-Slim does.

    ``names_to_values[name]()`` reads a result and ``names_to_updates[name](...)`` adds a
    batch. A value may also be a ``(value_fn, update_fn)`` pair, passed through.
    """
    names_to_values, names_to_updates = {}, {}
    for name, metric in names_to_metrics.items():
        if isinstance(metric, tuple) and len(metric) == 2:
            names_to_values[name], names_to_updates[name] = metric
        elif isinstance(metric, Metric):
            names_to_values[name], names_to_updates[name] = metric.result, metric.update
        else:
            raise TypeError(f"aggregate_metric_map: {name!r} must be a Metric or a (value_fn, update_fn) pair, "
                            f"got {type(metric).__name__}")
    return names_to_values, names_to_updates
