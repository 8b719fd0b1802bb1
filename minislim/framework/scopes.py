"""Variable scopes: the names of variables and layers, and when variables are shared.

``variable_scope(name)`` opens a scope: variables created inside are named
``<outer scopes>/<name>/<variable>``. Layers open one with their ``scope=`` argument, or with
a unique default name when it is None: the first ``conv2d`` is ``Conv``, the next
``Conv_1``, and so on (per enclosing scope, as in TensorFlow).

Reuse (TensorFlow 1's rules):

* ``reuse=None``/``False``: creating a variable whose name exists raises ValueError;
* ``reuse=True``: every variable must exist already and is returned as it is;
* ``reuse=AUTO_REUSE``: create what is missing, reuse what exists;
* reuse is inherited: inside a reusing scope every sub-scope reuses.

Default-name counters count per enclosing scope, and restart when that scope closes (as
in TensorFlow): reopening ``conv1`` finds ``conv1/BatchNorm`` again, not
``conv1/BatchNorm_1``. Only the root scope never closes, so top-level layers without a
``scope`` get ``Conv``, ``Conv_1``, ... for the life of the graph (except that a call of a
training step, a template at the root, puts the counters back as it found them).

Passing a :class:`VariableScope` object (what ``with variable_scope(...) as sc`` gives)
re-enters that scope by its absolute name; this is how
:func:`~minislim.framework.template.make_template` calls a model function again with the
same variable names.

minislim has one kind of scope: TensorFlow's separate name scopes only named graph
operations, which an eager framework does not have. Layers without variables (pooling,
dropout, ...) open a variable scope too, so their end-point names are the same as in
TF-Slim (``vgg_16/pool1``).

>>> import minislim as slim
>>> with slim.variable_scope("outer"):
...     with slim.variable_scope(None, default_name="Conv") as a:
...         pass
...     with slim.variable_scope(None, default_name="Conv") as b:
...         pass
>>> a.name, b.name
('outer/Conv', 'outer/Conv_1')
"""
from __future__ import annotations

import contextlib

from minislim.autograd.recording import Recording
from minislim.framework.graph import get_default_graph, join_scope


class _AutoReuse:
    """The type of :data:`AUTO_REUSE` (a singleton)."""

    def __repr__(self) -> str:
        return "AUTO_REUSE"


#: ``reuse=AUTO_REUSE``: create variables that do not exist yet, reuse those that do.
AUTO_REUSE = _AutoReuse()


class VariableScope:
    """An open (or remembered) variable scope.

    Attributes:
        name: the full name, e.g. ``"vgg_16/conv1"`` (``""`` for the root scope).
        reuse: False, True or ``AUTO_REUSE``.
        original_name_scope: ``name + "/"`` (TF-Slim's nets name their end-point
            collections after it).
    """

    __slots__ = ("name", "reuse")

    def __init__(self, name: str, reuse=False):
        self.name = name
        self.reuse = reuse

    @property
    def original_name_scope(self) -> str:
        return self.name + "/" if self.name else ""

    def __repr__(self) -> str:
        return f"VariableScope(name={self.name!r}, reuse={self.reuse!r})"


_ROOT = VariableScope("", False)


def get_variable_scope() -> VariableScope:
    """The innermost open variable scope of the default graph (the root scope if none)."""
    innermost = get_default_graph().scopes.innermost()
    return innermost if innermost is not None else _ROOT


def _check_reuse(reuse) -> None:
    if reuse is not None and reuse is not AUTO_REUSE and not isinstance(reuse, bool):
        raise TypeError(f"variable_scope: reuse must be None, True, False or AUTO_REUSE, got {reuse!r}")


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name: str | None = None, values=None, reuse=None):
    """Open a variable scope (see the module docstring for the rules).

    Args:
        name_or_scope: a name (relative to the current scope), a :class:`VariableScope`
            to re-enter (absolute), or None to use a unique ``default_name``.
        default_name: the name to make unique when ``name_or_scope`` is None.
        values: ignored; accepted so that TF-Slim code such as
            ``variable_scope(scope, "vgg_16", [inputs])`` runs unchanged.
        reuse: None (inherit), False, True or ``AUTO_REUSE``.

    Yields:
        The :class:`VariableScope` now open.

    Raises:
        TypeError: neither a name nor a default name; a bad ``reuse``.
        ValueError: ``reuse=True`` with no name (a unique default name cannot be reused).
    """
    _check_reuse(reuse)
    if values is not None and not isinstance(values, (list, tuple)):
        raise TypeError(f"variable_scope: values must be a list or tuple (it is ignored), got {type(values).__name__}")
    graph = get_default_graph()
    parent = get_variable_scope()
    reentered = isinstance(name_or_scope, VariableScope)
    if reentered:
        full_name = name_or_scope.name
        new_reuse = reuse if reuse else name_or_scope.reuse
    else:
        if name_or_scope is None:
            if default_name is None:
                raise TypeError("variable_scope: give a name, or default_name when the name is None")
            if reuse is True:
                raise ValueError(f"variable_scope: reuse=True needs a scope name; a default name "
                                 f"({default_name!r}) is made unique and cannot be reused")
            if not isinstance(default_name, str) or not default_name:
                raise TypeError(f"variable_scope: default_name must be a non-empty string, got {default_name!r}")
            name = graph.scopes.unique_name(parent.name, default_name)
        else:
            if not isinstance(name_or_scope, str) or not name_or_scope:
                raise TypeError("variable_scope: the name must be a non-empty string, a VariableScope "
                                f"or None, got {name_or_scope!r}")
            name = name_or_scope
        full_name = join_scope(parent.name, name)
        new_reuse = True if parent.reuse is True else (reuse or parent.reuse)
    scope = VariableScope(full_name, new_reuse or False)
    with graph.scopes.opened(scope, reentered):  # the graph counts it for default names
        outer_recorded, Recording.scope = Recording.scope, full_name  # ops record their layer scope
        try:
            yield scope
        finally:
            Recording.scope = outer_recorded

