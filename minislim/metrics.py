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

from minislim.framework.collections import add_to_collections


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


# --- more of TF-Slim's streaming metrics (issue #19), with TF 1's semantics ---------------------
# Each is a Metric class; ``streaming_<name>(...)`` returns TF-Slim's pair ``(value, update)``
# as functions ``(metric.result, metric.update)`` (what aggregate_metric_map accepts), after
# adding the batch it is given, if any (predictions/labels/values left None: an empty metric).

def _pair_shapes(metric: str, predictions, labels) -> tuple:
    predictions, labels = _array(predictions).astype(np.float64), _array(labels).astype(np.float64)
    if predictions.shape != labels.shape:
        raise ValueError(f"{metric}: predictions {predictions.shape} and labels {labels.shape} must have the "
                         "same shape")
    return predictions, labels


class MeanAbsoluteError(Mean):
    """The weighted mean of ``|predictions - labels|``: ``update(predictions, labels, weights=None)``."""

    def __init__(self, name: str = "mean_absolute_error"):
        super().__init__(name)

    def update(self, predictions, labels, weights=None) -> None:
        predictions, labels = _pair_shapes(self.name, predictions, labels)
        super().update(np.abs(predictions - labels), weights)


class MeanSquaredError(Mean):
    """The weighted mean of ``(predictions - labels) ** 2``."""

    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(name)

    def update(self, predictions, labels, weights=None) -> None:
        predictions, labels = _pair_shapes(self.name, predictions, labels)
        super().update(np.square(predictions - labels), weights)


class RootMeanSquaredError(MeanSquaredError):
    """``sqrt`` of :class:`MeanSquaredError`."""

    def __init__(self, name: str = "root_mean_squared_error"):
        super().__init__(name)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class PercentageLess(Mean):
    """The weighted fraction of ``values`` below ``threshold``: ``update(values, weights=None)``."""

    def __init__(self, threshold: float, name: str = "percentage_below_threshold"):
        self.threshold = float(threshold)
        super().__init__(name)

    def update(self, values, weights=None) -> None:
        super().update(_array(values) < self.threshold, weights)


class _Count(Metric):
    """A weighted count of one cell of the binary confusion matrix (predictions and labels
    cast to bool: nonzero is positive, as TF's streaming_true_positives does)."""

    cell = ""

    def reset(self) -> None:
        self.count = 0.0

    def update(self, predictions, labels, weights=None) -> None:
        predictions, labels = _array(predictions).astype(bool), _array(labels).astype(bool)
        if predictions.shape != labels.shape:
            raise ValueError(f"{self.name}: predictions {predictions.shape} and labels {labels.shape} must have "
                             "the same shape")
        wanted_prediction, wanted_label = {"tp": (True, True), "fp": (True, False), "tn": (False, False),
                                           "fn": (False, True)}[self.cell]
        hit = (predictions == wanted_prediction) & (labels == wanted_label)
        self.count += float(np.sum(_weights(self.name, weights, labels.shape) * hit))

    def result(self) -> float:
        return self.count


class TruePositives(_Count):
    """Weighted count of predictions and labels both positive."""
    cell = "tp"

    def __init__(self, name: str = "true_positives"):
        super().__init__(name)


class FalsePositives(_Count):
    """Weighted count of positive predictions of negative labels."""
    cell = "fp"

    def __init__(self, name: str = "false_positives"):
        super().__init__(name)


class TrueNegatives(_Count):
    """Weighted count of predictions and labels both negative."""
    cell = "tn"

    def __init__(self, name: str = "true_negatives"):
        super().__init__(name)


class FalseNegatives(_Count):
    """Weighted count of negative predictions of positive labels."""
    cell = "fn"

    def __init__(self, name: str = "false_negatives"):
        super().__init__(name)


