"""Graph: the default graph, collections, dtype and the seeded random streams."""
import json

import numpy as np
import pytest

import minislim as slim
from minislim.framework.graph import Deferred


def test_there_is_always_a_default_graph_and_as_default_nests():
    outer = slim.get_default_graph()
    g1, g2 = slim.Graph(), slim.Graph()
    with g1.as_default():
        assert slim.get_default_graph() is g1
        with g2.as_default():
            assert slim.get_default_graph() is g2
        assert slim.get_default_graph() is g1
    assert slim.get_default_graph() is outer


def test_as_default_is_restored_when_the_block_raises():
    outer = slim.get_default_graph()
    with pytest.raises(KeyError):
        with slim.Graph().as_default():
            raise KeyError("boom")
    assert slim.get_default_graph() is outer


def test_reset_default_graph_forgets_variables():
    slim.variable("v", shape=[2])
    old = slim.get_default_graph()
    slim.reset_default_graph()
    assert slim.get_default_graph() is not old
    assert slim.get_variables() == []
    slim.variable("v", shape=[2])  # the name is free again


def test_reset_default_graph_inside_a_nested_graph_is_refused():
    with slim.Graph().as_default():
        with pytest.raises(RuntimeError, match="as_default"):
            slim.reset_default_graph()


def test_variables_take_the_graph_dtype_unless_told_otherwise():
    with slim.Graph(dtype="float64").as_default():
        assert slim.variable("a", shape=[2]).dtype == np.float64
        assert slim.variable("b", shape=[2], dtype="float32").dtype == np.float32
    assert slim.variable("c", shape=[2]).dtype == np.float32


def test_graph_dtype_must_be_floating():
    with pytest.raises(TypeError, match="floating"):
        slim.Graph(dtype="int32")


def test_collections_append_in_order_and_filter_by_scope_prefix():
    class Named:
        def __init__(self, name):
            self.name = name
    a, b, c = Named("net/fc1"), Named("net/fc2"), Named("other/fc1")
    for item in (a, b, c):
        slim.add_to_collection("things", item)
    assert slim.get_collection("things") == [a, b, c]
    assert slim.get_collection("things", scope="net/") == [a, b]
    slim.get_collection("things").append("not stored")  # a copy is returned
    assert len(slim.get_collection("things")) == 3
    slim.clear_collection("things")
    assert slim.get_collection("things") == []


def test_add_to_collections_adds_once_per_name():
    slim.add_to_collections(["x", "y", "x"], 1)
    assert slim.get_collection("x") == [1] and slim.get_collection("y") == [1]


def test_a_collection_name_must_be_a_string():
    with pytest.raises(TypeError, match="collection name"):
        slim.add_to_collection(3, "value")


def test_deferred_items_are_computed_when_read_and_none_is_skipped():
    calls = []

    class Counter(Deferred):
        name = "counter"

        def evaluate(self):
            calls.append(1)
            return len(calls) if len(calls) < 3 else None

    slim.add_to_collection("lazy", Counter())
    assert slim.get_collection("lazy") == [1]
    assert slim.get_collection("lazy") == [2]
    assert slim.get_collection("lazy") == []


def test_rng_returns_the_same_generator_for_a_stream():
    g = slim.Graph()
    assert g.rng("dropout") is g.rng("dropout")
    assert g.rng("dropout") is not g.rng("initializers")


def test_streams_are_independent_of_each_other():
    g1, g2 = slim.Graph(), slim.Graph()
    g1.rng("dropout").random(100)  # drawing dropout masks...
    # ...does not move the initializer stream
    assert g1.rng("initializers").random() == g2.rng("initializers").random()
    assert g1.rng("a").random() != g1.rng("b").random()


def test_set_random_seed_reseeds_generators_in_place():
    g = slim.Graph()
    kept = g.rng("data")
    g.set_random_seed(5)
    first = kept.random(3)
    g.set_random_seed(5)
    assert np.array_equal(kept.random(3), first)
    g.set_random_seed(6)
    assert not np.array_equal(kept.random(3), first)
    assert g.seed == 6


def test_the_seed_must_be_a_non_negative_int():
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(TypeError, match="seed"):
            slim.Graph().set_random_seed(bad)


def test_module_set_random_seed_also_seeds_the_nn_generator():
    slim.set_random_seed(3)
    x = slim.tensor(np.ones(50))
    a = slim.nn.dropout(x, 0.5).data
    init = slim.truncated_normal_initializer()([4])
    slim.set_random_seed(3)
    assert np.array_equal(slim.nn.dropout(x, 0.5).data, a)
    assert np.array_equal(slim.truncated_normal_initializer()([4]), init)


