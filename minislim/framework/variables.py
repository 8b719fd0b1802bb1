"""Variables: named, persistent Tensors, and TF-Slim's functions to create and find them.

A :class:`Variable` is a leaf Tensor with a full name (``vgg_16/conv1/conv1_1/weights``) that
lives in a graph. ``slim.variable`` creates one in the current variable scope (or returns
the existing one when the scope reuses), ``slim.model_variable`` also files it under
``GraphKeys.MODEL_VARIABLES``.

The buffer contract
-------------------
A variable's ``.data`` array is allocated once and never replaced: ``assign(value)`` checks
the shape and dtype and *copies into* it, and so does ``v.data = array``. Optimizers,
checkpoints and batch norm's moving averages rely on this: anything holding the variable
sees every update. Keep a copy (``v.data.copy()``) to remember an old value.

Finding variables (TF's rules): ``scope`` is a regular expression matched at the start of
the full name, so ``get_variables("vgg_16/fc8")`` finds ``vgg_16/fc8/weights`` and
``vgg_16/fc8/biases``; ``suffix`` must match at the end.

>>> import minislim as slim
>>> with slim.variable_scope("conv1"):
...     w = slim.model_variable("weights", shape=[3, 3, 1, 8],
...                             initializer=slim.truncated_normal_initializer(stddev=0.1),
...                             regularizer=slim.l2_regularizer(0.05))
>>> w.name, w.shape, w.dtype
('conv1/weights', (3, 3, 1, 8), dtype('float32'))
>>> [v.name for v in slim.get_model_variables()]
['conv1/weights']
>>> len(slim.get_collection(slim.GraphKeys.REGULARIZATION_LOSSES))
1
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from minislim.autograd.dtypes import as_array
from minislim.autograd.tensor import Tensor
from minislim.framework.arg_scope import add_arg_scope
from minislim.framework.collections import GraphKeys
from minislim.framework.graph import Deferred, get_default_graph, scope_matches
from minislim.framework.initializers import Initializer, xavier_initializer, zeros_initializer
from minislim.framework.scopes import AUTO_REUSE, get_variable_scope

_DATA_SLOT = Tensor.__dict__["data"]  # the slot descriptor behind Tensor.data

_CPU_DEVICE = re.compile(r"^(/job:[^/]+)?(/replica:\d+)?(/task:\d+)?(/?(device:)?cpu(:\d+|:\*)?)?$",
                         re.IGNORECASE)


class _OpName:
    """What ``variable.op`` returns: TF code reads ``var.op.name``."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class Variable(Tensor):
    """A named leaf Tensor whose buffer is updated in place (see the module docstring).

    Args:
        initial_value: the first value (an ndarray, nested list or Tensor; copied).
        name: the full name.
        trainable: whether optimizers train it (it then requires gradients; only
            floating-point variables can be trainable).
        dtype: convert the initial value to this dtype.
    """

    __hash__ = object.__hash__

    def __init__(self, initial_value, name: str, trainable: bool = True, dtype=None):
        if isinstance(initial_value, Tensor):
            initial_value = initial_value.data
        try:
            array = np.array(as_array(initial_value, dtype), copy=True, order="C")
        except TypeError as error:
            raise TypeError(f"variable '{name}': {error}") from None
        if trainable and array.dtype.kind != "f":
            raise TypeError(f"variable '{name}': only floating-point variables can be trainable, got "
                            f"dtype {array.dtype}; pass trainable=False")
        # Tensor.__init__ is not called: it would go through the `data` setter below.
        _DATA_SLOT.__set__(self, array)
        self.requires_grad = bool(trainable)
        self.grad = None
        self.creator = None
        self.name = name
        self.trainable = bool(trainable)

    @property
    def data(self) -> np.ndarray:
        return _DATA_SLOT.__get__(self)

    @data.setter
    def data(self, value) -> None:
        if value is _DATA_SLOT.__get__(self):  # `v.data -= x` rebinds the same array
            return
        self.assign(value)

    @property
    def op(self) -> _OpName:
        """``var.op.name`` is the variable's name (as in TF code)."""
        return _OpName(self.name)

    def assign(self, value) -> "Variable":
        """Copy ``value`` into the variable's buffer (no gradient flows through this).

        Args:
            value: a Tensor, ndarray, nested list or number of exactly the variable's
                shape, whose dtype converts to the variable's without changing kind
                (float64 -> float32 is fine, float -> int is not).

        Returns:
            the variable itself.

        Raises:
            ValueError: the shape differs. TypeError: the dtype cannot be converted.
        """
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        own = _DATA_SLOT.__get__(self)
        if array.shape != own.shape:
            raise ValueError(f"assign to variable '{self.name}': expected shape {own.shape}, "
                             f"got {array.shape}")
        if not np.can_cast(array.dtype, own.dtype, casting="same_kind"):
            raise TypeError(f"assign to variable '{self.name}' of dtype {own.dtype}: cannot convert "
                            f"values of dtype {array.dtype}")
        np.copyto(own, array, casting="same_kind")
        return self

    def assign_add(self, delta) -> "Variable":
        """Add ``delta`` (broadcastable to the variable's shape) in place."""
        return self._update(np.add, delta, "assign_add")

    def assign_sub(self, delta) -> "Variable":
        """Subtract ``delta`` (broadcastable to the variable's shape) in place."""
        return self._update(np.subtract, delta, "assign_sub")

    def _update(self, ufunc, delta, what: str) -> "Variable":
        array = delta.data if isinstance(delta, Tensor) else np.asarray(delta)
        own = _DATA_SLOT.__get__(self)
        try:
            ufunc(own, array, out=own, casting="same_kind")
        except (ValueError, TypeError) as error:
            raise type(error)(f"{what} on variable '{self.name}' (shape {own.shape}, dtype "
                              f"{own.dtype}) with shape {array.shape}, dtype {array.dtype}: {error}") from None
        return self

    def value(self) -> Tensor:
        """A new leaf Tensor holding a copy of the current value (no gradient link)."""
        return Tensor(_DATA_SLOT.__get__(self).copy())

    def __repr__(self) -> str:
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype}>"


