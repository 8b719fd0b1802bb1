"""Layer 4: the framework around the layers.

* :mod:`~minislim.framework.graph`: ``Graph`` (variables, collections, scopes, random
  generators), the default graph, ``set_random_seed``;
* :mod:`~minislim.framework.collections`: ``GraphKeys`` and collection access;
* :mod:`~minislim.framework.scopes`: ``variable_scope`` and unique default names;
* :mod:`~minislim.framework.variables`: ``Variable``, ``variable``, ``model_variable`` and the
  getters;
* :mod:`~minislim.framework.template`: ``make_template``;
* :mod:`~minislim.framework.arg_scope`: ``arg_scope``, ``add_arg_scope``, ``explain_arg_scope``;
* :mod:`~minislim.framework.initializers` and :mod:`~minislim.framework.regularizers`;
* :mod:`~minislim.framework.utils`: end points (``collect_named_outputs``, ...).

>>> import minislim as slim
>>> with slim.Graph().as_default():
...     with slim.variable_scope("fc"):
...         v = slim.variable("biases", shape=[3], initializer=slim.zeros_initializer())
>>> v
<Variable 'fc/biases' shape=(3,) dtype=float32>
"""
from minislim.framework import (arg_scope, collections, graph, initializers, regularizers, scopes,
                                template, utils, variables)

__all__ = ["arg_scope", "collections", "graph", "initializers", "regularizers", "scopes", "template",
           "utils", "variables"]


def reset_global_state() -> None:
    """Forget every graph and open arg_scope; reseed ``slim.nn``'s generator (for tests)."""
    graph._reset_for_tests()
    arg_scope._reset_arg_scope_stack()
