"""ops.random: the generator of slim.nn's random ops comes from an installed source."""
import numpy as np

import minislim as slim
from minislim.ops import random as ops_random


def test_without_a_source_the_ops_use_their_own_generator():
    previous = ops_random.set_source(None)
    try:
        own = ops_random.default_generator()
        assert isinstance(own, np.random.Generator)
        assert ops_random.default_generator() is own
    finally:
        ops_random.set_source(previous)


def test_an_installed_source_is_asked_at_every_call():
    generators = [np.random.default_rng(1), np.random.default_rng(2)]
    previous = ops_random.set_source(lambda: generators[0])
    try:
        assert ops_random.default_generator() is generators[0]
        generators.reverse()
        assert ops_random.default_generator() is generators[0]
    finally:
        assert ops_random.set_source(previous) is not None


def test_the_framework_installs_the_default_graphs_nn_stream():
    assert ops_random.default_generator() is slim.get_default_graph().rng("nn")
    graph = slim.Graph()
    with graph.as_default():
        assert ops_random.default_generator() is graph.rng("nn")
    assert ops_random.default_generator() is not graph.rng("nn")
