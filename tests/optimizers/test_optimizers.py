"""Each optimizer against its update rule computed by hand over three steps, plus the
contracts: slots have names and own their buffers, float32 stays float32, the state
round-trips, gradients are never modified."""
import numpy as np
import pytest

import minislim as slim
from minislim.optimizers import SGD, Adam, Momentum, RMSProp, piecewise_constant
from minislim.autograd.tensor import Tensor

W0 = np.array([1.0, -2.0, 0.5])
GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.75, 1.0]), np.array([1.5, 0.1, -3.0])]


def named(value, name: str, dtype=np.float64) -> Tensor:
    """A named tensor standing in for a variable (an optimizer needs .name, .data, .grad)."""
    tensor = Tensor(np.array(value, dtype=dtype), requires_grad=np.dtype(dtype).kind == "f")
    tensor.name = name
    return tensor


def run(optimizer, grads=GRADS, w0=W0, dtype=np.float64):
    w = named(w0, "w", dtype)
    for g in grads:
        optimizer.apply_gradients([(g.astype(dtype), w)])
    return w


def test_sgd_subtracts_the_scaled_gradient_three_times():
    w = run(SGD(0.1))
    np.testing.assert_allclose(w.data, W0 - 0.1 * (GRADS[0] + GRADS[1] + GRADS[2]), rtol=0, atol=1e-15)


def test_momentum_uses_tf_accumulator_form():
    lr, mu = 0.1, 0.9
    w, accum = W0.copy(), np.zeros(3)
    for g in GRADS:
        accum = mu * accum + g
        w = w - lr * accum
    opt = Momentum(lr, mu)
    out = run(opt)
    np.testing.assert_allclose(out.data, w, rtol=1e-15)
    np.testing.assert_allclose(opt.get_slot(out, "momentum").data, accum, rtol=1e-15)


def test_nesterov_momentum_looks_ahead():
    lr, mu = 0.1, 0.9
    w, accum = W0.copy(), np.zeros(3)
    for g in GRADS:
        accum = mu * accum + g
        w = w - lr * (g + mu * accum)
    np.testing.assert_allclose(run(Momentum(lr, mu, use_nesterov=True)).data, w, rtol=1e-15)


def test_adam_matches_the_tf_formula():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    w, m, v = W0.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - lr_t * m / (np.sqrt(v) + eps)
    opt = Adam(lr, b1, b2, eps)
    out = run(opt)
    np.testing.assert_allclose(out.data, w, rtol=1e-14)
    np.testing.assert_allclose(opt.get_slot(out, "m").data, m, rtol=1e-14)
    np.testing.assert_allclose(opt.get_slot(out, "v").data, v, rtol=1e-14)


@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_matches_tf1_with_rms_starting_at_one(centered):
    lr, decay, mu, eps = 0.01, 0.9, 0.5, 1e-10
    w, rms, mom, mg = W0.copy(), np.ones(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        rms = decay * rms + (1 - decay) * g * g
        denominator = rms + eps
        if centered:
            mg = decay * mg + (1 - decay) * g
            denominator = denominator - mg * mg
        mom = mu * mom + lr * g / np.sqrt(denominator)
        w = w - mom
    opt = RMSProp(lr, decay=decay, momentum=mu, epsilon=eps, centered=centered)
    np.testing.assert_allclose(run(opt).data, w, rtol=1e-14)
    assert opt.get_slot_names() == (["rms", "momentum", "mg"] if centered else ["rms", "momentum"])


def test_schedule_sees_the_global_step_before_the_increment():
    step = named(np.int64(0), "global_step", np.int64)
    opt = SGD(piecewise_constant([1], [1.0, 0.5]))
    w = named([0.0], "w")
    for _ in range(3):  # steps 0 and 1 use 1.0, step 2 uses 0.5
        opt.apply_gradients([(np.array([1.0]), w)], global_step=step)
    assert int(step.data) == 3
    np.testing.assert_allclose(w.data, [-2.5])


def test_schedule_without_global_step_counts_updates():
    opt = SGD(piecewise_constant([0], [1.0, 0.1]))
    w = run(opt, grads=[np.ones(3), np.ones(3)])
    np.testing.assert_allclose(w.data, W0 - 1.1)
    assert opt.iterations == 2


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: Momentum(0.1, 0.9, use_nesterov=True),
                                  lambda: Adam(0.1), lambda: RMSProp(0.1, momentum=0.9, centered=True)])