class _RegularizationLoss(Deferred):
    """The REGULARIZATION_LOSSES entry of one variable: its loss, computed when read."""

    def __init__(self, variable: Variable, regularizer):
        self.variable = variable
        self.regularizer = regularizer
        self.name = f"{variable.name}/Regularizer"

    def evaluate(self):
        loss = self.regularizer(self.variable)
        if isinstance(loss, Tensor) and loss.name is None:
            loss.name = f"{self.name}/{getattr(self.regularizer, '__name__', 'regularizer')}"
        return loss

    def __repr__(self) -> str:
        return f"<regularization loss of '{self.variable.name}'>"


def _check_device(device, name: str) -> None:
    if device is None:
        return
    if not isinstance(device, str):
        raise TypeError(f"variable '{name}': device must be a string such as '/CPU:0' or None, "
                        f"got {type(device).__name__}")
    if not _CPU_DEVICE.match(device.strip()):
        raise ValueError(f"variable '{name}': device {device!r} is not available; minislim runs on the "
                         "CPU only (use None, 'cpu' or '/CPU:0')")


def _check_shape(shape, name: str):
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"variable '{name}': shape must be a list or tuple of ints, got {shape!r}") from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise TypeError(f"variable '{name}': shape must be a list or tuple of ints >= 0, got {shape!r}")
    return tuple(int(d) for d in dims)


