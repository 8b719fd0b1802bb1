"""``Graph``: the owner of variables, collections, scopes and random generators.

minislim is eager (every op runs as soon as it is called), so a graph is not a dataflow
graph as in TensorFlow 1: it is the *registry* TF-Slim code expects around its layers:

* the variables, by full name (``vgg_16/conv1/conv1_1/weights``);
* the collections (``GraphKeys.LOSSES``, ``GraphKeys.MODEL_VARIABLES``, end points, ...);
* the stack of variable scopes and the counters behind unique default names (``Conv``,
  ``Conv_1``, ...);
* the random generators of the framework (initializers, dropout, ``slim.nn``'s random
  ops, ...), all derived from one seed, so ``slim.set_random_seed(seed)`` makes a whole
  run reproducible;
* ``dtype``, the default dtype of its variables (``Graph(dtype="float64")`` for
  gradient checks).

There is always a default graph; ``with g.as_default():`` makes ``g`` current for a block.

Random generators
-----------------
``graph.rng(name)`` returns the graph's ``numpy.random.Generator`` for the stream ``name``
(``"initializers"``, ``"dropout"``, ...). Each stream is seeded from the graph's seed and its
name, so adding dropout to a model does not change its initial weights. The same object is
returned every time; ``graph.set_random_seed(seed)`` reseeds every stream *in place*, so
code that kept a generator sees the new seed. ``get_rng_state()`` / ``set_rng_state()``
save and restore the position of every stream (for bit-exact resumption). A new graph has
seed 0: runs are reproducible unless you ask otherwise.

``slim.nn``'s random ops called without an ``rng`` (``slim.nn.dropout(x, 0.5)``) draw from
the stream ``"nn"`` of the default graph: each graph starts them from its own seed, and a
seed set inside a ``with g.as_default():`` block stays with ``g``.

>>> import minislim as slim
>>> g = slim.Graph(dtype="float64")
>>> with g.as_default():
...     slim.get_default_graph() is g
True
>>> g.set_random_seed(7); a = g.rng("dropout").random()
>>> g.set_random_seed(7); a == g.rng("dropout").random()
True
"""
from __future__ import annotations

import contextlib
import re
import zlib

import numpy as np

from minislim.ops import random as ops_random

_DEFAULT_SEED = 0


class Deferred:
    """A collection item computed when the collection is read (see ``Graph.get_collection``).

    Subclasses set ``name`` (used by the ``scope`` filter) and implement ``evaluate()``,
    which returns the value to hand out, or None to leave the item out.
    """

    name: str = ""

    def evaluate(self):
        raise NotImplementedError


def scope_matches(name: str, scope: str) -> bool:
    """TF's scope rule: ``scope`` is a regular expression that must match at the start of
    ``name``; so ``"logits"`` also catches ``logits_aux/weights``, and ``"logits/"`` is the
    scope ``logits`` only.

    >>> scope_matches("logits_aux/weights", "logits"), scope_matches("logits_aux/weights", "logits/")
    (True, False)
    """
    return re.match(scope, name) is not None


def join_scope(parent: str, name: str) -> str:
    """``parent/name`` (``name`` at the root scope, ``""``)."""
    return f"{parent}/{name}" if parent else name


class ScopeStack:
    """The variable scopes open in one graph, and the counters behind unique default names.

    Each :class:`Graph` owns one (``graph.scopes``); :func:`~minislim.framework.scopes.variable_scope`,
    its one user, opens scopes with ``with graph.scopes.opened(scope, reentered):``. The
    counters say how often each full scope name was opened, per enclosing scope, as in
    TensorFlow: when a named scope closes, the counters below it restart, so a scope opened
    again (``conv1`` with ``reuse=True``) names its inner layers as the first time
    (``conv1/BatchNorm``, not ``conv1/BatchNorm_1``). A scope re-entered by its
    ``VariableScope`` object instead puts back every counter as it found them on entry, so
    top-level default names keep counting (``Conv``, then ``Conv_1``) around a
    ``variable_scope(get_variable_scope(), reuse=True)`` block.
    """

    def __init__(self):
        self._open: list = []  # innermost last
        self._counts: dict = {}  # full scope name -> how often it was opened

    def innermost(self):
        """The innermost open scope, or None at the root."""
        return self._open[-1] if self._open else None

    def unique_name(self, parent: str, default_name: str) -> str:
        """``default_name``, or ``default_name_1``, ``_2``... the first never opened under ``parent``."""
        if not self._counts.get(join_scope(parent, default_name)):
            return default_name
        index = 1
        while self._counts.get(join_scope(parent, f"{default_name}_{index}")):
            index += 1
        return f"{default_name}_{index}"

    @contextlib.contextmanager
    def opened(self, scope, reentered: bool):
        """``scope`` (anything with a full ``name``) is the innermost scope inside the block."""
        self._counts[scope.name] = self._counts.get(scope.name, 0) + 1
        counts_on_entry = dict(self._counts) if reentered else None
        self._open.append(scope)
        try:
            yield scope
        finally:
            self._open.pop()
            if reentered:
                self._counts.clear()
                self._counts.update(counts_on_entry)
            else:
                prefix = scope.name + "/"
                for name in [n for n in self._counts if n.startswith(prefix)]:
                    del self._counts[name]


