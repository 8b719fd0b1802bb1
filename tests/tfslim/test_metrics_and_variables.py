"""Streaming metrics and the variables API against tf_slim (two batches each, with weights)."""
import numpy as np
import pytest

import minislim as slim
from minislim import metrics

pytest.importorskip("tf_slim")


def _rng(seed):
    return np.random.default_rng(seed)


def _regression_batches(seed):
    r = _rng(seed)
    return [(r.normal(size=(4, 3)).astype(np.float32), r.normal(size=(4, 3)).astype(np.float32),
             r.uniform(0, 1, (4, 3)).astype(np.float32)) for _ in range(2)]


def _binary_batches(seed):
    r = _rng(seed)
    return [(r.uniform(0, 1, 8).astype(np.float32), r.integers(0, 2, 8).astype(bool),
             r.uniform(0, 2, 8).astype(np.float32)) for _ in range(2)]


def _counts_batches(seed):
    r = _rng(seed)
    return [(r.integers(0, 2, 8).astype(bool), r.integers(0, 2, 8).astype(bool),
             r.uniform(0, 2, 8).astype(np.float32)) for _ in range(2)]


def _class_batches(seed):
    r = _rng(seed)
    return [(r.integers(0, 4, 10).astype(np.int64), r.integers(0, 4, 10).astype(np.int64),
             r.uniform(0, 1, 10).astype(np.float32)) for _ in range(2)]


def _topk_batches(seed):
    r = _rng(seed)
    return [(r.normal(size=(6, 5)).astype(np.float32), r.integers(0, 5, 6).astype(np.int64)) for _ in range(2)]


CASES = [
    ("mean_absolute_error", metrics.streaming_mean_absolute_error, _regression_batches, {}, {}),
    ("mean_squared_error", metrics.streaming_mean_squared_error, _regression_batches, {}, {}),
    ("root_mean_squared_error", metrics.streaming_root_mean_squared_error, _regression_batches, {}, {}),
    ("true_positives", metrics.streaming_true_positives, _counts_batches, {}, {}),
    ("false_positives", metrics.streaming_false_positives, _counts_batches, {}, {}),
    ("true_negatives", metrics.streaming_true_negatives, _counts_batches, {}, {}),
    ("false_negatives", metrics.streaming_false_negatives, _counts_batches, {}, {}),
    ("auc", metrics.streaming_auc, _binary_batches, {}, {}),
    ("auc", metrics.streaming_auc, _binary_batches, {"curve": "PR", "num_thresholds": 50},
     {"curve": "PR", "num_thresholds": 50}),
    ("mean_iou", metrics.streaming_mean_iou, _class_batches, {"num_classes": 6}, {"num_classes": 6}),
    ("accuracy", metrics.streaming_accuracy, _class_batches, {}, {}),
    ("precision", metrics.streaming_precision, _counts_batches, {}, {}),
    ("recall", metrics.streaming_recall, _counts_batches, {}, {}),
]


