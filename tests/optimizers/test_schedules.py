"""Learning-rate schedules: values at chosen steps, against the formulas."""
import math

import pytest

from minislim.optimizers import cosine_decay, exponential_decay, piecewise_constant


def test_exponential_decay_continuous_and_staircase():
    smooth = exponential_decay(0.1, decay_steps=100, decay_rate=0.5)
    stairs = exponential_decay(0.1, decay_steps=100, decay_rate=0.5, staircase=True)
    assert smooth(0) == 0.1
    assert smooth(50) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert smooth(250) == pytest.approx(0.1 * 0.5 ** 2.5)
    assert [stairs(s) for s in (0, 99, 100, 199, 250)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_piecewise_constant_boundaries_belong_to_the_left_interval_like_tf():
    lr = piecewise_constant([10, 20], [1.0, 0.5, 0.1])
    assert [lr(s) for s in (0, 10, 11, 20, 21, 1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_piecewise_constant_validates_its_arguments():
    with pytest.raises(ValueError, match="one more value"):
        piecewise_constant([10], [1.0])
    with pytest.raises(ValueError, match="increase"):
        piecewise_constant([10, 5], [1.0, 2.0, 3.0])


def test_cosine_decay_from_start_to_alpha():
    lr = cosine_decay(0.2, decay_steps=100, alpha=0.1)
    assert lr(0) == pytest.approx(0.2)
    assert lr(25) == pytest.approx(0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi / 4)) + 0.1))
    assert lr(100) == pytest.approx(0.02)
    assert lr(500) == pytest.approx(0.02)


def test_cosine_decay_with_linear_warmup():
    lr = cosine_decay(1.0, decay_steps=10, warmup_steps=4, warmup_learning_rate=0.2)
    assert [lr(s) for s in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert lr(9) == pytest.approx(0.5)    # halfway through the cosine (step 4 + 5)
    assert lr(14) == pytest.approx(0.0)


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_a_bad_step_is_rejected(bad):
    with pytest.raises((TypeError, ValueError)):
        exponential_decay(0.1, 10, 0.5)(bad)


@pytest.mark.parametrize("make", [
    lambda rate: exponential_decay(rate, decay_steps=10, decay_rate=0.5),
    lambda rate: cosine_decay(rate, decay_steps=10),
    lambda rate: cosine_decay(0.1, decay_steps=10, warmup_steps=2, warmup_learning_rate=rate),
    lambda rate: piecewise_constant([5], [0.1, rate]),
])
@pytest.mark.parametrize("rate", [-0.1, math.nan, math.inf])
def test_a_rate_that_is_negative_or_not_finite_is_refused(make, rate):
    """A negative rate would climb the loss; a NaN one would poison every weight."""
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        make(rate)


def test_a_decay_factor_that_is_not_a_number_is_a_type_error():
    with pytest.raises(TypeError, match="exponential_decay: decay_rate must be a number, got 'fast'"):
        exponential_decay(0.1, decay_steps=10, decay_rate="fast")