def _initial_value(name: str, shape, dtype: np.dtype, initializer) -> np.ndarray:
    if initializer is None:
        initializer = xavier_initializer() if dtype.kind == "f" else zeros_initializer()
    if callable(initializer) and not isinstance(initializer, (np.ndarray, Tensor)):
        if shape is None:
            raise ValueError(f"variable '{name}': shape is required with an initializer function "
                             f"({initializer!r})")
        value = initializer(shape, dtype=dtype)
        if isinstance(value, Initializer) or (callable(value) and not isinstance(value, (np.ndarray, Tensor))):
            factory = getattr(initializer, "__name__", repr(initializer))
            raise TypeError(f"variable '{name}': the initializer {factory} returned an initializer, not values: "
                            f"pass {factory}() (called), not {factory}")
        value = value.data if isinstance(value, Tensor) else np.asarray(value)
        if value.shape != shape:
            raise ValueError(f"variable '{name}': the initializer returned shape {value.shape}, "
                             f"expected {shape}")
        if not isinstance(initializer, Initializer):
            value = value.astype(dtype, copy=False)
        return value
    # A value (ndarray, Tensor, list, number): the shape comes from it.
    value = initializer.data if isinstance(initializer, Tensor) else np.asarray(initializer)
    value = value.astype(dtype, copy=False)
    if shape is not None and value.shape != shape:
        if value.size != 1:
            raise ValueError(f"variable '{name}': initial value has shape {value.shape}, "
                             f"but shape {shape} was given")
        value = np.full(shape, value.reshape(()), dtype=dtype)
    return value


@add_arg_scope
def variable(name: str, shape=None, dtype=None, initializer=None, regularizer=None,
             trainable: bool = True, collections=None, device: str | None = None) -> Variable:
    """Create a variable in the current scope, or return it when the scope reuses.

    Args:
        name: the variable's name inside the current scope (full name ``scope/name``).
        shape: list or tuple of ints (omit it when ``initializer`` is a value).
        dtype: default: the graph's dtype (float32 unless ``Graph(dtype=...)``).
        initializer: an initializer function (``slim.zeros_initializer()``, ...) or a
            value (ndarray, Tensor, number). Default: Xavier/Glorot uniform for floats,
            zeros otherwise (TF's ``get_variable`` default).
        regularizer: a function ``weights -> loss`` (``slim.l2_regularizer(0.05)``); its
            loss joins ``GraphKeys.REGULARIZATION_LOSSES``.
        trainable: also add it to ``GraphKeys.TRAINABLE_VARIABLES`` (and track gradients).
        collections: collections to add it to instead of ``[GraphKeys.GLOBAL_VARIABLES]``.
        device: None or a CPU name (``'cpu'``, ``'/CPU:0'``, ``'/device:CPU:0'``).

    Returns:
        The :class:`Variable`.

    Raises:
        ValueError: the variable exists and the scope does not reuse (or it does not exist
            and the scope reuses); a reused variable has another shape; a non-CPU device.
        TypeError: a bad name, shape or dtype.
    """
    graph = get_default_graph()
    if not isinstance(name, str) or not name:
        raise TypeError(f"variable: name must be a non-empty string, got {name!r}")
    scope = get_variable_scope()
    full_name = f"{scope.name}/{name}" if scope.name else name
    _check_device(device, full_name)
    shape = _check_shape(shape, full_name)
    existing = graph.find_variable(full_name)
    if existing is not None:
        if scope.reuse is True or scope.reuse is AUTO_REUSE:
            _check_compatible(existing, shape, dtype)
            return existing
        where = f"variable scope '{scope.name}'" if scope.name else "the root scope"
        raise ValueError(
            f"variable '{full_name}' already exists. To share it, reopen its scope with reuse=True "
            f"(slim.variable_scope(..., reuse=True)), or build the model with slim.make_template so "
            f"that later calls reuse the variables of the first; to make a new variable, use another "
            f"name or scope (created in {where}).")
    if scope.reuse is True:
        raise ValueError(
            f"variable '{full_name}' does not exist, so it cannot be reused (its scope '{scope.name}' "
            "has reuse=True). Create it first in a scope without reuse, or use reuse=slim.AUTO_REUSE.")
    if regularizer is not None and not callable(regularizer):  # checked before anything is created
        raise TypeError(f"variable '{full_name}': regularizer must be a function weights -> loss, "
                        f"got {regularizer!r}")
    dtype = np.dtype(graph.dtype if dtype is None else dtype)
    value = _initial_value(full_name, shape, dtype, initializer)
    var = Variable(value, name=full_name, trainable=trainable)
    names = list(collections) if collections is not None else [GraphKeys.GLOBAL_VARIABLES]
    if trainable:
        names.append(GraphKeys.TRAINABLE_VARIABLES)
    graph.add_variable(var, names)
    if regularizer is not None:
        graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, _RegularizationLoss(var, regularizer),
                                persistent=True)
    return var


