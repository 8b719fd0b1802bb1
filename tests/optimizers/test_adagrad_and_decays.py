"""Adagrad (TF 1's AdagradOptimizer) and TF 1's polynomial / natural_exp / inverse_time decays."""
import math

import numpy as np
import pytest

import minislim as slim
from minislim.optimizers import (Adagrad, exponential_decay, inverse_time_decay, natural_exp_decay,
                                 polynomial_decay)


def test_adagrad_matches_its_update_rule_over_several_steps(rng):
    w = slim.tensor(rng.normal(size=(3, 2)))
    w.name = "w"
    opt = Adagrad(0.3)
    expected, accumulator = w.data.copy(), np.full((3, 2), 0.1)
    for _ in range(4):
        g = rng.normal(size=(3, 2))
        opt.apply_gradients([(g, w)])
        accumulator += g * g
        expected -= 0.3 * g / np.sqrt(accumulator)
    np.testing.assert_allclose(w.data, expected, rtol=1e-14)
    np.testing.assert_allclose(opt.get_slot(w, "accumulator").data, accumulator, rtol=1e-14)
    assert opt.get_slot_names() == ["accumulator"]
    with pytest.raises(ValueError, match="initial_accumulator_value must be a finite number > 0"):
        Adagrad(0.1, initial_accumulator_value=0.0)


def test_polynomial_decay_holds_the_end_rate_or_cycles():
    lr = polynomial_decay(0.1, 100, end_learning_rate=0.01, power=0.5)
    assert lr(64) == pytest.approx(0.09 * math.sqrt(1 - 0.64) + 0.01)
    assert lr(100) == lr(1000) == pytest.approx(0.01)
    cyc = polynomial_decay(0.1, 100, end_learning_rate=0.0, cycle=True)
    assert cyc(0) == pytest.approx(0.1) and cyc(100) == pytest.approx(0.0)
    assert cyc(101) == pytest.approx(0.1 * (1 - 101 / 200))  # the next cycle is 200 steps long


def test_natural_exp_and_inverse_time_decays_and_staircases():
    assert natural_exp_decay(0.5, 10, 0.3)(25) == pytest.approx(0.5 * math.exp(-0.3 * 2.5))
    assert natural_exp_decay(0.5, 10, 0.3, staircase=True)(25) == pytest.approx(0.5 * math.exp(-0.6))
    assert inverse_time_decay(0.5, 10, 0.3)(25) == pytest.approx(0.5 / (1 + 0.75))
    assert inverse_time_decay(0.5, 10, 0.3, staircase=True)(25) == pytest.approx(0.5 / 1.6)
    with pytest.raises(ValueError, match="decay_steps must be a positive number"):
        natural_exp_decay(0.5, 0, 0.3)


def test_exponential_decay_divides_by_a_float_decay_steps_as_tf_does():
    # TF casts decay_steps to the rate's dtype: 2.5 steps is not truncated to 2.
    assert exponential_decay(1.0, 2.5, 0.5)(5) == pytest.approx(0.25)
    assert exponential_decay(1.0, 2.5, 0.5, staircase=True)(4) == pytest.approx(0.5)


@pytest.mark.parametrize("decay", [exponential_decay, polynomial_decay, natural_exp_decay, inverse_time_decay])
def test_tf1s_global_step_argument_is_a_clear_type_error(decay):
    # TF 1: tf.compat.v1.train.exponential_decay(learning_rate, global_step, decay_steps, ...);
    # minislim's schedules are functions of the step, so the ported call names the difference.
    step = slim.get_or_create_global_step()
    step.assign(np.array(5, np.int64))  # a positive step must not pass for decay_steps either
    with pytest.raises(TypeError, match=f"{decay.__name__}: decay_steps must be a number, got a Tensor .*take no "
                                        "global_step"):
        decay(0.1, step, 1000, 0.5)
