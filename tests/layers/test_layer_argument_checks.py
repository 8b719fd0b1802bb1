"""Every layer checks all its arguments before creating a variable, so a corrected call can rerun."""
import inspect

import numpy as np
import pytest

import minislim as slim


def images(n=2, h=6, w=6, c=3):
    return np.random.default_rng(0).standard_normal((n, h, w, c)).astype(np.float32)


def features(n=4, c=3):
    return np.random.default_rng(1).standard_normal((n, c)).astype(np.float32)


# A call that works, per layer that creates variables (all by keyword, so any can be replaced).
GOOD_CALLS = {
    "conv2d": (slim.conv2d, dict(inputs=images(), num_outputs=4, kernel_size=[3, 3])),
    "conv2d_transpose": (slim.conv2d_transpose, dict(inputs=images(), num_outputs=4, kernel_size=[3, 3])),
    "separable_conv2d": (slim.separable_conv2d, dict(inputs=images(), num_outputs=4, kernel_size=[3, 3])),
    "fully_connected": (slim.fully_connected, dict(inputs=features(), num_outputs=4)),
    "conv1d": (slim.conv1d, dict(inputs=images()[:, 0], num_outputs=4, kernel_size=3)),
    "conv2d_in_plane": (slim.conv2d_in_plane, dict(inputs=images(), kernel_size=[3, 3])),
    "batch_norm": (slim.batch_norm, dict(inputs=features())),
    "layer_norm": (slim.layer_norm, dict(inputs=features())),
    "bias_add": (slim.bias_add, dict(inputs=features())),
}

# One wrong value per argument name.
BAD_VALUES = {
    "num_outputs": "16", "kernel_size": [3, 3, 3], "stride": 0, "padding": "FULL", "rate": [1, 0],
    "data_format": "NCHW", "activation_fn": "relu", "normalizer_fn": "batch_norm",
    "normalizer_params": ["decay", 0.9], "weights_initializer": "xavier", "weights_regularizer": 0.01,
    "biases_initializer": 0.0, "biases_regularizer": 0.01, "pointwise_initializer": "xavier",
    "depth_multiplier": 0, "variables_collections": 7, "outputs_collections": 7, "trainable": "yes",
    "decay": 1.5, "center": "yes", "scale": "no", "epsilon": 0, "param_initializers": {"beta": 0.0},
    "param_regularizers": {"gamma": "l2"}, "is_training": "yes", "begin_norm_axis": 1.0,
    "begin_params_axis": "last", "initializer": "zeros", "regularizer": 0.1,
    "sync": "yes",
}

# Arguments a layer does not check: what they may be is checked elsewhere, or they are ignored.
UNCHECKED = {"inputs", "scope", "reuse", "updates_collections", "fused"}

CASES = [(layer, name) for layer, (fn, _) in GOOD_CALLS.items()
         for name in inspect.signature(fn).parameters if name not in UNCHECKED]


def call(layer, **changes):
    fn, kwargs = GOOD_CALLS[layer]
    return fn(**{**kwargs, **changes}, scope="layer1")


def assert_fails_cleanly_then_works(layer, error_types, *message_parts, **changes):
    """The bad call raises naming the full scope (and ``message_parts``), creates nothing;
    the good call with the same scope then works."""
    with slim.variable_scope("net"):
        with pytest.raises(error_types) as info:
            call(layer, **changes)
    message = str(info.value)
    assert f"{layer} 'net/layer1'" in message
    for part in message_parts:
        assert part in message
    assert slim.get_variables() == []
    with slim.variable_scope("net"):
        call(layer)
    assert slim.get_variables() and all(v.name.startswith("net/layer1/") for v in slim.get_variables())
    return message


def test_every_argument_of_every_layer_has_a_bad_value_here():
    assert {name for _, name in CASES} <= set(BAD_VALUES)


@pytest.mark.parametrize("layer, name", CASES)
def test_a_bad_argument_raises_before_any_variable_exists(layer, name):
    message = assert_fails_cleanly_then_works(layer, (TypeError, ValueError), name,
                                              **{name: BAD_VALUES[name]})
    assert repr(BAD_VALUES[name]) in message  # what was received


# --- the defect as QA found it ------------------------------------------------------------

