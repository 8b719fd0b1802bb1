"""create_train_op: the step, clipping, multipliers, variable selection, checks, naming."""
import numpy as np
import pytest

import minislim as slim
from minislim.learning import NonFiniteError, create_train_op

X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], np.float32)
Y = np.array([1.0, -2.0, 0.0], np.float32)


def linear_loss(x, y):
    with slim.variable_scope("linear"):
        w = slim.variable("weights", initializer=np.array([[0.5], [-0.5]], np.float32))
        b = slim.variable("biases", initializer=np.array([0.1], np.float32))
    prediction = (x @ w + b).reshape([-1])
    slim.losses.mean_squared_error(prediction, y)
    return slim.losses.get_total_loss()


def manual_gradients():
    w, b = np.array([[0.5], [-0.5]]), np.array([0.1])
    residual = (X @ w + b).ravel() - Y
    return {"linear/weights": (2 * X.T @ residual / 3)[:, None], "linear/biases": np.array([2 * residual.mean()])}


def test_step_updates_returns_loss_and_counts_global_steps():
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1))
    loss = op(X, Y)
    expected = manual_gradients()
    w, b = slim.get_variables_by_name("weights")[0], slim.get_variables_by_name("biases")[0]
    np.testing.assert_allclose(w.data, np.array([[0.5], [-0.5]]) - 0.1 * expected["linear/weights"], rtol=1e-6)
    np.testing.assert_allclose(b.data, 0.1 - 0.1 * expected["linear/biases"], rtol=1e-6)
    assert isinstance(loss, float) and loss == pytest.approx(np.mean(((X @ [[0.5], [-0.5]]).ravel() + 0.1 - Y) ** 2))
    op(X, Y)
    assert int(op.global_step.data) == 2 and slim.get_global_step() is op.global_step


def test_variables_keep_their_own_names_and_losses_do_not_pile_up():
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1))
    for _ in range(3):
        op(X, Y)
    assert [v.name for v in slim.get_trainable_variables()] == ["linear/weights", "linear/biases"]
    assert len(slim.losses.get_losses()) == 1


def test_clip_gradient_norm_clips_each_tensor():
    op = create_train_op(linear_loss, slim.optimizers.SGD(1.0), clip_gradient_norm=0.1)
    op(X, Y)
    expected = manual_gradients()
    for grad, var in op.last_grads_and_vars:
        raw = expected[var.name]
        scale = min(1.0, 0.1 / np.linalg.norm(raw))
        np.testing.assert_allclose(grad, raw * scale, rtol=1e-5)
        assert np.linalg.norm(grad) <= 0.1 + 1e-6


def test_clip_global_norm_scales_all_gradients_together():
    op = create_train_op(linear_loss, slim.optimizers.SGD(1.0), clip_global_norm=0.5)
    op(X, Y)
    expected = manual_gradients()
    total = np.sqrt(sum(np.sum(g ** 2) for g in expected.values()))
    assert op.last_global_norm == pytest.approx(total, rel=1e-5)
    for grad, var in op.last_grads_and_vars:
        np.testing.assert_allclose(grad, expected[var.name] * 0.5 / total, rtol=1e-5)


def test_gradient_multipliers_by_name_and_by_variable():
    op = create_train_op(linear_loss, slim.optimizers.SGD(1.0), gradient_multipliers={"linear/biases": 0.0})
    op(X, Y)
    assert slim.get_variables_by_name("biases")[0].data.tolist() == pytest.approx([0.1])
    slim.reset_default_graph()
    op = create_train_op(linear_loss, slim.optimizers.SGD(1.0), gradient_multipliers={"linear/nope": 2.0})
    with pytest.raises(ValueError, match="linear/nope"):
        op(X, Y)


def test_variables_to_train_limits_the_update():
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1))
    op.build(X, Y)
    w, b = slim.get_trainable_variables()
    op.variables_to_train = [w]
    before = b.data.copy()
    op(X, Y)
    np.testing.assert_array_equal(b.data, before)