class AUC(Metric):
    """Area under the ROC or precision-recall curve at fixed thresholds (TF 1's ``metrics.auc``).

    ``update(predictions, labels, weights=None)``: predictions are probabilities in [0, 1],
    labels are 0/1 (cast to bool). Counts are kept at ``num_thresholds`` thresholds
    ``-1e-7, 1/(n-1), 2/(n-1), ..., 1 + 1e-7``; a prediction is positive when it is
    *greater* than the threshold. With ``eps = 1e-6``, recall ``(tp + eps) / (tp + fn +
    eps)``, false positive rate ``fp / (fp + tn + eps)``, precision ``(tp + eps) / (tp +
    fp + eps)``; the area is a Riemann sum over the thresholds: ``trapezoidal`` (mean of
    the two ends), ``minoring`` (their minimum) or ``majoring`` (maximum), or for PR
    ``careful_interpolation`` (TF's interpolation of precision between thresholds).

    Raises:
        ValueError: ``curve`` not ROC/PR; ``num_thresholds`` < 2; an unknown
            ``summation_method``; predictions outside [0, 1].
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "trapezoidal",
                 name: str = "auc"):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
        if summation_method not in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
            raise ValueError(f"Invalid summation_method: {summation_method} summation_method should be "
                             "'trapezoidal', 'careful_interpolation', 'minoring', or 'majoring'.")
        if int(num_thresholds) < 2:
            raise ValueError(f"{name}: num_thresholds must be >= 2, got {num_thresholds}")
        self.num_thresholds, self.curve, self.summation_method = int(num_thresholds), curve, summation_method
        inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
        self.thresholds = np.array([0.0 - 1e-7] + inner + [1.0 + 1e-7])
        super().__init__(name)

    def reset(self) -> None:
        self.tp, self.fn, self.tn, self.fp = (np.zeros(self.num_thresholds) for _ in range(4))

    def update(self, predictions, labels, weights=None) -> None:
        predictions = _array(predictions).astype(np.float64)
        labels = _array(labels).astype(bool)
        if predictions.shape != labels.shape:
            raise ValueError(f"{self.name}: predictions {predictions.shape} and labels {labels.shape} must have the "
                             "same shape")
        if predictions.size and (predictions.min() < 0 or predictions.max() > 1):
            raise ValueError(f"{self.name}: predictions must be in [0, 1], got values in [{predictions.min()}, "
                             f"{predictions.max()}]")
        w = _weights(self.name, weights, labels.shape).ravel()
        positive = predictions.ravel()[None, :] > self.thresholds[:, None]  # [T, M]
        label = labels.ravel()[None, :]
        self.tp += np.sum(w * (positive & label), axis=1)
        self.fn += np.sum(w * (~positive & label), axis=1)
        self.tn += np.sum(w * (~positive & ~label), axis=1)
        self.fp += np.sum(w * (positive & ~label), axis=1)

    def _interpolate_pr_auc(self) -> float:
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = np.maximum(p[:-1] - p[1:], 0)
        slope = np.divide(dtp, dp, out=np.zeros_like(dtp), where=dp != 0)
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.ones_like(dtp)
        ratio[both] = p[:-1][both] / np.maximum(p[1:][both], 0)
        total = np.maximum(tp[1:] + fn[1:], 0)
        increment = slope * (dtp + intercept * np.log(ratio))
        return float(np.sum(np.divide(increment, total, out=np.zeros_like(dtp), where=total != 0)))

    def result(self) -> float:
        if self.curve == "PR" and self.summation_method == "careful_interpolation":
            return self._interpolate_pr_auc()
        eps = 1e-6
        recall = (self.tp + eps) / (self.tp + self.fn + eps)
        if self.curve == "ROC":
            x, y = self.fp / (self.fp + self.tn + eps), recall
        else:
            x, y = recall, (self.tp + eps) / (self.tp + self.fp + eps)
        heights = {"trapezoidal": (y[:-1] + y[1:]) / 2.0, "careful_interpolation": (y[:-1] + y[1:]) / 2.0,
                   "minoring": np.minimum(y[:-1], y[1:]), "majoring": np.maximum(y[:-1], y[1:])}
        return float(np.sum((x[:-1] - x[1:]) * heights[self.summation_method]))


class MeanIoU(ConfusionMatrix):
    """The mean over classes of ``intersection / union`` (TF's ``mean_iou``).

    For class c: ``cm[c, c] / (row_sum[c] + col_sum[c] - cm[c, c])`` of the (weighted)
    confusion matrix; classes never seen (denominator 0) are left out of the mean; 0.0
    when none was seen.
    """

    def __init__(self, num_classes: int, name: str = "mean_iou"):
        super().__init__(num_classes, name)

    def result(self) -> float:
        cm = self.matrix.astype(np.float64)
        diagonal = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - diagonal
        valid = denominator != 0
        if not np.any(valid):
            return 0.0
        return float(np.sum(diagonal[valid] / denominator[valid]) / np.count_nonzero(valid))

    def __repr__(self) -> str:
        return f"MeanIoU(num_classes={self.num_classes}, name={self.name!r})"


class SparsePrecisionAtK(Metric):
    """Precision of the top ``k`` predicted classes against sparse labels (TF's ``precision_at_k``).

    ``update(predictions [N, C] scores, labels [N] or [N, L] class ids, weights=None)``: of
    each example's ``k`` best-scored classes, those in its labels are true positives, the
    others false positives; ``result() = tp / (tp + fp)`` (NaN before any prediction, as
    in TF). With ``class_id``, only predictions of that class count. Weights are per
    example.
    """

    def __init__(self, k: int, class_id: int | None = None, name: str | None = None):
        if int(k) < 1:
            raise ValueError(f"SparsePrecisionAtK: k must be >= 1, got {k}")
        self.k, self.class_id = int(k), class_id
        super().__init__(name or (f"precision_at_{k}" if class_id is None else f"precision_at_{k}_class{class_id}"))

    def reset(self) -> None:
        self.true_positives = self.false_positives = 0.0

    def update(self, predictions, labels, weights=None) -> None:
        scores, labels = _array(predictions), _ids(self.name, "labels", _array(labels))
        if labels.ndim == scores.ndim - 1:
            labels = labels[..., None]
        if scores.ndim != 2 or labels.shape[0] != scores.shape[0]:
            raise ValueError(f"{self.name}: predictions must be [N, C] scores and labels [N] or [N, L] ids, got "
                             f"{scores.shape} and {labels.shape}")
        top = np.argsort(-scores, axis=-1, kind="stable")[:, :self.k]  # [N, k]
        hits = (top[:, :, None] == labels[:, None, :]).any(axis=-1)  # [N, k]
        w = _weights(self.name, None if weights is None else _array(weights).reshape(-1), (scores.shape[0],))
        if self.class_id is not None:
            chosen = top == self.class_id
            hits, misses = hits & chosen, ~hits & chosen
        else:
            misses = ~hits
        self.true_positives += float(np.sum(w[:, None] * hits))
        self.false_positives += float(np.sum(w[:, None] * misses))

    def result(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else float("nan")


def _streaming(metric: Metric, *batch, weights=None, metrics_collections=None,
               updates_collections=None) -> tuple:
    """``(value, update)`` of ``metric``, after the batch given (if any).

    As TF-Slim's ``streaming_*`` add their value tensor to each of ``metrics_collections``
    and their update op to each of ``updates_collections``, the value function and the
    update function are added to those collections of the default graph.
    """
    if batch and all(b is not None for b in batch):
        metric.update(*batch, weights=weights)
    for collections, item in ((metrics_collections, metric.result), (updates_collections, metric.update)):
        if collections:
            add_to_collections([collections] if isinstance(collections, str) else list(collections), item)
    return metric.result, metric.update


def streaming_mean_absolute_error(predictions=None, labels=None, weights=None,
                                  metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`MeanAbsoluteError` (after the given batch, if any)."""
    return _streaming(MeanAbsoluteError(name or "mean_absolute_error"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_mean_squared_error(predictions=None, labels=None, weights=None,
                                 metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`MeanSquaredError`."""
    return _streaming(MeanSquaredError(name or "mean_squared_error"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_root_mean_squared_error(predictions=None, labels=None, weights=None,
                                      metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`RootMeanSquaredError`."""
    return _streaming(RootMeanSquaredError(name or "root_mean_squared_error"), predictions, labels,
                      weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_percentage_less(values=None, threshold=None, weights=None,
                              metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`PercentageLess` (``threshold`` is required)."""
    if threshold is None:
        raise ValueError("streaming_percentage_less: threshold must be given")
    return _streaming(PercentageLess(threshold, name or "percentage_below_threshold"), values,
                      weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_true_positives(predictions=None, labels=None, weights=None,
                             metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`TruePositives`."""
    return _streaming(TruePositives(name or "true_positives"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_false_positives(predictions=None, labels=None, weights=None,
                              metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`FalsePositives`."""
    return _streaming(FalsePositives(name or "false_positives"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_true_negatives(predictions=None, labels=None, weights=None,
                             metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`TrueNegatives`."""
    return _streaming(TrueNegatives(name or "true_negatives"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_false_negatives(predictions=None, labels=None, weights=None,
                              metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`FalseNegatives`."""
    return _streaming(FalseNegatives(name or "false_negatives"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_auc(predictions=None, labels=None, weights=None, num_thresholds: int = 200,
                  metrics_collections=None, updates_collections=None, curve: str = "ROC", name=None,
                  summation_method: str = "trapezoidal") -> tuple:
    """``(value, update)`` of :class:`AUC`."""
    return _streaming(AUC(num_thresholds, curve, summation_method, name or "auc"), predictions, labels,
                      weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_mean_iou(predictions=None, labels=None, num_classes=None, weights=None,
                       metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`MeanIoU` (``num_classes`` is required)."""
    if num_classes is None:
        raise ValueError("streaming_mean_iou: num_classes must be given")
    return _streaming(MeanIoU(num_classes, name or "mean_iou"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_recall_at_k(predictions=None, labels=None, k=None, weights=None,
                          metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`TopKAccuracy` (TF-Slim's ``recall_at_k`` is ``in_top_k``'s mean)."""
    if k is None:
        raise ValueError("streaming_recall_at_k: k must be given")
    return _streaming(TopKAccuracy(k, name or f"recall_at_{k}"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_sparse_precision_at_k(predictions=None, labels=None, k=None, class_id=None, weights=None,
                                    metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`SparsePrecisionAtK`."""
    if k is None:
        raise ValueError("streaming_sparse_precision_at_k: k must be given")
    return _streaming(SparsePrecisionAtK(k, class_id, name), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_mean(values=None, weights=None,
                   metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`Mean`."""
    return _streaming(Mean(name or "mean"), values, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_accuracy(predictions=None, labels=None, weights=None,
                       metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`Accuracy` (class ids; scores ``[N, C]`` are argmax-ed)."""
    return _streaming(Accuracy(name or "accuracy"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_precision(predictions=None, labels=None, weights=None,
                        metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`Precision` (binary: cast to bool)."""
    return _streaming(Precision(name=name or "precision"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)


def streaming_recall(predictions=None, labels=None, weights=None,
                     metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """``(value, update)`` of :class:`Recall` (binary: cast to bool)."""
    return _streaming(Recall(name=name or "recall"), predictions, labels, weights=weights,
                      metrics_collections=metrics_collections, updates_collections=updates_collections)