def test_a_corrected_padding_reruns_with_the_same_scope():
    x = slim.tensor(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv2d 'conv2': padding must be 'SAME', 'VALID' or .*got 'FULL'"):
        slim.conv2d(x, 2, 3, padding="FULL", scope="conv2")
    assert slim.get_variables() == []
    assert slim.conv2d(x, 2, 3, scope="conv2").shape == (1, 5, 5, 2)


def test_an_activation_fn_that_is_a_string_names_the_layer_and_creates_nothing():
    x = slim.tensor(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(TypeError, match=r"conv2d 'conv1': activation_fn must be a function such as "
                                        r"slim.nn.relu, or None; got 'relu' \(str\)"):
        slim.conv2d(x, 2, 3, activation_fn="relu", scope="conv1")
    assert slim.get_variables() == []
    assert slim.conv2d(x, 2, 3, activation_fn=slim.nn.relu, scope="conv1").shape == (1, 5, 5, 2)


# --- checks that depend on the inputs or combine arguments -----------------------------------

@pytest.mark.parametrize("layer, changes, parts", [
    ("conv2d", {"kernel_size": 7, "padding": "VALID"}, ["padding='VALID' needs the kernel to fit"]),
    ("conv2d", {"stride": 2, "rate": 2}, ["rate 2 > 1 needs stride 1"]),
    ("conv2d", {"padding": ((1, -1), (0, 0))}, ["explicit padding must not be negative"]),
    ("separable_conv2d", {"kernel_size": 3, "rate": 3, "padding": "VALID"}, ["dilated kernel spans 7"]),
    ("separable_conv2d", {"num_outputs": 0}, ["num_outputs must be a positive int"]),
    ("conv2d_transpose", {"padding": ((5, 5), (5, 5))}, ["padding=((5, 5), (5, 5)) leaves an empty output"]),
    ("conv2d_transpose", {"padding": "full"}, ["padding must be 'SAME', 'VALID'", "'full'"]),
    ("conv2d", {"normalizer_fn": slim.batch_norm, "normalizer_params": {"decy": 0.9}},
     ["normalizer_params {'decy': 0.9}", "batch_norm does not accept", "'decy'"]),
    ("conv2d", {"normalizer_fn": slim.batch_norm, "normalizer_params": {"decay": 1.5}},
     ["normalizer_params['decay'] must be a number in [0, 1]; got 1.5"]),
    ("fully_connected", {"normalizer_fn": slim.batch_norm, "normalizer_params": {"is_training": "no"}},
     ["normalizer_params['is_training'] must be True or False"]),
    ("fully_connected", {"activation_fn": lambda: 0}, ["activation_fn(outputs)", "<lambda> does not accept"]),
    ("batch_norm", {"param_initializers": {"moving_avg": slim.zeros_initializer()}},
     ["param_initializers has unknown keys ['moving_avg']"]),
    ("layer_norm", {"begin_norm_axis": 2}, ["begin_norm_axis (2) must be < rank(inputs) (2)"]),
    ("conv2d", {"inputs": np.zeros((2, 6, 3), np.float32)}, ["inputs must be [N, H, W, C], got shape (2, 6, 3)"]),
    ("fully_connected", {"inputs": slim.tensor(features().astype(np.float64))}, ["inputs have dtype float64"]),
    ("bias_add", {"inputs": np.zeros(3, np.float32)}, ["inputs must have rank >= 2"]),
])
def test_input_dependent_errors_also_come_before_any_variable(layer, changes, parts):
    assert_fails_cleanly_then_works(layer, (TypeError, ValueError), *parts, **changes)


def test_the_padding_message_is_the_convolution_ops_message():
    x = images()
    with pytest.raises(ValueError) as op_error:
        slim.nn.conv2d(x, np.zeros((3, 3, 3, 4), np.float32), padding="FULL")
    with pytest.raises(ValueError) as layer_error:
        slim.conv2d(x, 4, 3, padding="FULL", scope="c")
    assert str(op_error.value).startswith("conv2d: ")
    assert str(layer_error.value) == "conv2d 'c': " + str(op_error.value)[len("conv2d: "):]


def test_arguments_that_are_right_pass_the_checks():
    x = images()
    y = slim.conv2d(x, 4, (3, 3), stride=np.int64(1), padding="valid", rate=[1, 1], data_format="NHWC",
                    normalizer_fn=slim.batch_norm, normalizer_params={"decay": 0.9, "is_training": False},
                    weights_regularizer=slim.l2_regularizer(0.1), variables_collections={"weights": ["w"]},
                    outputs_collections="ends", trainable=np.bool_(True), scope="conv")
    assert y.shape == (2, 4, 4, 4)
    assert [v.name for v in slim.get_collection("w")] == ["conv/weights"]
    assert slim.conv2d_transpose(x, 2, 3, padding=((1, 1), (0, 0)), scope="up").shape == (2, 6, 8, 2)


def test_a_single_collection_name_is_a_list_of_one():
    slim.fully_connected(features(), 2, variables_collections="mine", scope="fc")
    assert [v.name for v in slim.get_collection("mine")] == ["fc/weights", "fc/biases"]


# --- layers without variables name their scope too -----------------------------------------

@pytest.mark.parametrize("call_layer, message", [
    (lambda: slim.max_pool2d(images(), 2, padding="FULL", scope="pool"), "max_pool2d 'pool': padding must be"),
    (lambda: slim.avg_pool2d(images(), 2, data_format="NCHW", scope="pool"), "avg_pool2d 'pool': data_format"),
    (lambda: slim.dropout(images(), is_training="no", scope="drop"), "dropout 'drop': is_training must be"),
    (lambda: slim.dropout(images(), noise_shape="abc", scope="drop"), "dropout 'drop': noise_shape must be"),
    (lambda: slim.flatten(images(), outputs_collections=3, scope="flat"), "flatten 'flat': outputs_collections"),
    (lambda: slim.one_hot_encoding([0, 1], 2, on_value="hot", scope="oh"), "one_hot_encoding 'oh': on_value"),
])
def test_layers_without_variables_name_the_scope_and_argument(call_layer, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call_layer()
