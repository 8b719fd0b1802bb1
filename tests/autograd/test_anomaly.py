"""detect_anomaly(): the first NaN/inf of the forward or the backward pass is named with its
op, layer scope, input statistics and the user's line; outside the block nothing is checked."""
import numpy as np
import pytest

import minislim as slim
from minislim import cli
from minislim.autograd.function import Function
from minislim.autograd.recording import Recording


def test_a_nan_made_in_the_forward_pass_names_op_scope_inputs_and_line():
    x = slim.tensor([4.0, -1.0, 0.5], requires_grad=True)
    with slim.detect_anomaly(), np.errstate(invalid="ignore"):
        with slim.variable_scope("net"), slim.variable_scope("head"):
            with pytest.raises(slim.AnomalyError) as info:
                slim.nn.sqrt(x)  # the line the report must show
    message = str(info.value)
    first = message.splitlines()[0]
    assert first.startswith("detect_anomaly: forward pass of Sqrt in scope 'net/head' made 1 NaN")
    assert "input 0: shape (3,) float32, min -1, max 4, 0 NaN, 0 inf" in message
    assert "test_anomaly.py" in message and "slim.nn.sqrt(x)  # the line the report must show" in message


def test_a_nan_made_in_the_backward_pass_names_the_op_whose_gradient_is_not_finite():
    x = slim.tensor([0.0, 1.0], requires_grad=True)
    with slim.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        with slim.variable_scope("layer"):
            y = slim.nn.sqrt(x)  # forward is finite: sqrt(0) = 0
        loss = (y * 3).sum()
        with pytest.raises(slim.AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("detect_anomaly: backward pass of Sqrt in scope 'layer' made 1 inf "
                              "in the gradient of input 0")
    assert "upstream gradient: shape (2,) float32, min 3, max 3, 0 NaN, 0 inf" in message
    assert "input 0: shape (2,) float32, min 0, max 1" in message
    assert "y = slim.nn.sqrt(x)  # forward is finite" in message


def test_a_layer_call_reports_the_user_line_and_the_layer_code_it_went_through():
    images = np.ones((1, 4, 4, 1), np.float32)
    images[0, 0, 0, 0] = np.inf
    with slim.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(slim.AnomalyError) as info:
            slim.conv2d(images, 2, [3, 3], scope="conv1")
    message = str(info.value)
    assert "in scope 'conv1'" in message.splitlines()[0]
    assert "input 0: shape (1, 4, 4, 1) float32, min 1, max 1, 0 NaN, 1 inf" in message
    assert "slim.conv2d(images, 2, [3, 3], scope=\"conv1\")" in message and "(via " in message


def test_outside_the_block_nothing_is_checked_and_no_line_is_recorded():
    x = slim.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = slim.nn.log(x)
    assert np.isnan(y.data).all() and not hasattr(y.creator, "origin")
    with slim.detect_anomaly():
        z = x * 2
    assert "test_anomaly.py" in z.creator.origin
    assert Recording.anomaly is False  # restored on exit


def test_the_switch_is_restored_when_the_block_raises():
    with pytest.raises(ValueError), slim.detect_anomaly():
        raise ValueError("boom")
    assert Recording.anomaly is False


def test_a_broken_backward_that_returns_nan_is_caught():
    class BrokenDouble(Function):
        def forward(self, x):
            return 2 * x

        def backward(self, grad_output):
            return (grad_output * np.nan,)

    x = slim.tensor([1.0, 2.0], requires_grad=True)
    with slim.detect_anomaly():
        y = BrokenDouble()(x)
        with pytest.raises(slim.AnomalyError, match="backward pass of BrokenDouble .* made 2 NaN"):
            y.sum().backward()


def test_cli_detect_anomaly_stops_a_diverging_run_and_names_the_layer(tmp_path, capsys):
    # lr 1e15: the updates stay finite (float32) while the weights grow, until an op of the
    # forward pass overflows (vgg_cifar's classifier starts at zero, so the convolutions move
    # from the second step on)
    args = ["train", "--net", "vgg_cifar", "--train-size", "32", "--batch-size", "16", "--steps", "6",
        "--learning-rate", "1e15", "--weight-decay", "0", "--log-every", "1", "--logdir", str(tmp_path / "run"),
        "--detect-anomaly"]
    code = cli.main(args)
    out, err = capsys.readouterr()
    assert code == 1
    assert "detect_anomaly: checking every op" in out
    first = err.splitlines()[0]
    assert first.startswith("minislim train: error: detect_anomaly: ")
    assert "in scope 'vgg_cifar/" in first
    assert "created at " in err and "minislim/" in err
