"""``arg_scope``: default keyword arguments for a set of ops, within a ``with`` block.

TF-Slim's rules, exactly:

* ``with arg_scope([op1, op2], k=v):`` gives ``op1`` and ``op2`` the default ``k=v`` inside
  the block; every op must be decorated with ``@add_arg_scope`` (else ValueError), and the
  first argument must be a list or tuple of ops, or a saved scope (else TypeError);
* nested scopes merge; for the same op and keyword the inner value wins;
* a keyword argument written at the call site wins over every scope;
* ``with arg_scope(...) as sc:`` yields the scope (a dict ``{op key: {kwarg: value}}``);
  ``with arg_scope(sc):`` re-enters it later, *replacing* the current scope (no extra
  keywords allowed then: ValueError);
* the previous scope is restored when the block ends, also when it raises.

minislim's differences:

* ops are keyed by their qualified name ``module.qualname``, not by the function object,
  so a scope saved in a notebook still applies after the cell defining the op is run
  again (the key of ``slim.conv2d`` is ``"minislim.layers.conv.convolution2d"``);
* a keyword that an op does not accept is reported when the scope is entered (TypeError
  naming the op and the keyword, with the closest valid name), not at the first call;
* an argument passed *positionally* at the call site also wins over the scope (TF-Slim
  would raise "got multiple values for argument");
* :func:`explain_arg_scope` shows the keyword arguments a call would receive and who set
  each: the call site, which ``arg_scope`` (file, line and nesting depth), or the default.

>>> import minislim as slim
>>> @slim.add_arg_scope
... def layer(x, size=1, act="relu"):
...     return (x, size, act)
>>> with slim.arg_scope([layer], size=8):
...     with slim.arg_scope([layer], act="tanh"):
...         layer(0), layer(0, act=None)
((0, 8, 'tanh'), (0, 8, None))
"""
from __future__ import annotations

import difflib
import functools
import inspect
import os
import sys
from typing import NamedTuple


class _Origin(NamedTuple):
    """Where a scoped keyword argument was set."""

    location: str  # "file.py:12 (function)"
    depth: int  # nesting depth of the arg_scope when it was entered (1 = outermost)

    def describe(self) -> str:
        return f"arg_scope at {self.location} (depth {self.depth})"


