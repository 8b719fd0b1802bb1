"""The rest of tf_slim.ops.variables: global_variable, filter_variables, get_variable_full_name,
assert_or_get_global_step, zero_initializer, assign_from_values(_fn), assign_from_checkpoint,
apply_regularization. Each behaviour as tf_slim 1.1.0's source has it (and tests/tfslim checks)."""
import numpy as np
import pytest

import minislim as slim


def make_conv():
    return slim.conv2d(np.zeros((1, 4, 4, 2), np.float32), 3, [3, 3], scope="conv1")


def test_global_variable_is_global_only_and_uniquely_named():
    a = slim.global_variable(np.ones(2))
    b = slim.global_variable(np.ones(2))
    assert (a.name, b.name) == ("Variable", "Variable_1")
    assert slim.get_trainable_variables() == [] and slim.get_model_variables() == []
    assert [v.name for v in slim.get_variables()] == ["Variable", "Variable_1"]


def test_filter_variables_searches_or_matches_regular_expressions():
    make_conv()
    variables = slim.get_model_variables()
    assert [v.name for v in slim.filter_variables(variables, ["weights"])] == ["conv1/weights"]
    assert slim.filter_variables(variables, ["weights"], reg_search=False) == []
    assert [v.name for v in slim.filter_variables(variables, exclude_patterns=["b.*s"])] == ["conv1/weights"]
    with pytest.raises(TypeError, match="must be a list of patterns"):
        slim.filter_variables(variables, "conv1")


def test_get_variable_full_name_and_the_global_step_checks():
    make_conv()
    assert slim.get_variable_full_name(slim.get_unique_variable("conv1/weights")) == "conv1/weights"
    assert slim.assert_or_get_global_step() is None
    step = slim.get_or_create_global_step()
    assert slim.assert_or_get_global_step() is step
    assert slim.assert_or_get_global_step(slim.get_default_graph()) is step
    with pytest.raises(TypeError, match="does not have integer type"):
        slim.assert_or_get_global_step(global_step_tensor=slim.tensor(1.0))
    with pytest.raises(TypeError, match="is not scalar"):
        slim.assert_or_get_global_step(global_step_tensor=slim.tensor(np.zeros(2, np.int64)))


def test_zero_initializer_zeroes_in_place():
    v = slim.variable("v", shape=[3], initializer=slim.ones_initializer())
    buffer = v.data
    assert slim.zero_initializer(v) is v and v.data is buffer and v.data.tolist() == [0, 0, 0]


def test_assign_from_values_looks_names_up_like_tf_slim_and_reshapes():
    make_conv()
    slim.fully_connected(np.zeros((1, 2), np.float32), 3, scope="conv1_fc")
    assign_op, feed_dict = slim.assign_from_values({"conv1/biases": np.array([[1.0, 2.0, 3.0]])})
    biases = slim.get_unique_variable("conv1/biases")
    assert biases.data.tolist() == [0, 0, 0]  # nothing happens before the op runs
    assign_op()
    assert biases.data.tolist() == [1, 2, 3] and list(feed_dict) == [biases]
    with pytest.raises(ValueError, match="wasn't found"):
        slim.assign_from_values({"nope": np.zeros(1)})
    with pytest.raises(ValueError, match="doesn't uniquely identify"):
        slim.assign_from_values({"conv1": np.zeros(3)})
    with pytest.raises(ValueError, match="has shape"):
        slim.assign_from_values_fn({"conv1/biases": np.zeros(4)})


def test_assign_from_checkpoint_accepts_lists_and_dicts_of_lists(tmp_path):
    make_conv()
    weights = slim.get_unique_variable("conv1/weights")
    path = slim.checkpoint.save(str(tmp_path / "model.ckpt"), [weights])
    saved = weights.data.copy()
    other = slim.variable("copy", shape=weights.shape)
    weights.assign(np.zeros(weights.shape, np.float32))
    assign_op, _ = slim.assign_from_checkpoint(path, {"conv1/weights": [weights, other]})
    assign_op()
    assert np.array_equal(weights.data, saved) and np.array_equal(other.data, saved)
    with pytest.raises(ValueError, match=r"Checkpoint is missing variable \[conv1/biases\]"):
        slim.assign_from_checkpoint(path, slim.get_model_variables())
    with pytest.warns(UserWarning, match="missing"):
        slim.assign_from_checkpoint(path, slim.get_model_variables(), ignore_missing_vars=True)


def test_apply_regularization_sums_and_follows_the_current_values():
    make_conv()
    weights = slim.get_unique_variable("conv1/weights")
    weights.assign(np.ones(weights.shape, np.float32))
    total = slim.apply_regularization(slim.l1_regularizer(0.5), slim.get_model_variables())
    assert total.item() == pytest.approx(0.5 * weights.size)  # biases are 0
    weights.assign(np.full(weights.shape, 2.0, np.float32))
    [loss] = slim.losses.get_regularization_losses()
    assert loss.item() == pytest.approx(1.0 * weights.size)
    with pytest.raises(ValueError, match="No weights to regularize"):
        slim.apply_regularization(slim.l1_regularizer(0.5))