def test_float32_stays_float32_with_a_float64_schedule_value(make):
    opt = make()
    opt.learning_rate = lambda step: np.float64(0.1)
    w = run(opt, dtype=np.float32)
    assert w.dtype == np.float32
    for name in opt.get_slot_names():
        assert opt.get_slot(w, name).dtype == np.float32


@pytest.mark.parametrize("make", [lambda: Momentum(0.1, 0.9), lambda: Adam(0.1), lambda: RMSProp(0.1, momentum=0.9)])
def test_slots_have_names_and_own_buffers_and_gradients_are_not_touched(make):
    opt = make()
    w = named(W0, "fc/weights")
    grads = [g.copy() for g in GRADS]
    for g in grads:
        w.grad = g  # as after backward: the gradient buffer is the variable's .grad
        opt.apply_gradients([(g, w)])
    for g, original in zip(grads, GRADS):
        np.testing.assert_array_equal(g, original)
    slots = [opt.get_slot(w, name) for name in opt.get_slot_names()]
    assert [s.name for s in slots] == [f"fc/weights/{name}" for name in opt.get_slot_names()]
    buffers = [w.data, w.grad] + [s.data for s in slots]
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            assert not np.shares_memory(a, b)


def test_compute_gradients_clears_old_gradients_and_reports_unused_variables():
    w, unused = named([2.0], "w"), named([1.0], "unused")
    w.grad = np.array([100.0])  # stale: must not be added to
    loss = (w * w).sum()
    pairs = SGD(0.1).compute_gradients(loss, [w, unused])
    np.testing.assert_allclose(pairs[0][0], [4.0])
    assert pairs[1] == (None, unused)


def test_apply_gradients_without_any_gradient_is_an_error():
    w = named([1.0], "w")
    with pytest.raises(ValueError, match="no gradients provided"):
        SGD(0.1).apply_gradients([(None, w)])


def test_gradient_of_the_wrong_shape_names_the_variable():
    with pytest.raises(ValueError, match="'w'.*shape"):
        SGD(0.1).apply_gradients([(np.ones(2), named([1.0], "w"))])


def test_minimize_finds_the_minimum_of_a_quadratic():
    w = named([3.0, -4.0], "w")
    opt = Momentum(0.1, 0.5)
    for _ in range(100):
        opt.minimize(((w - slim.tensor(np.array([1.0, 2.0]))) ** 2).sum(), [w])
    np.testing.assert_allclose(w.data, [1.0, 2.0], atol=1e-6)


@pytest.mark.parametrize("make", [lambda: Momentum(0.1, 0.9), lambda: Adam(0.1), lambda: RMSProp(0.1, momentum=0.5)])
def test_state_dict_round_trip_continues_identically(make):
    first = make()
    w1 = run(first, grads=GRADS[:2])
    state = {k: v for k, v in first.state_dict().items()}
    second = make()
    w2 = named(w1.data.copy(), "w")
    second.load_state_dict({"iterations": state["iterations"],
                            "slots": {n: {s: a.copy() for s, a in d.items()} for n, d in state["slots"].items()}},
                           {"w": w2})
    first.apply_gradients([(GRADS[2], w1)])
    second.apply_gradients([(GRADS[2], w2)])
    np.testing.assert_array_equal(w1.data, w2.data)
    assert not np.shares_memory(first.get_slot(w1, first.slot_names[0]).data,
                                second.get_slot(w2, second.slot_names[0]).data)


def test_unnamed_variable_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="needs a name"):
        SGD(0.1).apply_gradients([(np.ones(1), slim.tensor([1.0]))])


@pytest.mark.parametrize("bad", [lambda: SGD(-1.0), lambda: Momentum(0.1, 1.0), lambda: Adam(0.1, beta1=1.0),
                                 lambda: RMSProp(0.1, decay=1.5)])
def test_bad_hyperparameters_are_rejected(bad):
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize("bad", [float("nan"), -0.5])
def test_a_schedule_giving_a_bad_rate_is_refused_before_any_variable_changes(bad):
    w = named(W0, "w")
    optimizer = SGD(lambda step: 0.1 if step < 1 else bad)
    optimizer.apply_gradients([(GRADS[0], w)])
    before = w.data.copy()
    with pytest.raises(ValueError, match=r"GradientDescent: the learning-rate schedule gave .* at step 1"):
        optimizer.apply_gradients([(GRADS[1], w)])
    np.testing.assert_array_equal(w.data, before)