def test_rng_state_round_trips_through_json():
    slim.get_rng("data").random(5)
    state = json.loads(json.dumps(slim.get_rng_state()))
    expected = (slim.get_rng("data").random(4), slim.get_rng("other").random(2))
    slim.set_random_seed(99)
    slim.set_rng_state(state)
    assert np.array_equal(slim.get_rng("data").random(4), expected[0])
    assert np.array_equal(slim.get_rng("other").random(2), expected[1])


def test_a_new_graph_is_reproducible_by_default():
    values = []
    for _ in range(2):
        with slim.Graph().as_default():
            values.append(slim.variable("w", shape=[3, 3]).data.copy())
    assert np.array_equal(values[0], values[1])


def _nn_mask():
    """A mask drawn by slim.nn's random ops from their default generator (no ``rng``)."""
    return slim.nn.dropout(slim.tensor(np.ones(64)), 0.5).data.copy()


def test_each_new_graph_starts_nn_ops_from_its_own_seed():
    masks = []
    for _ in range(2):
        with slim.Graph().as_default():
            masks.append(_nn_mask())
    assert np.array_equal(masks[0], masks[1])
    with slim.Graph(seed=3).as_default():
        assert not np.array_equal(_nn_mask(), masks[0])


def test_a_seed_set_inside_a_closed_block_does_not_reach_the_next_graph():
    with slim.Graph().as_default():
        expected = _nn_mask()
    with slim.Graph().as_default():
        slim.set_random_seed(7)
        _nn_mask()
    with slim.Graph().as_default():
        assert np.array_equal(_nn_mask(), expected)


def test_leaving_a_block_gives_nn_ops_back_the_outer_graphs_generator():
    outer = slim.Graph()
    with outer.as_default():
        first = _nn_mask()
    reference = slim.Graph()
    with reference.as_default():
        _nn_mask()
        expected = _nn_mask()
    with outer.as_default():
        with slim.Graph().as_default():
            _nn_mask()  # draws from the inner graph only
        assert np.array_equal(_nn_mask(), expected)
    assert not np.array_equal(first, expected)


def test_the_global_default_graph_drives_nn_ops_outside_any_block():
    slim.set_random_seed(4)
    expected = _nn_mask()
    with slim.Graph().as_default():
        _nn_mask()
    slim.reset_default_graph()  # a fresh global graph: seed 0 again
    slim.set_random_seed(4)
    assert np.array_equal(_nn_mask(), expected)
    unused = slim.Graph(seed=4).rng("nn").bit_generator.state
    assert slim.get_rng("nn").bit_generator.state != unused  # the mask came from that stream


def test_rng_state_restores_the_nn_ops_generator():
    _nn_mask()
    state = json.loads(json.dumps(slim.get_rng_state()))
    expected = _nn_mask()
    slim.set_random_seed(99)
    slim.set_rng_state(state)
    assert np.array_equal(_nn_mask(), expected)


def test_rng_state_saved_with_a_separate_nn_entry_still_restores_it():
    nn_state = np.random.default_rng(5).bit_generator.state  # the format before "nn" was a stream
    slim.set_rng_state({"graph": slim.get_default_graph().get_rng_state(), "nn": nn_state})
    assert np.array_equal(_nn_mask(),
                          slim.nn.dropout(slim.tensor(np.ones(64)), 0.5, rng=np.random.default_rng(5)).data)


def test_a_graph_registers_each_variable_name_once():
    from minislim.framework.variables import Variable

    g = slim.Graph()
    with g.as_default():
        w = slim.variable("w", shape=[1])
        assert g.find_variable("w") is w and g.find_variable("b") is None
        assert g.unique_variable_name("w") == "w_1" and g.unique_variable_name("b") == "b"
        with pytest.raises(ValueError, match="'w' exists already"):
            g.add_variable(Variable(np.zeros(1, np.float32), name="w"), [slim.GraphKeys.GLOBAL_VARIABLES])
        assert [v.name for v in slim.get_variables()] == ["w"]


def test_a_template_call_empties_what_a_call_filled_but_not_persistent_collections():
    g = slim.Graph()
    with g.template_call():
        g.add_to_collection("scratch", 1)
        g.add_to_collection("kept", 2, persistent=True)
        with g.template_call():  # an inner call empties nothing
            assert (g.get_collection("scratch"), g.get_collection("kept")) == ([1], [2])
    with g.template_call():
        assert (g.get_collection("scratch"), g.get_collection("kept")) == ([], [2])


def test_each_graph_has_its_own_open_scopes_and_default_name_counters():
    g = slim.Graph()
    with slim.variable_scope("outer"), slim.variable_scope(None, default_name="Conv"):
        with g.as_default():
            assert slim.get_variable_scope().name == "" and g.scopes.innermost() is None
            with slim.variable_scope(None, default_name="Conv") as scope:
                assert scope.name == "Conv" and g.scopes.innermost() is scope