def _check_compatible(existing: Variable, shape, dtype) -> None:
    if shape is not None and tuple(shape) != existing.shape:
        raise ValueError(f"Trying to share variable '{existing.name}', but specified shape {tuple(shape)} "
                         f"and found shape {existing.shape}")
    if dtype is not None and np.dtype(dtype) != existing.dtype:
        raise ValueError(f"Trying to share variable '{existing.name}', but specified dtype "
                         f"{np.dtype(dtype)} and found dtype {existing.dtype}")


@add_arg_scope
def model_variable(name: str, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable: bool = True, collections=None, device: str | None = None) -> Variable:
    """Like :func:`variable`, and also in ``GraphKeys.MODEL_VARIABLES``.

    ``collections`` are added to (not instead of) ``GLOBAL_VARIABLES`` and
    ``MODEL_VARIABLES``, as in TF-Slim.
    """
    names = list(collections or []) + [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES]
    return variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                    trainable=trainable, collections=names, device=device)


def add_model_variable(var: Variable) -> None:
    """File a variable made by other means under ``GraphKeys.MODEL_VARIABLES`` (once)."""
    graph = get_default_graph()
    if not any(v is var for v in graph.get_collection_ref(GraphKeys.MODEL_VARIABLES)):
        graph.add_to_collection(GraphKeys.MODEL_VARIABLES, var, persistent=True)


def local_variable(initial_value, name: str = "local", dtype=None) -> Variable:
    """A non-trainable variable in ``GraphKeys.LOCAL_VARIABLES`` (metrics' accumulators).

    Its name is made unique in the current scope (``total``, ``total_1``, ...), as
    ``tf.Variable`` names are; it is never reused and never checkpointed by default.
    """
    graph = get_default_graph()
    scope = get_variable_scope()
    base = f"{scope.name}/{name}" if scope.name else name
    var = Variable(initial_value, name=graph.unique_variable_name(base), trainable=False, dtype=dtype)
    graph.add_variable(var, [GraphKeys.LOCAL_VARIABLES])
    return var


# --- the global step ----------------------------------------------------------------------

def get_global_step() -> Variable | None:
    """The default graph's global step (int64 scalar variable ``global_step``), or None."""
    steps = get_default_graph().get_collection(GraphKeys.GLOBAL_STEP)
    return steps[0] if steps else None


def create_global_step() -> Variable:
    """Create the global step: ``global_step``, int64, 0, not trainable, at the root scope.

    Raises:
        ValueError: it exists already.
    """
    graph = get_default_graph()
    if get_global_step() is not None or graph.find_variable("global_step") is not None:
        raise ValueError("global step already exists; use slim.get_or_create_global_step()")
    var = Variable(np.zeros((), dtype=np.int64), name="global_step", trainable=False)
    graph.add_variable(var, [GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])
    return var


def get_or_create_global_step() -> Variable:
    """The global step, created on first use."""
    step = get_global_step()
    return step if step is not None else create_global_step()


# --- getters (TF-Slim's names and matching rules) -----------------------------------------

def _scope_name(scope) -> str | None:
    return getattr(scope, "name", scope)


def get_variables(scope=None, suffix: str | None = None,
                  collection: str = GraphKeys.GLOBAL_VARIABLES) -> list:
    """Variables of ``collection`` whose name matches ``scope`` (at the start) and ``suffix`` (at the end).

    Args:
        scope: a regular expression or a ``VariableScope``; None for all.
        suffix: a regular expression the name must end with.
        collection: which collection to search (default: all global variables).
    """
    items = get_default_graph().get_collection(collection, _scope_name(scope))
    if suffix is not None:
        pattern = re.compile(f"(?:{suffix})$")
        items = [v for v in items if pattern.search(v.name)]
    return items


def get_model_variables(scope=None, suffix: str | None = None) -> list:
    """Variables of ``GraphKeys.MODEL_VARIABLES`` (see :func:`get_variables`)."""
    return get_variables(scope, suffix, GraphKeys.MODEL_VARIABLES)


