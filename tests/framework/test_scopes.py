"""variable_scope: names, unique default names, reuse inheritance, re-entering a scope."""
import numpy as np
import pytest

import minislim as slim


def open_default(default_name):
    with slim.variable_scope(None, default_name=default_name) as scope:
        return scope.name


def test_default_names_are_made_unique_like_tf():
    assert [open_default("Conv") for _ in range(3)] == ["Conv", "Conv_1", "Conv_2"]
    assert open_default("fully_connected") == "fully_connected"


def test_default_name_counters_are_per_enclosing_scope():
    with slim.variable_scope("a"):
        assert open_default("Conv") == "a/Conv"
        assert open_default("Conv") == "a/Conv_1"
    with slim.variable_scope("b"):
        assert open_default("Conv") == "b/Conv"


def test_an_explicit_name_takes_the_default_name_slot():
    with slim.variable_scope("Conv"):
        pass
    assert open_default("Conv") == "Conv_1"


def test_explicit_names_are_not_made_unique():
    names = []
    for _ in range(2):
        with slim.variable_scope("conv1") as scope:
            names.append(scope.name)
    assert names == ["conv1", "conv1"]


def test_nested_names_and_original_name_scope():
    with slim.variable_scope("vgg_16", "ignored", [1, 2]) as outer:
        with slim.variable_scope("conv1/conv1_1") as inner:
            assert slim.get_variable_scope() is inner
    assert inner.name == "vgg_16/conv1/conv1_1"
    assert outer.original_name_scope == "vgg_16/"
    assert slim.get_variable_scope().name == ""


def test_reuse_is_inherited_and_cannot_be_switched_off_inside():
    with slim.variable_scope("a", reuse=True):
        with slim.variable_scope("b") as b:
            with slim.variable_scope("c", reuse=False) as c:
                pass
    assert b.reuse is True and c.reuse is True
    with slim.variable_scope("d", reuse=slim.AUTO_REUSE):
        with slim.variable_scope("e") as e:
            pass
    assert e.reuse is slim.AUTO_REUSE


def test_reuse_true_needs_a_name():
    with pytest.raises(ValueError, match="reuse=True needs a scope name"):
        with slim.variable_scope(None, default_name="Conv", reuse=True):
            pass


@pytest.mark.parametrize("kwargs, error", [
    ({"name_or_scope": None}, TypeError),
    ({"name_or_scope": ""}, TypeError),
    ({"name_or_scope": 3}, TypeError),
    ({"name_or_scope": "a", "reuse": "yes"}, TypeError),
    ({"name_or_scope": "a", "values": "x"}, TypeError),
])
def test_bad_arguments_are_reported(kwargs, error):
    with pytest.raises(error):
        with slim.variable_scope(**kwargs):
            pass


def test_reentering_a_scope_object_is_absolute_and_restarts_default_names():
    with slim.variable_scope("model") as model:
        assert open_default("Conv") == "model/Conv"
    with slim.variable_scope("elsewhere"):
        with slim.variable_scope(model, reuse=True) as again:
            assert open_default("Conv") == "model/Conv"
            assert open_default("Conv") == "model/Conv_1"
    assert again.name == "model" and again.reuse is True


def test_the_scope_stack_is_restored_when_a_block_raises():
    with pytest.raises(RuntimeError):
        with slim.variable_scope("a"):
            with slim.variable_scope("b"):
                raise RuntimeError
    assert slim.get_variable_scope().name == ""


def test_default_names_restart_when_the_enclosing_scope_is_reopened():
    for _ in range(2):
        with slim.variable_scope("conv1"):
            assert open_default("BatchNorm") == "conv1/BatchNorm"
    assert [open_default("Conv") for _ in range(2)] == ["Conv", "Conv_1"]  # the root never closes


def test_reentering_a_scope_object_keeps_counting_and_restores_the_counters_on_exit():
    """TF 1's rule: a VariableScope re-entered snapshots the counters and restores them on exit."""
    root = slim.get_variable_scope()
    assert [open_default("Conv") for _ in range(2)] == ["Conv", "Conv_1"]
    with slim.variable_scope(root, reuse=True):
        assert open_default("Conv") == "Conv_2"  # the counters are not restarted on entry
        assert open_default("Conv") == "Conv_3"
    assert open_default("Conv") == "Conv_2"  # ... and are back to what they were on entry


def test_the_idiom_reuse_the_current_scope_does_not_disturb_later_default_names():
    x = slim.tensor(np.ones((1, 4, 4, 3), np.float32))
    slim.conv2d(x, 2, 3)
    with slim.variable_scope(slim.get_variable_scope(), reuse=True):
        slim.conv2d(x, 2, 3, scope="Conv")
    slim.conv2d(x, 2, 3)  # Conv_1, as in TF (it was Conv again: "already exists")
    assert [v.name for v in slim.get_variables()] == ["Conv/weights", "Conv/biases", "Conv_1/weights",
                                                      "Conv_1/biases"]