class ArgScope(dict):
    """What ``with arg_scope(...) as sc`` yields: ``{op key: {kwarg: value}}``.

    It is a plain dict for every purpose (``arg_scope(sc)`` also accepts a plain dict);
    the attribute ``origins`` (``{op key: {kwarg: _Origin}}``) remembers where each value
    was set, for :func:`explain_arg_scope`.
    """

    def __init__(self, *args, origins: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.origins = {key: dict(value) for key, value in (origins or {}).items()}

    def copy(self) -> "ArgScope":
        return ArgScope({key: dict(kwargs) for key, kwargs in self.items()}, origins=self.origins)


class _OpInfo(NamedTuple):
    """What arg_scope needs to know about a decorated op."""

    name: str  # short name, e.g. "conv2d"
    keyword_names: tuple  # every parameter that can be passed by keyword
    positional_names: tuple  # parameters that can be passed by position, in order
    defaults: dict  # parameter -> default value (those that have one)
    var_keyword: bool  # accepts **kwargs


# The one owner of arg_scope's global state (reset by tests/conftest.py).
_ARG_STACK: list = []
_DECORATED_OPS: dict = {}
_EMPTY = ArgScope()


def _reset_arg_scope_stack() -> None:
    """Forget every open arg_scope (the registry of decorated ops is kept)."""
    _ARG_STACK.clear()


def arg_scope_func_key(op) -> str:
    """The key of ``op`` in a scope: its qualified name ``module.qualname``."""
    key = getattr(op, "_key_op", None)
    if key is not None:
        return key
    module = getattr(op, "__module__", None)
    qualname = getattr(op, "__qualname__", None)
    if module is not None and qualname is not None:
        return f"{module}.{qualname}"
    return repr(op)


def _short_name(op) -> str:
    return getattr(op, "__name__", None) or repr(op)


def _describe(func) -> _OpInfo:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        raise TypeError(f"add_arg_scope: cannot read the signature of {func!r}") from None
    keyword, positional, defaults, var_keyword = [], [], {}, False
    for p in signature.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional.append(p.name)
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            keyword.append(p.name)
        if p.kind is p.VAR_KEYWORD:
            var_keyword = True
        if p.default is not p.empty:
            defaults[p.name] = p.default
    return _OpInfo(func.__name__, tuple(keyword), tuple(positional), defaults, var_keyword)


def current_arg_scope() -> ArgScope:
    """The scope in force now: ``{op key: {kwarg: value}}`` (empty outside any arg_scope)."""
    return _ARG_STACK[-1] if _ARG_STACK else _EMPTY


def has_arg_scope(func) -> bool:
    """Whether ``func`` was decorated with :func:`add_arg_scope`."""
    key = getattr(func, "_key_op", None)
    return key is not None and key in _DECORATED_OPS


def arg_scoped_arguments(func) -> tuple:
    """The arguments of a decorated op that have defaults (what a scope usually sets).

    Raises:
        ValueError: ``func`` is not decorated with ``@add_arg_scope``.
    """
    if not has_arg_scope(func):
        raise ValueError(f"{_short_name(func)} is not decorated with @add_arg_scope")
    return tuple(_DECORATED_OPS[arg_scope_func_key(func)].defaults)


def add_arg_scope(func):
    """Decorate ``func`` so that ``arg_scope`` can set its keyword arguments.

    Redefining a function with the same module and qualified name (re-running a notebook
    cell) replaces the registration: scopes opened or saved before still apply to it.
    """
    info = _describe(func)
    key = f"{func.__module__}.{func.__qualname__}"
    _DECORATED_OPS[key] = info
    positional = info.positional_names

    @functools.wraps(func)
    def func_with_args(*args, **kwargs):
        scope = _ARG_STACK[-1] if _ARG_STACK else _EMPTY
        scoped = scope.get(key)
        if scoped:
            taken = positional[:len(args)]
            merged = {k: v for k, v in scoped.items() if k not in taken}
            merged.update(kwargs)
            kwargs = merged
        return func(*args, **kwargs)

    func_with_args._key_op = key
    return func_with_args


def _caller_location(depth: int) -> str:
    frame = sys._getframe(depth + 1)
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} ({frame.f_code.co_name})"


class _ArgScopeBlock:
    """The context manager returned by :func:`arg_scope`."""

    def __init__(self, list_ops_or_scope, kwargs: dict, location: str):
        self._ops = list_ops_or_scope
        self._kwargs = kwargs
        self._location = location
        self._entered = 0  # how many times this block is open (it may be nested in itself)

    def __enter__(self) -> ArgScope:
        ops, kwargs = self._ops, self._kwargs
        if isinstance(ops, dict):
            if kwargs:
                raise ValueError("When attempting to re-use a scope by supplying a dictionary, kwargs "
                                 f"must be empty (got {sorted(kwargs)})")
            if isinstance(ops, ArgScope):
                scope = ops.copy()
            else:
                origin = _Origin(f"{self._location}, a saved scope", len(_ARG_STACK) + 1)
                scope = ArgScope({k: dict(v) for k, v in ops.items()},
                                 origins={k: {name: origin for name in v} for k, v in ops.items()})
        else:
            if not isinstance(ops, (list, tuple)):
                raise TypeError("list_ops_or_scope must either be a list/tuple or reused scope "
                                f"(i.e. dict), got {type(ops).__name__}")
            scope = current_arg_scope().copy()
            origin = _Origin(self._location, len(_ARG_STACK) + 1)
            for op in ops:
                if not has_arg_scope(op):
                    raise ValueError(f"{_short_name(op)} ({arg_scope_func_key(op)}) is not decorated "
                                     "with @add_arg_scope")
                key = arg_scope_func_key(op)
                _check_keywords(key, kwargs)
                scope[key] = {**scope.get(key, {}), **kwargs}
                scope.origins[key] = {**scope.origins.get(key, {}), **{name: origin for name in kwargs}}
        _ARG_STACK.append(scope)
        self._entered += 1
        return scope

    def __exit__(self, *exc_info) -> bool:
        if self._entered:
            _ARG_STACK.pop()
            self._entered -= 1
        return False