class Graph:
    """Variables, collections, scopes and random generators of one model (see module doc).

    Args:
        dtype: default dtype of the variables created in this graph (a floating dtype).
        seed: seed of the graph's random generators (default 0).
    """

    def __init__(self, dtype="float32", seed: int = _DEFAULT_SEED):
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Graph: dtype must be a floating-point dtype, got {dtype}")
        self.dtype = dtype
        self._variables: dict = {}
        self._collections: dict = {}
        #: the open variable scopes and the default-name counters (see :class:`ScopeStack`)
        self.scopes = ScopeStack()
        # Template calls: how deep, and which collections a call empties (see template_call).
        self._template_depth = 0
        self._persistent_collections: set = set()
        self._per_call_collections: set = set()
        # Random generators, one per named stream.
        self._seed = _check_seed(seed)
        self._rngs: dict = {}

    def __repr__(self) -> str:
        return (f"<Graph dtype={self.dtype} seed={self._seed} variables={len(self._variables)} "
                f"collections={sorted(self._collections)}>")

    # --- being the default graph --------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        """Make this graph the default graph inside a ``with`` block."""
        _GRAPH_STACK.append(self)
        try:
            yield self
        finally:
            _GRAPH_STACK.pop()

    # --- collections --------------------------------------------------------------------
    def add_to_collection(self, name: str, value, persistent: bool = False) -> None:
        """Append ``value`` to the collection ``name`` (created on first use).

        ``persistent=True``: the collection holds variables or other lasting state, and a
        template call never empties it (see :meth:`template_call`).
        """
        self._check_collection_name(name)
        self._collections.setdefault(name, []).append(value)
        if persistent:
            self._persistent_collections.add(name)
            self._per_call_collections.discard(name)
        elif self._template_depth > 0 and name not in self._persistent_collections:
            self._per_call_collections.add(name)

    def add_to_collections(self, names, value) -> None:
        """Append ``value`` to each collection in ``names`` (a name or a list; each once)."""
        if isinstance(names, str):
            names = [names]
        for name in dict.fromkeys(names):
            self.add_to_collection(name, value)

    def get_collection(self, name: str, scope: str | None = None) -> list:
        """Return a new list with the items of collection ``name``.

        Deferred items (regularization losses) are computed now, from the current values of
        the variables. With ``scope``, only items whose ``name`` matches the regular
        expression ``scope`` at its start are returned (TF's rule).
        """
        items = self._collections.get(name, [])
        result = []
        for item in items:
            if scope:
                item_name = getattr(item, "name", None)
                if not isinstance(item_name, str) or not scope_matches(item_name, scope):
                    continue
            if isinstance(item, Deferred):
                item = item.evaluate()
                if item is None:
                    continue
            result.append(item)
        return result

    def get_collection_ref(self, name: str) -> list:
        """Return the live list behind collection ``name`` (deferred items unevaluated)."""
        self._check_collection_name(name)
        return self._collections.setdefault(name, [])

    def clear_collection(self, name: str) -> None:
        """Empty the collection ``name``."""
        self._collections.pop(name, None)

    def get_all_collection_keys(self) -> list:
        """Names of the non-empty collections."""
        return [name for name, items in self._collections.items() if items]

    @staticmethod
    def _check_collection_name(name) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a collection name must be a non-empty string, got {name!r}")

    @contextlib.contextmanager
    def template_call(self, per_call=()):
        """The block of a template's call (``make_template``).

        The outermost call first empties the collections ``per_call`` and those first
        filled inside an earlier call (losses, update ops, ...), unless persistent, so each
        call of a training step starts with an empty ``LOSSES`` collection.
        """
        if self._template_depth == 0:
            for name in set(per_call) | self._per_call_collections:
                if name not in self._persistent_collections:
                    self.clear_collection(name)
        self._template_depth += 1
        try:
            yield
        finally:
            self._template_depth -= 1

    # --- variables ----------------------------------------------------------------------
    @property
    def variables(self) -> dict:
        """Every variable of this graph, by full name, in creation order (a copy)."""
        return dict(self._variables)

    def find_variable(self, name: str):
        """The variable whose full name is ``name``, or None."""
        return self._variables.get(name)

    def unique_variable_name(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``, ... the first name no variable has."""
        name, index = base, 0
        while name in self._variables:
            index += 1
            name = f"{base}_{index}"
        return name

    def add_variable(self, variable, collections) -> None:
        """Register ``variable`` under its full name and add it to each of ``collections``
        (once each, persistent: a template call never empties them).

        Raises:
            ValueError: a variable of that name exists (the callers check reuse first).
        """
        if variable.name in self._variables:
            raise ValueError(f"Graph.add_variable: a variable named {variable.name!r} exists already")
        self._variables[variable.name] = variable
        for name in dict.fromkeys(collections):
            self.add_to_collection(name, variable, persistent=True)

    # --- random generators --------------------------------------------------------------
    @property
    def seed(self) -> int:
        """The seed every random stream of this graph is derived from."""
        return self._seed

    def rng(self, name: str = "default") -> np.random.Generator:
        """The ``numpy.random.Generator`` of the stream ``name`` (the same object each time).

        Streams in use: ``"initializers"`` (variable initializers), ``"dropout"`` (the
        dropout layer), ``"nn"`` (``slim.nn``'s random ops called without an ``rng``).
        Other packages pick their own names (e.g. ``"data"``).
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"a random stream name must be a non-empty string, got {name!r}")
        generator = self._rngs.get(name)
        if generator is None:
            generator = np.random.Generator(_bit_generator(self._seed, name))
            self._rngs[name] = generator
        return generator

    def set_random_seed(self, seed: int) -> None:
        """Reseed every random stream of this graph, in place (kept references see it)."""
        self._seed = _check_seed(seed)
        for name, generator in self._rngs.items():
            generator.bit_generator.state = _bit_generator(self._seed, name).state

    def get_rng_state(self) -> dict:
        """The state of every stream: ``{"seed": seed, "streams": {name: state}}``.

        The states are plain dicts of ints and strings (JSON-serialisable).
        """
        return {"seed": self._seed,
                "streams": {name: g.bit_generator.state for name, g in self._rngs.items()}}

    def set_rng_state(self, state: dict) -> None:
        """Restore what :meth:`get_rng_state` returned.

        Streams the state does not mention (made after it was taken) restart from the seed.
        """
        self.set_random_seed(state["seed"])
        for name, stream_state in state["streams"].items():
            self.rng(name).bit_generator.state = stream_state


def _check_seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"a random seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _bit_generator(seed: int, name: str) -> np.random.PCG64:
    """The bit generator of stream ``name``: independent of other streams, fixed by ``seed``."""
    return np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)))