@pytest.mark.parametrize("chosen", ["linear/weights", ["linear/weights"], ["linear/w"]])
def test_variables_to_train_takes_names_and_scopes_resolved_once_the_model_exists(chosen):
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1), variables_to_train=chosen)
    op(X, Y)
    (w,) = slim.get_variables_by_name("weights")
    (b,) = slim.get_variables_by_name("biases")
    assert [v.name for v in op.variables()] == ["linear/weights"]
    assert b.data.tolist() == pytest.approx([0.1]) and w.data.tolist() != [[0.5], [-0.5]]  # b untouched


def test_variables_to_train_refuses_an_empty_list_a_bad_item_and_an_unknown_scope():
    with pytest.raises(ValueError, match="variables_to_train is empty.*give scope names"):
        create_train_op(linear_loss, slim.optimizers.SGD(0.1), variables_to_train=slim.get_trainable_variables("x"))
    with pytest.raises(TypeError, match="variables or names/scopes .*got 3"):
        create_train_op(linear_loss, slim.optimizers.SGD(0.1), variables_to_train=[3])
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1), variables_to_train=["logits"])
    with pytest.raises(ValueError, match=r"'logits' matches no trainable variable \(they are \['linear/weights'"):
        op(X, Y)


def test_build_creates_variables_without_training():
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1))
    op.build(X, Y)
    assert int(op.global_step.data) == 0
    assert slim.get_variables_by_name("weights")[0].data.tolist() == [[0.5], [-0.5]]


def test_non_finite_loss_stops_before_changing_anything():
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1))
    op(X, Y)
    w = slim.get_variables_by_name("weights")[0]
    before = w.data.copy()
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="step 2: the loss is nan"):
        op(bad, Y)
    np.testing.assert_array_equal(w.data, before)
    assert int(op.global_step.data) == 1


def test_non_finite_gradient_is_caught_too():
    def loss_fn(x):
        w = slim.variable("w", initializer=np.array([0.0], np.float32))
        return (slim.nn.sqrt(w * w) + x).sum()  # d sqrt(w^2)/dw at 0 is 0/0
    op = create_train_op(loss_fn, slim.optimizers.SGD(0.1))
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError, match=r"gradients of \['w'\] are not finite"):
        op(np.ones(1, np.float32))


def test_check_numerics_off_lets_nan_through():
    op = create_train_op(linear_loss, slim.optimizers.SGD(0.1), check_numerics=False)
    bad = X.copy()
    bad[0, 0] = np.nan
    assert np.isnan(op(bad, Y))


def test_loss_fn_must_return_a_scalar_tensor():
    op = create_train_op(lambda x: slim.tensor(x) * 2, slim.optimizers.SGD(0.1))
    with pytest.raises(TypeError, match="scalar Tensor"):
        op(X)


def test_a_template_is_used_as_it_is():
    template = slim.make_template("net", linear_loss)
    create_train_op(template, slim.optimizers.SGD(0.1))(X, Y)
    assert [v.name for v in slim.get_trainable_variables()] == ["net/linear/weights", "net/linear/biases"]


def test_model_template_wraps_a_function_at_the_root_and_passes_templates_through():
    from minislim.framework.template import Template

    def model(x):
        with slim.variable_scope("dense"):
            w = slim.variable("w", shape=[], initializer=slim.constant_initializer(2.0))
        return x * w

    wrapped = slim.learning.model_template(model)
    assert isinstance(wrapped, Template) and wrapped.name == "model"
    assert [wrapped(slim.tensor(3.0)).item() for _ in range(2)] == [6.0, 6.0]
    assert [v.name for v in slim.get_variables()] == ["dense/w"]  # TF-Slim's names, no prefix
    named = slim.make_template("net", model)
    assert slim.learning.model_template(named) is named
    with pytest.raises(TypeError, match="expected a function"):
        slim.learning.model_template(42)
