"""Variables: creation, collections, reuse, assign, devices, getters, regularization losses."""
import warnings

import numpy as np
import pytest

import minislim as slim
from minislim import GraphKeys


def names(variables):
    return [v.name for v in variables]


# --- the seed README's examples ------------------------------------------------------------

def test_readme_variable_example():
    weights = slim.variable("weights", shape=[10, 10, 3, 3],
                            initializer=slim.truncated_normal_initializer(stddev=0.1),
                            regularizer=slim.l2_regularizer(0.05), device="/CPU:0")
    assert weights.name == "weights" and weights.shape == (10, 10, 3, 3)
    assert np.abs(weights.data).max() <= 0.2  # truncated at two standard deviations
    assert len(slim.get_collection(GraphKeys.REGULARIZATION_LOSSES)) == 1


def test_readme_model_variables_example():
    weights = slim.model_variable("weights", shape=[10, 10, 3, 3],
                                  initializer=slim.truncated_normal_initializer(stddev=0.1),
                                  regularizer=slim.l2_regularizer(0.05), device="/CPU:0")
    model_variables = slim.get_model_variables()
    my_var = slim.variable("my_var", shape=[20, 1], initializer=slim.zeros_initializer())
    regular_variables_and_model_variables = slim.get_variables()
    assert model_variables == [weights]
    assert names(regular_variables_and_model_variables) == ["weights", "my_var"]
    assert not my_var.data.any()


def test_readme_partial_restore_example_all_ways_give_v2():
    v1 = slim.variable(name="v1", shape=[2])
    v2 = slim.variable(name="nested/v2", shape=[2])
    for chosen in (slim.get_variables_by_name("v2"), slim.get_variables_by_suffix("2"),
                   slim.get_variables(scope="nested"),
                   slim.get_variables_to_restore(include=["nested"]),
                   slim.get_variables_to_restore(exclude=["v1"])):
        assert chosen == [v2]
    assert slim.get_variables_to_restore() == [v1, v2]


def test_readme_add_model_variable_example():
    my_model_variable = slim.Variable(np.zeros(3, np.float32), name="custom")
    slim.add_model_variable(my_model_variable)
    slim.add_model_variable(my_model_variable)
    assert slim.get_model_variables() == [my_model_variable]


# --- creation -----------------------------------------------------------------------------

def test_full_names_follow_the_scopes():
    with slim.variable_scope("vgg_16"):
        with slim.variable_scope("conv1"):
            with slim.variable_scope("conv1_1"):
                w = slim.model_variable("weights", shape=[3, 3, 3, 64])
    assert w.name == "vgg_16/conv1/conv1_1/weights"
    assert w.op.name == w.name
    assert repr(w) == "<Variable 'vgg_16/conv1/conv1_1/weights' shape=(3, 3, 3, 64) dtype=float32>"


def test_collections_of_plain_model_and_non_trainable_variables():
    a = slim.variable("a", shape=[1])
    b = slim.model_variable("b", shape=[1], collections=["extra"])
    c = slim.model_variable("c", shape=[1], trainable=False)
    d = slim.variable("d", shape=[1], collections=["only_here"])
    assert names(slim.get_variables()) == ["a", "b", "c"]
    assert names(slim.get_model_variables()) == ["b", "c"]
    assert names(slim.get_trainable_variables()) == ["a", "b", "d"]
    assert slim.get_collection("extra") == [b] and slim.get_collection("only_here") == [d]
    assert a.requires_grad and not c.requires_grad and c.trainable is False


def test_creating_an_existing_variable_outside_reuse_suggests_reuse_or_make_template():
    with slim.variable_scope("conv1"):
        slim.variable("weights", shape=[3])
    with pytest.raises(ValueError, match="conv1/weights' already exists") as info:
        with slim.variable_scope("conv1"):
            slim.variable("weights", shape=[3])
    assert "reuse=True" in str(info.value) and "make_template" in str(info.value)


def test_reuse_returns_the_same_variable_and_checks_its_shape():
    with slim.variable_scope("fc"):
        w = slim.variable("w", shape=[2, 3])
    with slim.variable_scope("fc", reuse=True):
        assert slim.variable("w", shape=[2, 3]) is w
        assert slim.variable("w") is w
        with pytest.raises(ValueError, match=r"specified shape \(3, 2\) and found shape \(2, 3\)"):
            slim.variable("w", shape=[3, 2])
        with pytest.raises(ValueError, match="dtype"):
            slim.variable("w", dtype="float64")