# --- the default graph --------------------------------------------------------------------
_GRAPH_STACK: list = []
_global_default: Graph | None = None


def get_default_graph() -> Graph:
    """The graph of the innermost ``with g.as_default():``, else the global default graph."""
    global _global_default
    if _GRAPH_STACK:
        return _GRAPH_STACK[-1]
    if _global_default is None:
        _global_default = Graph()
    return _global_default


def reset_default_graph() -> None:
    """Replace the global default graph by a new, empty one (seed 0).

    Raises:
        RuntimeError: inside a ``with g.as_default():`` block (as TF refuses to clear a
            nested graph): leave the block, or simply create a new ``Graph``.
    """
    global _global_default
    if _GRAPH_STACK:
        raise RuntimeError("reset_default_graph() was called inside `with graph.as_default():`; "
                           "leave that block first, or create a new slim.Graph() instead")
    _global_default = Graph()


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness the framework owns.

    That is every random stream of the default graph: initializers, dropout, ``slim.nn``'s
    random ops called without an ``rng``, and any stream other packages draw from
    ``graph.rng(name)``. Like TF's graph-level seed, it applies to the current default
    graph; a new ``Graph`` starts from its own seed (0 by default). ``slim.data.batches``
    is not affected: the input pipeline takes its own ``seed``.
    """
    get_default_graph().set_random_seed(seed)


def get_rng(name: str = "default") -> np.random.Generator:
    """Shorthand for ``get_default_graph().rng(name)``."""
    return get_default_graph().rng(name)


def get_rng_state() -> dict:
    """The state of every generator the framework owns: ``{"graph": ...}``, the default
    graph's :meth:`Graph.get_rng_state` (``slim.nn``'s generator is its stream ``"nn"``)."""
    return {"graph": get_default_graph().get_rng_state()}


def set_rng_state(state: dict) -> None:
    """Restore what :func:`get_rng_state` returned."""
    graph = get_default_graph()
    graph.set_rng_state(state["graph"])
    if "nn" in state:  # saved before slim.nn's generator became the graph's stream "nn"
        graph.rng("nn").bit_generator.state = state["nn"]


def _nn_generator() -> np.random.Generator:
    """``slim.nn``'s generator: the stream ``"nn"`` of the default graph."""
    return get_default_graph().rng("nn")


# slim.nn's random ops (layer 3) ask this module for their generator at each call.
ops_random.set_source(_nn_generator)


def _reset_for_tests() -> None:
    """Forget every graph, nested ones included (``slim.nn``'s generator goes with them)."""
    global _global_default
    _GRAPH_STACK.clear()
    _global_default = None
    ops_random.set_source(_nn_generator)
