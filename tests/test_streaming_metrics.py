"""The streaming metrics added for TF-Slim parity, against hand computations of TF 1's rules
(tests/tfslim/ checks the same metrics against tf_slim itself)."""
import numpy as np
import pytest

from minislim import metrics


def test_regression_metrics_are_weighted_means(rng):
    p, y, w = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)), rng.uniform(0, 1, (6, 1))
    for fn, per_element in ((metrics.streaming_mean_absolute_error, np.abs(p - y)),
                            (metrics.streaming_mean_squared_error, (p - y) ** 2)):
        value, update = fn(p[:3], y[:3], w[:3])
        update(p[3:], y[3:], weights=w[3:])
        wb = np.broadcast_to(w, p.shape)
        assert value() == pytest.approx(np.sum(per_element * wb) / np.sum(wb))
    value, _ = metrics.streaming_root_mean_squared_error(p, y)
    assert value() == pytest.approx(np.sqrt(np.mean((p - y) ** 2)))
    value, _ = metrics.streaming_percentage_less(np.array([1.0, 2.0, 3.0, 4.0]), 2.5)
    assert value() == 0.5


def test_confusion_counts_cast_to_bool_and_weight():
    p, y, w = np.array([1, 0, 2, 0, 1]), np.array([1, 1, 0, 0, 1]), np.array([1.0, 2.0, 3.0, 4.0, 0.5])
    results = {fn.__name__: fn(p, y, w)[0]() for fn in (metrics.streaming_true_positives,
                                                         metrics.streaming_false_positives,
                                                         metrics.streaming_true_negatives,
                                                         metrics.streaming_false_negatives)}
    assert results == {"streaming_true_positives": 1.5, "streaming_false_positives": 3.0,
                       "streaming_true_negatives": 4.0, "streaming_false_negatives": 2.0}


def test_auc_is_tf_s_thresholded_riemann_sum(rng):
    scores, labels = rng.uniform(0, 1, 50), rng.integers(0, 2, 50)
    n = 200
    thresholds = np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])
    pos = scores[None] > thresholds[:, None]
    tp, fn = (pos & (labels == 1)).sum(1), (~pos & (labels == 1)).sum(1)
    fp, tn = (pos & (labels == 0)).sum(1), (~pos & (labels == 0)).sum(1)
    tpr, fpr = (tp + 1e-6) / (tp + fn + 1e-6), fp / (fp + tn + 1e-6)
    expected = np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)
    value, update = metrics.streaming_auc(scores[:20], labels[:20])
    update(scores[20:], labels[20:])
    assert value() == pytest.approx(expected, rel=1e-12)
    # a perfect ranking has an area of about 1, an inverted one about 0
    assert metrics.streaming_auc(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1]))[0]() > 0.99
    with pytest.raises(ValueError, match="Curve must be either ROC or PR"):
        metrics.streaming_auc(curve="roc")
    with pytest.raises(ValueError, match=r"predictions must be in \[0, 1\]"):
        metrics.streaming_auc(np.array([1.5]), np.array([1]))


def test_mean_iou_leaves_unseen_classes_out():
    value, update = metrics.streaming_mean_iou(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=4)
    # class 0: 1 / (2 + 1 - 1) = 0.5; class 1: 1 / (1 + 2 - 1) = 0.5; classes 2, 3 unseen
    assert value() == pytest.approx(0.5)


def test_recall_and_sparse_precision_at_k():
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    labels = np.array([2, 1, 2])
    assert metrics.streaming_recall_at_k(scores, labels, 1)[0]() == pytest.approx(1 / 3)
    assert metrics.streaming_recall_at_k(scores, labels, 2)[0]() == 1.0
    # top-2: {1, 2}, {0, 1}, {2, 1}: hits 1, 1, 1 of 6 predictions
    assert metrics.streaming_sparse_precision_at_k(scores, labels, 2)[0]() == pytest.approx(3 / 6)
    # class 2 predicted in rows 0 and 2, right in both
    assert metrics.streaming_sparse_precision_at_k(scores, labels, 2, class_id=2)[0]() == 1.0
    assert np.isnan(metrics.streaming_sparse_precision_at_k(scores, labels, 1, class_id=0, weights=[1, 0, 1])[0]())


def test_streaming_pairs_of_the_existing_metrics():
    value, update = metrics.streaming_accuracy(np.array([1, 2, 3]), np.array([1, 2, 0]))
    update(np.array([[0.9, 0.1]]), np.array([0]))
    assert value() == 0.75
    assert metrics.streaming_mean(np.array([1.0, 3.0]), weights=np.array([3.0, 1.0]))[0]() == 1.5
    assert metrics.streaming_precision(np.array([1, 1, 0]), np.array([1, 0, 1]))[0]() == 0.5
    assert metrics.streaming_recall(np.array([1, 1, 0]), np.array([1, 0, 1]))[0]() == 0.5


def test_streaming_metrics_take_tf_slims_collections_arguments():
    # tf_slim/metrics/metric_ops.py: every streaming_* takes metrics_collections and
    # updates_collections (before name; streaming_auc's before curve) and adds its value
    # tensor and update op to them; here the value and update functions are added.
    import minislim as slim
    value, update = metrics.streaming_mean_absolute_error(np.array([1.0]), np.array([3.0]), None, ["eval"],
                                                          "updates", "mae")
    assert slim.get_collection("eval") == [value] and slim.get_collection("updates") == [update]
    auc, _ = metrics.streaming_auc(None, None, None, 50, "eval", None, "PR")
    assert slim.get_collection("eval") == [value, auc] and auc.__self__.curve == "PR"
    assert value() == 2.0