def test_reusing_a_missing_variable_is_an_error():
    with pytest.raises(ValueError, match="'fc/w' does not exist"):
        with slim.variable_scope("fc", reuse=True):
            slim.variable("w", shape=[2])


def test_auto_reuse_creates_then_reuses():
    with slim.variable_scope("s", reuse=slim.AUTO_REUSE):
        a = slim.variable("v", shape=[1])
        assert slim.variable("v", shape=[1]) is a
    assert len(slim.get_variables()) == 1


def test_initializer_may_be_a_value():
    v = slim.variable("v", initializer=np.arange(6.0).reshape(2, 3))
    assert v.shape == (2, 3) and v.dtype == np.float32
    s = slim.variable("s", shape=[2], initializer=0.5)
    assert s.data.tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="initial value has shape"):
        slim.variable("bad", shape=[4], initializer=np.ones(3))


def test_initial_value_is_copied():
    source = np.ones(3, np.float32)
    v = slim.variable("v", initializer=source)
    source[:] = 7
    assert v.data.tolist() == [1, 1, 1]


def test_a_custom_initializer_function_gets_shape_and_dtype():
    seen = {}

    def my_init(shape, dtype=None):
        seen.update(shape=shape, dtype=dtype)
        return np.full(shape, 2.0)

    v = slim.variable("v", shape=[2, 2], initializer=my_init)
    assert seen == {"shape": (2, 2), "dtype": np.float32}
    assert v.dtype == np.float32 and v.data.sum() == 8
    with pytest.raises(ValueError, match="initializer returned shape"):
        slim.variable("w", shape=[3], initializer=lambda shape, dtype=None: np.zeros(2))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"name": ""}, TypeError, "name"),
    ({"name": "v", "shape": [2.5]}, TypeError, "shape"),
    ({"name": "v", "shape": [-1]}, TypeError, "shape"),
    ({"name": "v"}, ValueError, "shape is required"),
    ({"name": "v", "shape": [2], "dtype": "int32"}, TypeError, "trainable=False"),
    ({"name": "v", "shape": [2], "regularizer": "l2"}, TypeError, "regularizer"),
])
def test_bad_variable_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        slim.variable(**kwargs)


def test_integer_variables_must_not_be_trainable():
    v = slim.variable("count", shape=[], dtype="int64", trainable=False)
    assert v.dtype == np.int64 and v.item() == 0


@pytest.mark.parametrize("device", [None, "cpu", "CPU", "/cpu:0", "/CPU:0", "/device:CPU:0",
                                    "/job:localhost/replica:0/task:0/device:CPU:0"])
def test_cpu_device_names_are_accepted(device):
    slim.variable("v", shape=[1], device=device)


@pytest.mark.parametrize("device", ["/GPU:0", "/device:GPU:1", "tpu", "/cpu:0/gpu"])
def test_other_devices_are_rejected_with_a_clear_error(device):
    with pytest.raises(ValueError, match="CPU only"):
        slim.variable("v", shape=[1], device=device)


def test_a_device_function_is_a_type_error():
    with pytest.raises(TypeError, match="device"):
        slim.variable("v", shape=[1], device=lambda op: "/cpu:0")


# --- assign and the buffer contract --------------------------------------------------------

def test_assign_writes_into_the_same_buffer():
    v = slim.variable("v", shape=[2, 2])
    buffer = v.data
    assert v.assign(np.ones((2, 2))) is v  # float64 values into a float32 variable
    assert v.data is buffer and v.dtype == np.float32 and v.data.sum() == 4
    v.assign(slim.tensor(np.full((2, 2), 3.0)))
    assert v.data is buffer and v.data[0, 0] == 3


def test_setting_data_copies_into_the_buffer_and_in_place_updates_work():
    v = slim.variable("v", shape=[3], initializer=slim.zeros_initializer())
    buffer = v.data
    v.data = np.array([1.0, 2.0, 3.0])
    v.data -= 0.5
    v.data *= 2
    assert v.data is buffer and v.data.tolist() == [1.0, 3.0, 5.0]