def get_trainable_variables(scope=None, suffix: str | None = None) -> list:
    """Variables of ``GraphKeys.TRAINABLE_VARIABLES`` (see :func:`get_variables`)."""
    return get_variables(scope, suffix, GraphKeys.TRAINABLE_VARIABLES)


def get_local_variables(scope=None, suffix: str | None = None) -> list:
    """Variables of ``GraphKeys.LOCAL_VARIABLES`` (see :func:`get_variables`)."""
    return get_variables(scope, suffix, GraphKeys.LOCAL_VARIABLES)


def get_variables_by_suffix(suffix: str, scope=None) -> list:
    """Variables whose name ends with ``suffix`` (``get_variables_by_suffix("2")``)."""
    return get_variables(scope=scope, suffix=suffix)


def get_variables_by_name(given_name: str, scope=None) -> list:
    """Variables whose last name component is ``given_name`` (``"weights"`` finds every ``*/weights``)."""
    return [v for v in get_variables(scope=scope) if v.name.rsplit("/", 1)[-1] == given_name]


def get_unique_variable(var_op_name: str) -> Variable:
    """The variable whose full name is exactly ``var_op_name``.

    Raises:
        ValueError: no such variable (the message lists close names, if any).
    """
    graph = get_default_graph()
    var = graph.find_variable(var_op_name)
    if var is not None and any(v is var for v in graph.get_collection_ref(GraphKeys.GLOBAL_VARIABLES)):
        return var
    candidates = [v.name for v in get_variables(scope=re.escape(var_op_name))]
    if not candidates:
        raise ValueError(f"Couldn't find variable {var_op_name}")
    raise ValueError(f"Variable {var_op_name} does not uniquely identify a variable "
                     f"(names starting with it: {candidates})")


def get_variables_to_restore(include=None, exclude=None) -> list:
    """Variables to load from a checkpoint: those under the ``include`` scopes, minus ``exclude``.

    Args:
        include: list of scope patterns (default: every variable).
        exclude: list of scope patterns to leave out, e.g. ``["vgg_16/fc8"]``.

    Returns:
        The variables, in creation order.

    Raises:
        TypeError: ``include`` or ``exclude`` is not a list or tuple (a bare string would
            be read letter by letter).

    A pattern that matches no variable is almost always a typo; it is reported with a
    ``UserWarning`` naming it.
    """
    by_name = {v.name: v for v in get_variables()}
    chosen, unmatched = select_names(list(by_name), include, exclude, "get_variables_to_restore")
    for what, pattern in unmatched:
        warnings.warn(f"get_variables_to_restore: {what} pattern {pattern!r} matches no variable",
                      UserWarning, stacklevel=2)
    return [by_name[name] for name in chosen]


def select_names(names: list, include=None, exclude=None, caller: str = "select_names") -> tuple:
    """The rule of :func:`get_variables_to_restore`, over names: those matching an ``include``
    pattern (all when None; in the order of the patterns), minus those matching an ``exclude``
    pattern, with :func:`~minislim.framework.graph.scope_matches`.

    Returns:
        ``(chosen names, [("include" or "exclude", pattern) for each pattern matching no name])``.

    >>> select_names(["fc1/w", "logits/w", "logits_aux/w"], exclude=["logits/"])
    (['fc1/w', 'logits_aux/w'], [])
    """
    for what, patterns in (("include", include), ("exclude", exclude)):
        if patterns is not None and not isinstance(patterns, (list, tuple)):
            raise TypeError(f"{caller}: {what} is provided but is not a list or a tuple "
                            f"(got {type(patterns).__name__}: {patterns!r}; write {what}=[{patterns!r}])")
    unmatched = []
    if include is None:
        chosen = list(names)
    else:
        chosen, seen = [], set()
        for pattern in include:
            found = [n for n in names if scope_matches(n, _scope_name(pattern))]
            if not found:
                unmatched.append(("include", pattern))
            chosen += [n for n in found if n not in seen]
            seen.update(found)
    excluded = set()
    for pattern in exclude or ():
        found = {n for n in names if scope_matches(n, _scope_name(pattern))}
        if not found:
            unmatched.append(("exclude", pattern))
        excluded |= found
    return [n for n in chosen if n not in excluded], unmatched


