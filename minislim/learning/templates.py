"""``model_template(fn)``: run a model function every step, with variables named at the root.

``create_train_op`` and ``evaluate_once`` call the user's function once per batch, so the
function must run inside a template (the first call creates the variables, later calls
reuse them). ``slim.make_template(name, fn)`` puts every variable under a scope ``name/``;
here the variables keep the names the function gives them (``vgg_16/conv1/conv1_1/weights``,
exactly TF-Slim's), so a checkpoint written by training fits the evaluation function, a
pretrained TF-Slim checkpoint fits the training function, and both fit ``diff``.

A template passed in is used as it is (its own scope prefix included).

>>> import minislim as slim
>>> def model(x):
...     with slim.variable_scope("dense"):
...         w = slim.variable("w", shape=[], initializer=slim.constant_initializer(2.0))
...     return x * w
>>> t = model_template(model)
>>> t(slim.tensor(3.0)).item(), t(slim.tensor(4.0)).item()
(6.0, 8.0)
>>> [v.name for v in slim.get_variables()]
['dense/w']
"""
from __future__ import annotations

from minislim.framework.graph import get_default_graph
from minislim.framework.scopes import VariableScope
from minislim.framework.template import Template


class RootTemplate(Template):
    """A :class:`~minislim.framework.template.Template` whose scope is the root scope.

    The framework's templates always open a named scope, so this subclass sets the scope
    to the root before the first call and, before every outermost call, restarts the
    default-name counters of the whole graph (re-entering the root scope is the same as
    re-entering any scope: counters below it restart). The first call reuses variables
    that already exist in the graph and creates the others. Everything else (reuse after
    the first call, per-call collections emptied) is the framework's template.
    """

    def __init__(self, func, name: str = "model"):
        super().__init__(name, func)
        self._graph = get_default_graph()
        self._scope = VariableScope("", False)
        # The first call may meet variables made earlier in this graph (training, then
        # evaluating in the same notebook): it reuses those and creates the rest (AUTO_REUSE,
        # which the base class uses after a failed first call).
        self._tried = True

    def __call__(self, *args, **kwargs):
        graph = get_default_graph()
        if graph is self._graph and graph._template_depth == 0:
            graph._scope_counts.clear()
        return super().__call__(*args, **kwargs)

    def _own(self, collection: str) -> list:
        return self._graph.get_collection(collection) if self._variables_created else []

    def __repr__(self) -> str:
        return f"<RootTemplate of {getattr(self._func, '__name__', self._func)!r}>"


def model_template(fn) -> Template:
    """``fn`` itself if it is a template, else a :class:`RootTemplate` around it."""
    if isinstance(fn, Template):
        return fn
    if not callable(fn):
        raise TypeError(f"expected a function building the model, got {fn!r}")
    return RootTemplate(fn, name=getattr(fn, "__name__", "model"))