def _check_keywords(key: str, kwargs: dict) -> None:
    info = _DECORATED_OPS[key]
    if info.var_keyword:
        return
    for name in kwargs:
        if name not in info.keyword_names:
            close = difflib.get_close_matches(name, info.keyword_names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise TypeError(f"arg_scope: {info.name} ({key}) has no argument '{name}'{hint} "
                            f"It accepts: {', '.join(info.keyword_names)}")


def arg_scope(list_ops_or_scope, **kwargs) -> _ArgScopeBlock:
    """Set default keyword arguments of ops inside a ``with`` block (rules: module docstring).

    Args:
        list_ops_or_scope: a list or tuple of ops decorated with ``@add_arg_scope``, or a
            scope saved from ``with arg_scope(...) as sc`` (then no ``kwargs``).
        **kwargs: the defaults, ``keyword=value``; every op must accept each keyword.

    Returns:
        A context manager; ``with`` yields the new current scope (a dict).

    Raises (when the block is entered):
        TypeError: ``list_ops_or_scope`` is neither a list/tuple nor a dict; an op does
            not accept one of the keywords.
        ValueError: an op is not decorated; a saved scope is given with ``kwargs``.
    """
    return _ArgScopeBlock(list_ops_or_scope, kwargs, _caller_location(1))


def _show(value) -> str:
    if inspect.isfunction(value) or inspect.isbuiltin(value) or inspect.isclass(value):
        return value.__qualname__
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None and not isinstance(value, (int, float)):
        return f"<{type(value).__name__} {tuple(shape)} {dtype}>"  # an ndarray or a Tensor
    text = repr(value)
    return text if len(text) <= 48 else text[:45] + "..."


def explain_arg_scope(op, /, *args, **call_kwargs) -> dict:
    """Print the keyword arguments ``op(*args, **call_kwargs)`` would receive here, and why.

    For every parameter of ``op``: its value and who set it: the call site, an
    ``arg_scope`` (file, line, function and nesting depth), or the op's default. A
    call-site value that hides a scope value says so, and so do required arguments that
    are missing.

    Args:
        op: an op decorated with ``@add_arg_scope`` (e.g. ``slim.conv2d``).
        *args, **call_kwargs: the arguments of the call to explain.

    Returns:
        ``{parameter: (value, source)}`` in the op's parameter order; ``source`` is
        ``"call site"``, ``"default"``, ``"missing"`` or ``"arg_scope at ..."``.

    Raises:
        ValueError: ``op`` is not decorated.
    """
    if not has_arg_scope(op):
        raise ValueError(f"{_short_name(op)} ({arg_scope_func_key(op)}) is not decorated with @add_arg_scope")
    key = arg_scope_func_key(op)
    info = _DECORATED_OPS[key]
    scope = current_arg_scope()
    scoped = scope.get(key, {})
    origins = getattr(scope, "origins", {}).get(key, {})
    given = dict(zip(info.positional_names, args))
    given.update(call_kwargs)
    names = list(dict.fromkeys(list(info.positional_names) + list(info.keyword_names) + list(scoped)))
    report = {}
    for name in names:
        if name in given:
            source = "call site"
            if name in scoped:
                hidden = origins.get(name)
                source += f" (overrides {hidden.describe() if hidden else 'the arg_scope'})"
            report[name] = (given[name], source)
        elif name in scoped:
            origin = origins.get(name)
            report[name] = (scoped[name], origin.describe() if origin else "arg_scope")
        elif name in info.defaults:
            report[name] = (info.defaults[name], "default")
        else:
            report[name] = (None, "missing")
    depth = len(_ARG_STACK)
    print(f"{info.name} ({key}), {depth} arg_scope(s) open:")
    width = max(len(n) for n in report) if report else 0
    for name, (value, source) in report.items():
        shown = "<required, not given>" if source == "missing" else _show(value)
        print(f"  {name:<{width}} = {shown:<48} <- {source}")
    return report
