"""optimize_loss, learning.clip_gradient_norms / multiply_gradients and slim.summaries."""
import json

import numpy as np
import pytest

import minislim as slim


def quadratic_loss(w):
    return slim.losses.sum_of_squares((w * slim.tensor([1.0, 2.0])).sum(), slim.tensor(3.0), loss_collection=None)


def test_optimize_loss_keeps_a_named_optimizer_and_its_slots_between_steps():
    w = slim.variable("w", shape=[2], initializer=slim.zeros_initializer())
    step = slim.get_or_create_global_step()
    reference = slim.optimizers.Adam(0.1)
    w_ref = slim.variable("w_ref", shape=[2], initializer=slim.zeros_initializer())
    for _ in range(3):
        slim.optimize_loss(quadratic_loss(w), step, 0.1, "Adam")
        reference.minimize(quadratic_loss(w_ref), [w_ref])
    np.testing.assert_allclose(w.data, w_ref.data, rtol=1e-6)
    assert int(step.data) == 3
    names = [s.name for s in slim.get_collection(slim.GraphKeys.SUMMARIES)]
    assert names[:3] == ["learning_rate", "global_norm/gradient_norm", "loss"]


def test_optimize_loss_clips_by_the_global_norm_and_applies_multipliers_and_decay():
    w = slim.variable("w", shape=[2], initializer=slim.zeros_initializer())
    step = slim.get_or_create_global_step()
    slim.optimize_loss(quadratic_loss(w), step, 1.0, "SGD", clip_gradients=1.0,
                       gradient_multipliers={"w": 2.0}, learning_rate_decay_fn=lambda lr, s: lr * 0.5 ** s)
    g = 2.0 * -6.0 * np.array([1.0, 2.0])  # multiplied, then clipped to norm 1
    np.testing.assert_allclose(w.data, -g / np.linalg.norm(g), rtol=1e-6)
    slim.optimize_loss(quadratic_loss(w), step, 1.0, "SGD", learning_rate_decay_fn=lambda lr, s: lr * 0.5 ** s)
    rates = [s.value for s in slim.get_collection(slim.GraphKeys.SUMMARIES) if s.name == "learning_rate"]
    assert rates == [1.0, 0.5]  # the decayed rate at steps 0 and 1


def test_optimize_loss_errors_are_tf_slims():
    w = slim.variable("w", shape=[2])
    with pytest.raises(ValueError, match="Optimizer name should be one of"):
        slim.optimize_loss(quadratic_loss(w), None, 0.1, "Ftrl")
    with pytest.raises(ValueError, match="Summaries should be one of"):
        slim.optimize_loss(quadratic_loss(w), None, 0.1, "SGD", summaries=["weights"])
    with pytest.raises(ValueError, match="Invalid learning_rate"):
        slim.optimize_loss(quadratic_loss(w), None, -0.1, "SGD")
    with pytest.raises(ValueError, match="global_step is required"):
        slim.optimize_loss(quadratic_loss(w), None, 0.1, "SGD", learning_rate_decay_fn=lambda lr, s: lr)


def test_clip_gradient_norms_is_per_tensor_and_multiply_gradients_checks_like_tf_slim():
    a, b = slim.variable("a", shape=[2]), slim.variable("b", shape=[1])
    pairs = [(np.array([3.0, 4.0], np.float32), a), (np.array([0.5], np.float32), b), (None, slim.variable("c", shape=[1]))]
    clipped = slim.learning.clip_gradient_norms(pairs, 2.0)
    np.testing.assert_allclose(clipped[0][0], [1.2, 1.6], rtol=1e-6)
    assert clipped[1][0].tolist() == [0.5] and clipped[2][0] is None
    assert pairs[0][0].tolist() == [3.0, 4.0]  # not modified in place
    scaled = slim.learning.multiply_gradients(pairs, {b: 4.0, "a": 0.5})
    assert scaled[0][0].tolist() == [1.5, 2.0] and scaled[1][0].tolist() == [2.0]
    with pytest.raises(ValueError, match="Requested multiple of `None` gradient"):
        slim.learning.multiply_gradients(pairs, {"c": 2.0})
    with pytest.raises(ValueError, match="must be a list"):
        slim.learning.multiply_gradients(tuple(pairs), {"a": 2.0})
    with pytest.raises(ValueError, match="is empty"):
        slim.learning.multiply_gradients(pairs, {})


def test_summaries_are_json_lines_in_the_logdir(tmp_path):
    x = slim.tensor(np.array([[0.0, 1.0], [2.0, 0.0]], np.float32))
    x.name = "relu"
    slim.summaries.add_histogram_summary(x)
    slim.summaries.add_zero_fraction_summaries([x], prefix="fc")
    slim.summaries.add_image_summary(np.zeros((1, 2, 2, 3)), name="images")
    with pytest.raises(ValueError, match="must be a scalar"):
        slim.summaries.add_scalar_summary(x)
    assert slim.summaries.write_summaries(str(tmp_path), global_step=slim.tensor(np.int64(4))) == 3
    lines = (tmp_path / "summaries.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["step"], r["name"], r["kind"]) for r in records] == [
        (4, "relu", "histogram"), (4, "fc/relu/Fraction_of_Zero_Values", "scalar"), (4, "images", "image")]
    assert records[0]["count"] == 4 and sum(records[0]["bucket_counts"]) == 4
    assert records[1]["value"] == 0.5 and records[2]["shape"] == [1, 2, 2, 3]
    assert slim.summaries.read_summaries(str(tmp_path), "images") == [records[2]]


def test_write_summaries_flushes_what_it_wrote(tmp_path):
    for step in range(3):
        slim.summaries.add_scalar_summary(float(step), "value")
        assert slim.summaries.write_summaries(str(tmp_path), global_step=step) == 1
    assert [(r["step"], r["value"]) for r in slim.summaries.read_summaries(str(tmp_path))] == [(0, 0.0), (1, 1.0),
                                                                                             (2, 2.0)]
    assert slim.get_collection(slim.GraphKeys.SUMMARIES) == []