@pytest.mark.parametrize("name, ours, batches, kwargs, tf_kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_streaming_metric(tf1, name, ours, batches, kwargs, tf_kwargs):
    """streaming metrics: the value after two weighted batches"""
    tf, tfs, sess = tf1
    data = batches(0)
    if name == "mean_iou":
        holders = [tf.compat.v1.placeholder(tf.int64, [10]), tf.compat.v1.placeholder(tf.int64, [10]),
                   tf.compat.v1.placeholder(tf.float32, [10])]
        value, update = tfs.metrics.streaming_mean_iou(holders[0], holders[1], weights=holders[2], **tf_kwargs)
        sess.run(tf.compat.v1.local_variables_initializer())
        for batch in data:
            sess.run(update, dict(zip(holders, batch)))
        expected = sess.run(value)
    else:
        holders = [tf.compat.v1.placeholder(tf.as_dtype(b.dtype), b.shape) for b in data[0]]
        value, update = getattr(tfs.metrics, f"streaming_{name}")(holders[0], holders[1], weights=holders[2],
                                                                   **tf_kwargs)
        sess.run(tf.compat.v1.local_variables_initializer())
        for batch in data:
            sess.run(update, dict(zip(holders, batch)))
        expected = sess.run(value)
    value_fn, update_fn = ours(**kwargs)
    for p, y, w in data:
        update_fn(p, y, weights=w)
    assert value_fn() == pytest.approx(float(expected), rel=1e-5, abs=1e-6)


def test_percentage_less(tf1):
    """streaming_percentage_less: weighted fraction below the threshold"""
    tf, tfs, sess = tf1
    values, weights = _rng(1).normal(size=(2, 7)).astype(np.float32), _rng(2).uniform(0, 1, (2, 7)).astype(np.float32)
    v, w = tf.compat.v1.placeholder(tf.float32, [7]), tf.compat.v1.placeholder(tf.float32, [7])
    value, update = tfs.metrics.streaming_percentage_less(v, 0.2, weights=w)
    sess.run(tf.compat.v1.local_variables_initializer())
    value_fn, update_fn = metrics.streaming_percentage_less(threshold=0.2)
    for i in range(2):
        sess.run(update, {v: values[i], w: weights[i]})
        update_fn(values[i], weights=weights[i])
    assert value_fn() == pytest.approx(float(sess.run(value)), rel=1e-6)


@pytest.mark.parametrize("k, class_id", [(1, None), (3, None), (2, 1)])
def test_recall_and_sparse_precision_at_k(tf1, k, class_id):
    """streaming_recall_at_k and streaming_sparse_precision_at_k (class_id too)"""
    tf, tfs, sess = tf1
    data = _topk_batches(3)
    scores, labels = tf.compat.v1.placeholder(tf.float32, [6, 5]), tf.compat.v1.placeholder(tf.int64, [6])
    recall, recall_update = tfs.metrics.streaming_recall_at_k(scores, labels, k)
    precision, precision_update = tfs.metrics.streaming_sparse_precision_at_k(scores, labels, k, class_id=class_id)
    sess.run(tf.compat.v1.local_variables_initializer())
    ours_recall, ours_recall_update = metrics.streaming_recall_at_k(k=k)
    ours_precision, ours_precision_update = metrics.streaming_sparse_precision_at_k(k=k, class_id=class_id)
    for s, y in data:
        sess.run([recall_update, precision_update], {scores: s, labels: y})
        ours_recall_update(s, y)
        ours_precision_update(s, y)
    assert ours_recall() == pytest.approx(float(sess.run(recall)), rel=1e-6)
    expected = float(sess.run(precision))
    assert (np.isnan(expected) and np.isnan(ours_precision())) or ours_precision() == pytest.approx(expected, rel=1e-6)


def test_variables_api(tf1):
    """global_variable, filter_variables, get_variable_full_name, assert_or_get_global_step, assign_from_values"""
    tf, tfs, sess = tf1
    x = np.zeros((1, 4, 4, 2), np.float32)
    for lib, inputs in ((tfs, tf.constant(x)), (slim, x)):
        lib.conv2d(inputs, 3, [3, 3], scope="Conv")
        lib.fully_connected(lib.flatten(inputs), 2, scope="Logits")
        for _ in range(2):
            if lib is slim:
                slim.global_variable(np.ones(2, np.float32), name="counts")
            else:  # tf_slim.global_variable calls variable_scope.variable, gone in TF 2.15: its body, inlined
                tf.compat.v1.Variable(np.ones(2, np.float32), trainable=False, name="counts",
                                      collections=[tf.compat.v1.GraphKeys.GLOBAL_VARIABLES])
    names_tf = [v.op.name for v in tf.compat.v1.global_variables()]
    assert [v.name for v in slim.get_variables()] == names_tf
    assert [v.name for v in slim.get_trainable_variables()] == [v.op.name for v in tfs.get_trainable_variables()]
    for include, exclude, search in ((["Conv"], ["biases"], True), (["weights"], None, False), (None, ["Log"], True)):
        theirs = [v.op.name for v in tfs.filter_variables(tfs.get_model_variables(), include, exclude, search)]
        assert [v.name for v in slim.filter_variables(slim.get_model_variables(), include, exclude, search)] == theirs
    assert slim.get_variable_full_name(slim.get_unique_variable("Conv/weights")) == tfs.get_variable_full_name(
        tfs.get_unique_variable("Conv/weights"))
    assert tfs.assert_or_get_global_step() is None and slim.assert_or_get_global_step() is None
    values = {"Conv/biases": np.array([1.0, 2.0, 3.0], np.float32), "Logits/weights": np.arange(64, dtype=np.float32)}
    assign_op, feed_dict = tfs.assign_from_values(values)
    sess.run(tf.compat.v1.global_variables_initializer())
    sess.run(assign_op, feed_dict)
    slim.assign_from_values_fn(values)(None)
    for name in values:
        np.testing.assert_array_equal(slim.get_unique_variable(name).numpy(),
                                      sess.run(tfs.get_unique_variable(name)))
    with pytest.raises(ValueError, match="wasn't found"):
        tfs.assign_from_values({"nope": np.zeros(1)})
    with pytest.raises(ValueError, match="wasn't found"):
        slim.assign_from_values({"nope": np.zeros(1)})


def test_apply_regularization(tf1):
    """apply_regularization: the summed penalty, added to REGULARIZATION_LOSSES"""
    tf, tfs, sess = tf1
    w = _rng(4).normal(size=(3, 2)).astype(np.float32)
    tw = tf.compat.v1.Variable(w, name="w")
    total_tf = tfs.apply_regularization(tfs.l2_regularizer(0.3), [tw, tw])
    sess.run(tf.compat.v1.global_variables_initializer())
    v = slim.variable("w", shape=[3, 2], initializer=slim.constant_initializer(w))
    total = slim.apply_regularization(slim.l2_regularizer(0.3), [v, v])
    assert total.item() == pytest.approx(float(sess.run(total_tf)), rel=1e-6)
    assert len(slim.losses.get_regularization_losses()) == len(tfs.losses.get_regularization_losses()) == 1
