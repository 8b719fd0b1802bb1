"""``make_template``: run a model function many times with one set of variables.

In an eager framework the model function runs at every training step. Called twice
directly, it would try to create ``conv1/weights`` twice (a ValueError). A template
remembers the variable scope of its first call and re-enters it with ``reuse=True`` at
every later call, so the same layers find the same variables:

* the first call creates the variables (inside a unique scope named after ``name_``);
* later calls reuse them; creating a *new* variable then is an error;
* default-name counters restart at every call, so ``Conv``, ``Conv_1``, ... name the same
  layers each time;
* per-call collections (``LOSSES``, end points, ...; see
  :mod:`minislim.framework.collections`) are emptied at the start of every outermost
  template call, so the losses of earlier steps do not pile up.

>>> import minislim as slim
>>> def scale(x):
...     w = slim.variable("w", shape=[], initializer=slim.constant_initializer(2.0))
...     return x * w
>>> model = slim.make_template("scale", scale)
>>> model(slim.tensor(3.0)).item(), model(slim.tensor(4.0)).item()
(6.0, 8.0)
>>> [v.name for v in slim.get_variables()]
['scale/w']
"""
from __future__ import annotations

import functools

from minislim.framework.collections import GraphKeys
from minislim.framework.graph import get_default_graph
from minislim.framework.scopes import AUTO_REUSE, VariableScope, variable_scope


class Template:
    """A function wrapped by :func:`make_template` (call it like the function).

    ``at_root=True`` makes a template without a scope of its own: its variables keep the
    names the function gives them (``slim.learning.model_template`` uses it, so that
    checkpoints carry TF-Slim's names).
    """

    def __init__(self, name: str, func, create_scope_now: bool = False, unique_name: str | None = None,
                 kwargs: dict | None = None, at_root: bool = False):
        if not isinstance(name, str) or not name:
            raise TypeError(f"make_template: name must be a non-empty string, got {name!r}")
        if not callable(func):
            raise TypeError(f"make_template: func must be callable, got {func!r}")
        self.name = name
        self._func = functools.partial(func, **kwargs) if kwargs else func
        self._unique_name = unique_name
        self._graph = None
        self._scope: VariableScope | None = None
        self._variables_created = False
        functools.update_wrapper(self, func)
        if at_root:
            # The variables keep the names the function gives them: the template's scope is the
            # root scope (re-entering it restarts every default-name counter of the graph).
            # Its first call may meet variables made earlier in this graph (training, then
            # evaluating in one notebook): it reuses those and creates the rest (AUTO_REUSE).
            self._graph = get_default_graph()
            self._scope = VariableScope("", False)
            self._tried = True
        elif create_scope_now:
            self._open_scope_once()

    def _open_scope_once(self) -> None:
        """Choose the template's unique scope name (without creating anything)."""
        self._graph = get_default_graph()
        with variable_scope(self._unique_name, default_name=self.name) as scope:
            self._scope = VariableScope(scope.name, False)

    def __call__(self, *args, **kwargs):
        graph = get_default_graph()
        if self._graph is not None and graph is not self._graph:
            raise ValueError(f"template '{self.name}' was first used in another graph; make a new "
                             "template for this graph")
        try:
            with graph.template_call(per_call=GraphKeys.PER_CALL):  # the outermost call empties LOSSES, ...
                if self._scope is None:
                    self._graph = graph
                    with variable_scope(self._unique_name, default_name=self.name) as scope:
                        self._scope = VariableScope(scope.name, False)
                        result = self._func(*args, **kwargs)
                else:
                    # Before a first call succeeded, variables may be half made: AUTO_REUSE.
                    reuse = True if self._variables_created else (AUTO_REUSE if self._tried else None)
                    with variable_scope(self._scope, reuse=reuse):
                        result = self._func(*args, **kwargs)
        except BaseException:
            self._tried = True
            raise
        self._variables_created = True
        return result

    _tried = False

    # --- what the template owns ---------------------------------------------------------
    @property
    def variable_scope(self) -> VariableScope | None:
        """The scope of the template's variables (None before the first call)."""
        return self._scope

    @property
    def variable_scope_name(self) -> str | None:
        return self._scope.name if self._scope is not None else None

    def _own(self, collection: str) -> list:
        if self._scope is None:
            return []
        if not self._scope.name:  # at the root: every variable of the graph, once it made its own
            return self._graph.get_collection(collection) if self._variables_created else []
        prefix = self._scope.name + "/"
        return [v for v in self._graph.get_collection(collection) if v.name.startswith(prefix)]

    @property
    def variables(self) -> list:
        """The template's variables (all of them, trainable or not)."""
        return self._own(GraphKeys.GLOBAL_VARIABLES)

    global_variables = variables

    @property
    def trainable_variables(self) -> list:
        return self._own(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def model_variables(self) -> list:
        return self._own(GraphKeys.MODEL_VARIABLES)

    def __repr__(self) -> str:
        return f"<Template '{self.name}' scope={self.variable_scope_name!r}>"


def make_template(name_: str, func_, create_scope_now_: bool = False, unique_name_: str | None = None,
                  **kwargs) -> Template:
    """Wrap ``func_`` so that every call shares the variables made by the first.

    Args:
        name_: the base name of the template's variable scope (made unique: ``name``,
            ``name_1``, ... unless ``unique_name_`` is given).
        func_: the function building the model; it creates its variables with
            ``slim.variable`` or slim layers.
        create_scope_now_: choose the scope name now rather than at the first call.
        unique_name_: use exactly this scope name (e.g. to share variables between two
            templates).
        **kwargs: keyword arguments bound to ``func_`` (as ``functools.partial``).

    Returns:
        A :class:`Template`; call it as you would call ``func_``.
    """
    return Template(name_, func_, create_scope_now_, unique_name_, kwargs)
