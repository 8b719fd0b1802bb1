"""Streaming metrics against direct NumPy computations over all batches at once."""
import numpy as np
import pytest

import minislim as slim
from minislim.metrics import (Accuracy, ConfusionMatrix, Mean, Precision, Recall, TopKAccuracy,
                              aggregate_metric_map)


def batches_of(*arrays, size=4):
    n = len(arrays[0])
    return [tuple(a[i:i + size] for a in arrays) for i in range(0, n, size)]


def test_accuracy_over_batches_equals_accuracy_of_everything(rng):
    scores, labels = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)
    acc = Accuracy()
    for s, y in batches_of(scores, labels):
        acc.update(slim.tensor(s), y)  # Tensors and ndarrays alike
    assert acc.result() == pytest.approx(np.mean(scores.argmax(1) == labels))
    acc.reset()
    assert acc.result() == 0.0


def test_weighted_accuracy_and_mean_ignore_zero_weights():
    acc = Accuracy()
    acc.update(np.array([1, 0, 1, 1]), np.array([1, 1, 0, 1]), weights=np.array([1.0, 0.0, 2.0, 1.0]))
    assert acc.result() == pytest.approx(2.0 / 4.0)
    mean = Mean()
    mean.update(np.array([1.0, 100.0, 3.0]), weights=np.array([1.0, 0.0, 1.0]))
    mean.update(np.array([5.0]))
    assert mean.result() == pytest.approx(3.0)


def test_top_k_accuracy_counts_ties_in_favour_like_tf_in_top_k():
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.3], [0.9, 0.05, 0.05]])
    top1 = TopKAccuracy(k=1)
    top1.update(scores, np.array([2, 1, 0]))
    assert top1.result() == pytest.approx(2 / 3)  # the tie row counts for every tied class
    top2 = TopKAccuracy(k=2)
    top2.update(scores, np.array([2, 0, 1]))
    assert top2.result() == pytest.approx(1.0)
    assert top2.name == "top_2_accuracy"


def test_precision_and_recall_binary_and_for_one_class(rng):
    predictions, labels = rng.integers(0, 2, 20), rng.integers(0, 2, 20)
    tp = np.sum((predictions == 1) & (labels == 1))
    precision, recall = Precision(), Recall()
    for p, y in batches_of(predictions, labels, size=7):
        precision.update(p, y)
        recall.update(p, y)
    assert precision.result() == pytest.approx(tp / np.sum(predictions == 1))
    assert recall.result() == pytest.approx(tp / np.sum(labels == 1))
    per_class = Precision(class_id=2)
    per_class.update(np.array([2, 2, 1, 2]), np.array([2, 0, 2, 2]))
    assert per_class.result() == pytest.approx(2 / 3)
    assert Recall().result() == 0.0  # nothing seen yet: 0, as in TF


def test_confusion_matrix_rows_are_labels_columns_predictions():
    cm = ConfusionMatrix(3)
    cm.update(np.array([0, 2, 2, 1]), np.array([0, 1, 2, 1]))
    expected = np.zeros((3, 3), dtype=np.int64)
    for p, y in zip([0, 2, 2, 1], [0, 1, 2, 1]):
        expected[y, p] += 1
    np.testing.assert_array_equal(cm.result(), expected)
    with pytest.raises(ValueError, match=r"labels must be class ids in \[0, 3\)"):
        cm.update(np.array([0]), np.array([3]))


def test_mismatched_shapes_name_the_metric():
    with pytest.raises(ValueError, match="accuracy: predictions"):
        Accuracy().update(np.zeros((2, 3, 4)), np.zeros(2))


def test_aggregate_metric_map_splits_values_and_updates():
    values, updates = aggregate_metric_map({"accuracy": Accuracy(), "custom": (lambda: 42, lambda *a: None)})
    updates["accuracy"](np.array([1, 1]), np.array([1, 0]))
    assert values["accuracy"]() == 0.5 and values["custom"]() == 42
    with pytest.raises(TypeError, match="'bad'"):
        aggregate_metric_map({"bad": 3})


@pytest.mark.parametrize("metric", [Accuracy(), Precision(class_id=0), Recall(class_id=1), ConfusionMatrix(2)],
                         ids=lambda m: m.name)
def test_one_score_per_example_is_an_error_not_an_argmax_over_one_column(metric):
    # argmax over a single column is always class 0: Accuracy used to report 1.0 here
    with pytest.raises(ValueError, match=rf"^{metric.name}: predictions must be class ids shaped like labels "
                                         r"\(2,\) or scores \(2, num_classes\) with num_classes >= 2, "
                                         r"got shape \(2, 1\)"):
        metric.update(np.array([[2.0], [-2.0]]), np.array([0, 0]))


def test_a_shape_error_reports_the_shape_received_not_its_argmax():
    with pytest.raises(ValueError, match=r"got shape \(3, 2\)$"):
        Accuracy().update(np.zeros((3, 2)), np.zeros(2, dtype=int))


def test_class_ids_shaped_like_labels_and_two_class_scores_still_work():
    acc = Accuracy()
    acc.update(np.array([[1], [0]]), np.array([[1], [1]]))  # ids [N, 1] beside labels [N, 1]
    acc.update(np.array([[-1.0, 1.0], [3.0, 0.5]]), np.array([1, 0]))  # scores with C = 2
    assert acc.result() == pytest.approx(3 / 4)


@pytest.mark.parametrize("weights", [None, np.array([1.0, 2.0, 1.0])], ids=["unweighted", "weighted"])
def test_confusion_matrix_takes_integer_valued_float_ids_with_or_without_weights(weights):
    cm = ConfusionMatrix(3)
    cm.update(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.0]), weights=weights)
    w = np.ones(3) if weights is None else weights
    np.testing.assert_array_equal(cm.result(), [[w[0], 0, 0], [0, w[1], w[2]], [0, 0, 0]])


@pytest.mark.parametrize("weights", [None, np.array([1.0, 2.0])], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("predictions, labels, message", [
    (np.array([0, 1]), np.array([0.0, 1.5]), r"labels must be class ids \(integer values\), got 1.5"),
    (np.array([0.0, np.nan]), np.array([0, 1]), r"predictions must be class ids \(integer values\), got nan"),
    (np.array([0, 1]), np.array([0.0, 3.0]), r"labels must be class ids in \[0, 3\)"),
    (np.array([-1, 1]), np.array([0, 1]), r"predictions must be class ids in \[0, 3\)"),
], ids=["fractional label", "nan prediction", "label out of range", "prediction out of range"])
def test_confusion_matrix_rejects_fractional_and_out_of_range_ids_the_same_way_with_or_without_weights(
        predictions, labels, message, weights):
    cm = ConfusionMatrix(3)
    with pytest.raises(ValueError, match=f"^confusion_matrix: {message}"):
        cm.update(predictions, labels, weights=weights)
    np.testing.assert_array_equal(cm.result(), np.zeros((3, 3)))  # nothing was counted


def test_fractional_labels_are_an_error_for_every_class_metric():
    for metric in (Accuracy(), TopKAccuracy(k=1), Precision(class_id=1)):
        with pytest.raises(ValueError, match=f"^{metric.name}: labels must be class ids"):
            metric.update(np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([1.0, 0.5]))
