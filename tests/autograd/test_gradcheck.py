"""gradcheck must pass correct backward passes and catch broken ones, in both modes."""
import numpy as np
import pytest

import minislim as slim
from minislim.autograd import Function
from minislim.kernels import softmax as softmax_kernels
from minislim.testing import GradcheckError, gradcheck

MODES = ["full", "fast"]


class ScaleForgetsUpstream(Function):
    """y = 3x, with a backward that forgets to multiply by the upstream gradient."""

    def forward(self, x):
        return 3 * x

    def backward(self, grad_output):
        return (np.full_like(grad_output, 3.0),)  # BUG: should be 3 * grad_output


class SoftmaxZeroBackward(Function):
    """softmax with a backward that returns zeros: right whenever the upstream is all ones."""

    def forward(self, x):
        return softmax_kernels.softmax(x)

    def backward(self, grad_output):
        return (np.zeros_like(grad_output),)  # BUG: ignores the Jacobian


class HalfGradient(Function):
    def forward(self, x):
        return x * x

    def backward(self, grad_output):
        return (grad_output * self.inputs[0].data,)  # BUG: missing the factor 2


@pytest.mark.parametrize("mode", MODES)
def test_catches_a_backward_that_forgets_the_upstream_gradient(mode, rng):
    with pytest.raises(GradcheckError, match="FAIL"):
        gradcheck(lambda x: ScaleForgetsUpstream()(x), [rng.standard_normal((3, 4))], mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_catches_a_zero_softmax_backward_that_a_plain_sum_cannot_see(mode, rng):
    x = rng.standard_normal((2, 5))
    # With a plain sum (upstream all ones) the true gradient of softmax is zero, so the
    # broken backward looks right: that is why gradcheck projects randomly.
    x_t = slim.tensor(x, requires_grad=True)
    slim.nn.softmax(x_t).sum().backward()
    np.testing.assert_allclose(x_t.grad, 0, atol=1e-12)
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: SoftmaxZeroBackward()(t), [x], mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_passes_correct_ops(mode, rng):
    report = gradcheck(lambda a, b: slim.nn.softmax(a @ b), [rng.standard_normal((3, 4)),
                                                              rng.standard_normal((4, 2))], mode=mode)
    assert report.ok and len(report.checks) == 2


def test_report_names_the_input_the_worst_index_and_both_values(rng):
    x = rng.standard_normal((2, 3))
    report = gradcheck(lambda a, b: a * 2.0 + HalfGradient()(b), [x, x.copy()],
                       raise_exception=False, names=["a", "b"])
    assert not report.ok
    good, bad = report.checks
    assert good.ok and not bad.ok
    text = str(report)
    assert "FAIL b (shape (2, 3)) at index" in text and "analytic" in text and "numeric" in text
    assert bad.worst_index in [tuple(i) for i in np.ndindex(2, 3)]
    # analytic is half of the numeric value at the worst element
    assert bad.analytic == pytest.approx(bad.numeric / 2, rel=1e-6)
    assert bad.relative_error == pytest.approx(0.5, rel=1e-6)


def test_a_missing_gradient_is_reported(rng):
    class NoGradient(Function):
        def forward(self, x):
            return 2 * x

        def backward(self, grad_output):
            return (None,)

    with pytest.raises(GradcheckError, match="no gradient"):
        gradcheck(lambda x: NoGradient()(x), [rng.standard_normal(3)])


def test_works_on_float64_copies_and_leaves_the_inputs_alone():
    x = np.array([1.0, 2.0], dtype=np.float32)
    seen = []
    gradcheck(lambda t: (seen.append(t.dtype), t * t)[1], [x])
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32 and x.tolist() == [1.0, 2.0]


def test_never_touches_the_global_numpy_rng():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    gradcheck(lambda t: slim.nn.tanh(t), [np.linspace(-1, 1, 5)], mode="full")
    gradcheck(lambda t: slim.nn.tanh(t), [np.linspace(-1, 1, 5)], mode="fast")
    assert np.random.random() == expected


def test_integer_inputs_are_passed_through_unchecked(rng):
    labels = np.array([0, 2])
    report = gradcheck(lambda logits, lab: slim.nn.log_softmax(logits)[np.arange(2), lab.data].sum(),
                       [rng.standard_normal((2, 3)), labels])
    assert len(report.checks) == 1


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        gradcheck(lambda x: x, [np.ones(2)], mode="quick")


@pytest.mark.parametrize("mode", MODES)
def test_a_single_array_or_tensor_is_the_one_input(mode, rng):
    x = rng.standard_normal((3, 2))  # iterated, its rows used to become three inputs
    for single in (x, slim.tensor(x)):
        report = gradcheck(lambda t: slim.nn.tanh(t), single, mode=mode)
        assert report.ok and len(report.checks) == 1 and report.checks[0].shape == (3, 2)
    with pytest.raises(GradcheckError):  # and a broken backward is still caught
        gradcheck(lambda t: HalfGradient()(t), x, mode=mode)


@pytest.mark.parametrize("inputs", [2.0, {"x": np.ones(2)}, (a for a in [np.ones(2)])], ids=["number", "dict", "generator"])
def test_inputs_that_are_not_a_list_tuple_or_array_are_a_clear_type_error(inputs):
    with pytest.raises(TypeError, match=r"gradcheck: inputs must be a list or tuple of arrays or Tensors.*"
                                        r"gradcheck\(fn, \[x\]\)"):
        gradcheck(lambda x: x * x, inputs)
