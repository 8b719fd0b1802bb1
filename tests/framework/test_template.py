"""make_template: variables created once, reused later; counters restart; per-call collections."""
import numpy as np
import pytest

import minislim as slim
from minislim import GraphKeys


def tiny_model(x):
    """Two "layers" with default names, a loss and an end point, like a real model function."""
    for _ in range(2):
        with slim.variable_scope(None, default_name="Dense") as scope:
            w = slim.model_variable("weights", shape=[], initializer=slim.constant_initializer(2.0))
            x = x * w
            slim.utils.collect_named_outputs("ends", scope.name, x)
    slim.add_to_collection(GraphKeys.LOSSES, x)
    return x


def test_variables_are_created_once_over_three_calls():
    model = slim.make_template("net", tiny_model)
    outputs = [model(slim.tensor(float(i))).item() for i in (1, 2, 3)]
    assert outputs == [4.0, 8.0, 12.0]
    assert [v.name for v in slim.get_variables()] == ["net/Dense/weights", "net/Dense_1/weights"]
    assert model.variable_scope_name == "net"
    assert [v.name for v in model.trainable_variables] == ["net/Dense/weights", "net/Dense_1/weights"]


def test_later_calls_see_updated_values():
    model = slim.make_template("net", tiny_model)
    model(slim.tensor(1.0))
    for v in model.variables:
        v.assign(np.float32(3.0))
    assert model(slim.tensor(1.0)).item() == 9.0


def test_losses_and_end_points_hold_only_the_last_call():
    model = slim.make_template("net", tiny_model)
    for i in range(3):
        last = model(slim.tensor(float(i)))
    assert slim.get_collection(GraphKeys.LOSSES) == [last]
    ends = slim.utils.convert_collection_to_dict("ends")
    assert list(ends) == ["net/Dense", "net/Dense_1"] and ends["net/Dense_1"] is last


def test_losses_added_outside_a_template_are_cleared_at_the_next_call():
    model = slim.make_template("net", tiny_model)
    slim.add_to_collection(GraphKeys.LOSSES, slim.tensor(1.0))
    model(slim.tensor(1.0))
    assert len(slim.get_collection(GraphKeys.LOSSES)) == 1


def test_a_nested_template_call_does_not_clear_the_outer_calls_losses():
    inner = slim.make_template("inner", tiny_model)

    def outer_fn(x):
        slim.add_to_collection(GraphKeys.LOSSES, slim.tensor(0.5))
        return inner(x)

    outer = slim.make_template("outer", outer_fn)
    for _ in range(2):
        outer(slim.tensor(1.0))
    assert len(slim.get_collection(GraphKeys.LOSSES)) == 2
    assert [v.name for v in slim.get_variables()] == ["outer/inner/Dense/weights",
                                                       "outer/inner/Dense_1/weights"]


def test_variable_collections_survive_template_calls():
    def fn(x):
        slim.variable("v", shape=[], collections=["mine", GraphKeys.GLOBAL_VARIABLES])
        return x

    model = slim.make_template("m", fn)
    for _ in range(3):
        model(1)
    assert [v.name for v in slim.get_collection("mine")] == ["m/v"]


def test_templates_with_the_same_name_get_unique_scopes():
    a, b = slim.make_template("tower", tiny_model), slim.make_template("tower", tiny_model)
    a(slim.tensor(1.0))
    b(slim.tensor(1.0))
    assert (a.variable_scope_name, b.variable_scope_name) == ("tower", "tower_1")


def test_unique_name_shares_variables_between_templates():
    a = slim.make_template("tower", tiny_model, unique_name_="shared")
    b = slim.make_template("tower", tiny_model, unique_name_="shared", create_scope_now_=True)
    a(slim.tensor(1.0))
    with pytest.raises(ValueError, match="already exists"):
        b(slim.tensor(1.0))  # b's first call creates: the names are taken


def test_creating_a_new_variable_after_the_first_call_is_an_error():
    calls = []

    def growing(x):
        calls.append(1)
        slim.variable(f"v{len(calls)}", shape=[])
        return x

    model = slim.make_template("g", growing)
    model(0)
    with pytest.raises(ValueError, match="'g/v2' does not exist"):
        model(0)


def test_kwargs_are_bound_to_the_function():
    def scale(x, factor):
        return x * slim.variable("w", shape=[], initializer=slim.constant_initializer(factor))

    model = slim.make_template("s", scale, factor=3.0)
    assert model(slim.tensor(2.0)).item() == 6.0


def test_a_failed_first_call_can_be_retried():
    fail = [True]

    def flaky(x):
        slim.variable("a", shape=[])
        if fail[0]:
            raise RuntimeError("data not ready")
        slim.variable("b", shape=[])
        return x

    model = slim.make_template("f", flaky)
    with pytest.raises(RuntimeError):
        model(0)
    fail[0] = False
    model(0)
    model(0)
    assert [v.name for v in slim.get_variables()] == ["f/a", "f/b"]


def test_a_template_belongs_to_the_graph_of_its_first_call():
    model = slim.make_template("net", tiny_model)
    model(slim.tensor(1.0))
    with slim.Graph().as_default():
        with pytest.raises(ValueError, match="another graph"):
            model(slim.tensor(1.0))


def test_bad_template_arguments():
    with pytest.raises(TypeError, match="name"):
        slim.make_template("", tiny_model)
    with pytest.raises(TypeError, match="callable"):
        slim.make_template("x", 3)


# --- at_root: a template without a scope of its own (slim.learning.model_template) -------------

def test_at_root_keeps_the_functions_own_names_over_three_calls():
    model = slim.framework.template.Template("model", tiny_model, at_root=True)
    assert model.variables == []  # nothing made yet
    outputs = [model(slim.tensor(float(i))).item() for i in (1, 2, 3)]
    assert outputs == [4.0, 8.0, 12.0]
    names = ["Dense/weights", "Dense_1/weights"]  # default names restart at every call
    assert [v.name for v in slim.get_variables()] == names
    assert [v.name for v in model.trainable_variables] == names
    assert model.variable_scope_name == ""
    assert len(slim.get_collection(GraphKeys.LOSSES)) == 1  # per-call collections emptied


def test_at_root_reuses_variables_already_in_the_graph():
    """Training, then evaluating in one notebook: the second template finds the first's variables."""
    train = slim.framework.template.Template("train", tiny_model, at_root=True)
    train(slim.tensor(1.0))
    for v in slim.get_variables():
        v.assign(np.float32(3.0))
    evaluate = slim.framework.template.Template("evaluate", tiny_model, at_root=True)
    assert evaluate(slim.tensor(1.0)).item() == 9.0
    assert len(slim.get_variables()) == 2


def test_at_root_refuses_a_new_variable_after_the_first_call():
    calls = []

    def growing(x):
        calls.append(1)
        w = slim.variable(f"w{len(calls)}", shape=[], initializer=slim.constant_initializer(1.0))
        return x * w

    model = slim.framework.template.Template("model", growing, at_root=True)
    model(slim.tensor(1.0))
    with pytest.raises(ValueError, match="w2"):
        model(slim.tensor(1.0))