def test_assign_checks_shape_and_dtype_naming_the_variable():
    v = slim.variable("fc/w", shape=[2, 3])
    with pytest.raises(ValueError, match=r"'fc/w': expected shape \(2, 3\), got \(3, 2\)"):
        v.assign(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="expected shape"):
        v.assign(0.0)
    step = slim.variable("step", shape=[], dtype="int64", trainable=False)
    with pytest.raises(TypeError, match="cannot convert"):
        step.assign(np.float64(1.5))


def test_assign_add_and_sub():
    step = slim.get_or_create_global_step()
    step.assign_add(1)
    step.assign_add(2)
    assert step.item() == 3 and step.dtype == np.int64
    v = slim.variable("v", shape=[2], initializer=slim.ones_initializer())
    v.assign_sub(np.array([0.5, 1.0]))
    assert v.data.tolist() == [0.5, 0.0]
    with pytest.raises(ValueError, match="assign_add on variable 'v'"):
        v.assign_add(np.ones(3))


def test_value_is_a_detached_copy():
    v = slim.variable("v", shape=[2], initializer=slim.ones_initializer())
    snapshot = v.value()
    v.assign(np.zeros(2))
    assert snapshot.data.tolist() == [1.0, 1.0] and not snapshot.requires_grad


def test_variables_are_leaves_that_receive_gradients():
    v = slim.variable("v", shape=[3], initializer=slim.constant_initializer(2.0))
    (v * v).sum().backward()
    assert v.is_leaf and v.grad.tolist() == [4.0, 4.0, 4.0]
    assert {v: 1}[v] == 1  # hashable by identity


# --- getters ------------------------------------------------------------------------------

@pytest.fixture
def small_net():
    for scope in ("vgg_16/conv1", "vgg_16/fc7", "vgg_16/fc8"):
        with slim.variable_scope(scope):
            slim.model_variable("weights", shape=[1])
            slim.model_variable("biases", shape=[1])
    slim.variable("global_thing", shape=[1], trainable=False)


def test_get_variables_by_scope_and_suffix(small_net):
    assert names(slim.get_variables("vgg_16/fc8")) == ["vgg_16/fc8/weights", "vgg_16/fc8/biases"]
    assert names(slim.get_variables(suffix="biases", scope="vgg_16/fc")) == [
        "vgg_16/fc7/biases", "vgg_16/fc8/biases"]
    with slim.variable_scope("vgg_16") as scope:
        pass
    assert len(slim.get_variables(scope)) == 6  # a VariableScope works as scope
    assert len(slim.get_trainable_variables()) == 6 and len(slim.get_variables()) == 7


def test_get_variables_by_name_matches_the_last_component(small_net):
    assert names(slim.get_variables_by_name("weights")) == [
        "vgg_16/conv1/weights", "vgg_16/fc7/weights", "vgg_16/fc8/weights"]
    assert slim.get_variables_by_name("eights") == []


def test_get_unique_variable(small_net):
    assert slim.get_unique_variable("vgg_16/fc7/weights").name == "vgg_16/fc7/weights"
    with pytest.raises(ValueError, match="Couldn't find variable vgg_16/fc9"):
        slim.get_unique_variable("vgg_16/fc9")
    with pytest.raises(ValueError, match="does not uniquely identify"):
        slim.get_unique_variable("vgg_16/fc7")


def test_get_variables_to_restore_for_fine_tuning(small_net):
    chosen = slim.get_variables_to_restore(include=["vgg_16"], exclude=["vgg_16/fc8"])
    assert names(chosen) == ["vgg_16/conv1/weights", "vgg_16/conv1/biases",
                             "vgg_16/fc7/weights", "vgg_16/fc7/biases"]


def test_get_variables_to_restore_warns_about_a_pattern_matching_nothing(small_net):
    with pytest.warns(UserWarning, match="exclude pattern 'vgg_16/fc_8' matches no variable"):
        chosen = slim.get_variables_to_restore(exclude=["vgg_16/fc_8"])
    assert len(chosen) == 7
    with pytest.warns(UserWarning, match="include pattern 'resnet'"):
        assert slim.get_variables_to_restore(include=["resnet"]) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        slim.get_variables_to_restore(include=["vgg_16"], exclude=["vgg_16/fc8"])