# --- the rest of tf_slim.ops.variables (issue #19) -------------------------------------------

def global_variable(initial_value, validate_shape: bool = True, name: str | None = None,
                    use_resource=None) -> Variable:
    """A non-trainable variable in ``GraphKeys.GLOBAL_VARIABLES`` only (not a model variable).

    As ``tf.Variable``, its name is made unique in the current scope (``Variable``,
    ``Variable_1``, ...). ``validate_shape`` and ``use_resource`` are accepted and ignored
    (the shape is always that of ``initial_value``).

    >>> import minislim as slim
    >>> v = slim.global_variable(np.arange(3.0), name="counts")
    >>> v.name, v.trainable, slim.get_model_variables("counts"), slim.get_trainable_variables("counts")
    ('counts', False, [], [])
    """
    graph = get_default_graph()
    scope = get_variable_scope()
    base = name or "Variable"
    base = f"{scope.name}/{base}" if scope.name else base
    var = Variable(initial_value, name=graph.unique_variable_name(base), trainable=False)
    graph.add_variable(var, [GraphKeys.GLOBAL_VARIABLES])
    return var


@add_arg_scope
def get_variable_full_name(var) -> str:
    """The name a checkpoint stores ``var`` under: its full name (TF: ``var.op.name``).

    minislim has no partitioned variables, so this is always ``var.name``.
    """
    if not isinstance(var, Tensor) or not getattr(var, "name", None):
        raise TypeError(f"get_variable_full_name: expected a variable, got {type(var).__name__}")
    return var.name


def filter_variables(var_list, include_patterns=None, exclude_patterns=None, reg_search: bool = True) -> list:
    """The variables of ``var_list`` whose names match an include pattern and no exclude pattern.

    Patterns are regular expressions tried with ``re.search`` (anywhere in the name) or,
    with ``reg_search=False``, ``re.match`` (at the start). None: no include (exclude)
    rule. TF matches against ``var.name`` with its ``:0`` suffix, minislim against the
    name without it, so a pattern anchored with ``$`` matches here and not in TF.

    >>> import minislim as slim
    >>> _ = slim.conv2d(np.zeros((1, 4, 4, 1), np.float32), 2, [3, 3], scope="Conv")
    >>> [v.name for v in filter_variables(slim.get_model_variables(), ["Conv"], ["biases"])]
    ['Conv/weights']
    """
    find = re.search if reg_search else re.match
    for what, patterns in (("include_patterns", include_patterns), ("exclude_patterns", exclude_patterns)):
        if isinstance(patterns, str):
            raise TypeError(f"filter_variables: {what} must be a list of patterns, got the string {patterns!r}")
    chosen = list(var_list)
    if include_patterns is not None:
        chosen = [v for v in chosen if any(find(p, v.name) for p in include_patterns)]
    if exclude_patterns is not None:
        chosen = [v for v in chosen if not any(find(p, v.name) for p in exclude_patterns)]
    return chosen


def assert_global_step(global_step_tensor) -> None:
    """Raise unless ``global_step_tensor`` is a scalar integer Tensor (what a global step must be).

    Raises:
        TypeError: not a Tensor, not an integer dtype, or not a scalar.
    """
    if not isinstance(global_step_tensor, Tensor):
        raise TypeError(f"Existing 'global_step' must be a Variable or Tensor: {global_step_tensor!r}")
    if global_step_tensor.dtype.kind not in "iu":
        raise TypeError(f"Existing 'global_step' does not have integer type: {global_step_tensor.dtype}")
    if global_step_tensor.shape != ():
        raise TypeError(f"Existing 'global_step' is not scalar: {global_step_tensor.shape}")


def assert_or_get_global_step(graph=None, global_step_tensor=None):
    """``global_step_tensor`` checked with :func:`assert_global_step`, or, when None, the
    graph's global step (None if there is none)."""
    if global_step_tensor is None:
        if graph is None:
            return get_global_step()
        steps = graph.get_collection(GraphKeys.GLOBAL_STEP)
        return steps[0] if steps else None
    assert_global_step(global_step_tensor)
    return global_step_tensor