def test_get_variables_to_restore_rejects_a_bare_string(small_net):
    with pytest.raises(TypeError, match="exclude is provided but is not a list"):
        slim.get_variables_to_restore(exclude="vgg_16/fc8")


def test_global_step_and_local_variables():
    assert slim.get_global_step() is None
    step = slim.get_or_create_global_step()
    assert slim.get_or_create_global_step() is step and step.name == "global_step"
    assert any(v is step for v in slim.get_variables()) and not step.trainable
    with pytest.raises(ValueError, match="already exists"):
        slim.create_global_step()
    with slim.variable_scope("accuracy"):
        a = slim.local_variable(np.zeros(()), name="total")
        b = slim.local_variable(np.zeros(()), name="total")
    assert (a.name, b.name) == ("accuracy/total", "accuracy/total_1")
    assert slim.get_local_variables() == [a, b] and not any(v is a for v in slim.get_variables())


# --- regularization losses ----------------------------------------------------------------

def test_one_regularization_loss_per_regularized_variable_following_assign():
    w = slim.model_variable("w", shape=[2], initializer=slim.ones_initializer(),
                            regularizer=slim.l2_regularizer(0.5))
    slim.model_variable("b", shape=[2])  # not regularized
    (loss,) = slim.get_collection(GraphKeys.REGULARIZATION_LOSSES)
    assert loss.item() == pytest.approx(0.5 * 2 / 2)
    w.assign(np.array([2.0, 0.0]))
    (loss,) = slim.get_collection(GraphKeys.REGULARIZATION_LOSSES)
    assert loss.item() == pytest.approx(0.5 * 4 / 2)
    assert loss.name == "w/Regularizer/l2_regularizer"
    loss.backward()
    assert w.grad.tolist() == pytest.approx([1.0, 0.0])  # d/dw of scale * w**2 / 2


def test_reused_variables_do_not_add_a_second_regularization_loss():
    for reuse in (None, True, True):
        with slim.variable_scope("fc", reuse=reuse):
            slim.variable("w", shape=[2], regularizer=slim.l1_regularizer(0.1))
    assert len(slim.get_collection(GraphKeys.REGULARIZATION_LOSSES)) == 1
    assert len(slim.get_collection(GraphKeys.REGULARIZATION_LOSSES, scope="fc/")) == 1
    assert slim.get_collection(GraphKeys.REGULARIZATION_LOSSES, scope="conv") == []


def test_a_zero_scale_regularizer_adds_no_loss():
    slim.variable("w", shape=[2], regularizer=slim.l2_regularizer(0.0))
    assert slim.get_collection(GraphKeys.REGULARIZATION_LOSSES) == []


def test_an_initializer_factory_passed_uncalled_says_to_call_it():
    with pytest.raises(TypeError, match=r"returned an initializer, not values: pass xavier_initializer\(\) \(called\)"):
        slim.variable("w", shape=[3, 2], initializer=slim.xavier_initializer)
    assert slim.get_variables() == []


def test_a_regularizer_that_is_not_a_function_creates_nothing():
    with pytest.raises(TypeError, match="variable 'w': regularizer must be a function"):
        slim.variable("w", shape=[2], regularizer=0.01)
    assert slim.get_variables() == []
    assert slim.variable("w", shape=[2], regularizer=slim.l2_regularizer(0.01)).shape == (2,)


def test_variable_and_model_variable_take_arg_scope_as_in_tf_slim():
    """model_deploy's idiom: arg_scope([slim.model_variable, slim.variable], device=...)."""
    assert slim.has_arg_scope(slim.variable) and slim.has_arg_scope(slim.model_variable)
    with slim.arg_scope([slim.variable, slim.model_variable], device="/CPU:0", trainable=False):
        v = slim.variable("v", shape=[2])
        m = slim.model_variable("m", shape=[2], trainable=True)  # an explicit argument wins
    assert slim.get_trainable_variables() == [m] and v.name == "v"
    # layers create their weights with model_variable, so the scope reaches them
    x = slim.tensor(np.ones((1, 4, 4, 3), np.float32))
    with slim.arg_scope([slim.model_variable], device="/GPU:0"):
        with pytest.raises(ValueError, match="variable 'c/weights': device '/GPU:0' is not available"):
            slim.conv2d(x, 2, 3, scope="c")
