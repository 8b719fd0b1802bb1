"""``diff(path, variables)``: what a restore would do, before doing it, and how to fix it.

Restore mismatches are the most common checkpoint complaint: a renamed scope, a new
number of classes, a model built in float64. ``diff`` lines the file up against the
variables and prints one row per name: restored, missing, unexpected, skipped by
include/exclude, or mis-shaped / mis-typed, then suggests what to pass to
``slim.get_variables_to_restore(include=..., exclude=...)`` or how to rename, so that
``assign_from_checkpoint_fn`` can do the rest.

Patterns are chosen with ``get_variables_to_restore``'s own rule
(:func:`minislim.framework.variables.select_names`), TF's: a regular
expression matched at the *start* of the name. ``"logits"`` therefore also catches
``logits_aux/weights``; ``"logits/"`` is the scope ``logits`` only. A suggested pattern
never catches a variable the report restores (it gets the trailing ``/`` when needed).

>>> import os, tempfile
>>> import minislim as slim
>>> from minislim.checkpoint import save
>>> old, head = slim.tensor([[1.0, 2.0]]), slim.tensor([3.0])
>>> old.name, head.name = "net/conv1/weights", "net/logits/biases"
>>> path = save(os.path.join(tempfile.mkdtemp(), "pretrained"), [old, head])
>>> new_head = slim.tensor([0.0, 0.0, 0.0])
>>> new_head.name = "net/logits/biases"
>>> report = diff(path, [old, new_head])
>>> report.ok, report.suggested_exclude
(False, ['net/logits'])
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from minislim.checkpoint.saving import plan, read, variables_by_name
from minislim.framework.graph import scope_matches
from minislim.framework.variables import select_names


def _matching(pattern: str, names) -> set:
    """The names ``pattern`` catches (``get_variables_to_restore``'s rule)."""
    return {name for name in names if scope_matches(name, pattern)}


def _candidates(name: str):
    """Patterns that catch ``name``, broadest first: each scope, then the scope with a
    trailing ``/`` (that scope only, not ``logits_aux`` for ``logits``), then the exact name."""
    parts = name.split("/")
    for depth in range(1, len(parts)):
        scope = re.escape("/".join(parts[:depth]))
        yield scope
        yield scope + "/"
    yield re.escape(name)
    yield re.escape(name) + "$"


def covering_scopes(bad: list, good: list) -> list:
    """The broadest patterns that, with ``get_variables_to_restore``'s rule, catch every name
    in ``bad`` and no name in ``good``.

    A plain scope (``"net/logits"``) is preferred; when it would also catch a name in
    ``good`` (``"logits"`` catches ``logits_aux/weights``) the scope with a trailing slash
    (``"logits/"``) is used, and ``"<name>$"`` when only the exact name will do.

    >>> covering_scopes(["logits/weights"], ["logits_aux/weights", "fc1/weights"])
    ['logits/']
    """
    chosen = []
    for name in bad:
        for pattern in _candidates(name):
            if not _matching(pattern, good):
                chosen.append(pattern)
                break
    kept, covered = [], set()
    for pattern in sorted(set(chosen), key=lambda p: (len(p), p)):
        caught = _matching(pattern, bad)
        if caught - covered:
            kept.append(pattern)
            covered |= caught
    return sorted(kept)


def _renames(missing: list, unexpected: list) -> dict:
    """Leading-scope renames (checkpoint prefix -> model prefix) that explain several names."""
    by_tail = {}
    for name in unexpected:
        head, _, tail = name.partition("/")
        if tail:
            by_tail.setdefault(tail, set()).add(head)
    votes = set()
    for name in missing:
        head, _, tail = name.partition("/")
        votes.update((old, head) for old in by_tail.get(tail, ()))
    return {old: new for (old, new) in votes}


@dataclass
class CheckpointDiff:
    """The result of :func:`diff`; ``print()`` it for the table."""

    path: str
    restored: list
    missing: list
    unexpected: list
    shape_mismatch: list
    dtype_mismatch: list
    shapes: dict                  # name -> (checkpoint description, variable description)
    unmatched_patterns: list = field(default_factory=list)
    suggested_exclude: list = field(default_factory=list)
    suggested_include: list = field(default_factory=list)
    renames: dict = field(default_factory=dict)
    include: list | None = None   # the include patterns the selection was made with
    partial_matches: dict = field(default_factory=dict)  # pattern -> names it catches mid-scope-name
    skipped: list = field(default_factory=list)  # variables include/exclude leave out

    @property
    def ok(self) -> bool:
        """True when a strict ``restore`` of the selected variables would succeed."""
        skipped_entries = [n for n in self.skipped if self.shapes[n][0] != "-"]
        return not (self.missing or self.unexpected or skipped_entries or self.shape_mismatch
                    or self.dtype_mismatch)

    @property
    def suggestions(self) -> list:
        lines = []
        if self.unmatched_patterns:
            lines.append(f"these include/exclude patterns match no variable: {self.unmatched_patterns}")
        for pattern, names in sorted(self.partial_matches.items()):
            shown = ", ".join(names[:4]) + (f", ... ({len(names)} names)" if len(names) > 4 else "")
            lines.append(f"the pattern {pattern!r} matches by prefix, not by scope: it catches {shown} "
                         "(TF's rule; end a pattern with '/' to mean that scope only)")
        if self.renames:
            for old, new in sorted(self.renames.items()):
                lines.append(f"the checkpoint's scope {old!r} looks like the model's {new!r}: restore with "
                             f"var_list={{v.name.replace({new + '/'!r}, {old + '/'!r}, 1): v "
                             "for v in variables}")
        if self.suggested_exclude:
            include = "" if self.include is None else f"include={self.include}, "
            lines.append("to restore everything else (fine-tuning): init_fn = slim.assign_from_checkpoint_fn("
                         f"path, slim.get_variables_to_restore({include}exclude={self.suggested_exclude}))")
            anchored = [p for p in self.suggested_exclude if p.endswith(("/", "$"))]
            if anchored:
                lines.append(f"{anchored} end with '/' or '$' on purpose: patterns are regular expressions "
                             "matched at the start of the name, so without it they would catch other "
                             "variables too (e.g. 'logits' catches logits_aux/...)")
        if self.suggested_include and self.unexpected and not self.missing:
            lines.append(f"the checkpoint has {len(self.unexpected)} entries no variable asks for; "
                         "assign_from_checkpoint_fn ignores them (restore(strict=True) refuses them)")
        return lines

    def __str__(self) -> str:
        rows = [(name, "restore", *self.shapes[name]) for name in self.restored]
        rows += [(name, "MISSING in checkpoint", "-", self.shapes[name][1]) for name in self.missing]
        rows += [(name, "SHAPE differs", *self.shapes[name]) for name, _, _ in self.shape_mismatch]
        rows += [(name, "DTYPE differs", *self.shapes[name]) for name, _, _ in self.dtype_mismatch]
        rows += [(name, "UNEXPECTED (no variable)", self.shapes[name][0], "-") for name in self.unexpected]
        rows += [(name, "skipped (include/exclude)", *self.shapes[name]) for name in self.skipped]
        rows.sort(key=lambda row: row[0])
        header = ("name", "action", "checkpoint", "variable")
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]
        lines = [f"checkpoint {self.path!r}: {len(self.restored)} to restore, {len(self.missing)} missing, "
                 f"{len(self.unexpected)} unexpected, {len(self.skipped)} skipped by include/exclude, "
                 f"{len(self.shape_mismatch)} shape and "
                 f"{len(self.dtype_mismatch)} dtype mismatch(es)"]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        suggestions = self.suggestions
        if suggestions:
            lines.append("suggestions:")
            lines += [f"  - {s}" for s in suggestions]
        return "\n".join(lines)

    __repr__ = __str__


def _partial_matches(pattern: str, names) -> list:
    """Names ``pattern`` catches with a match that ends inside a scope name (``"logit"``
    catching ``logits/weights``); ``names`` are those it catches."""
    partial = []
    for name in sorted(names):
        end = re.match(getattr(pattern, "name", pattern), name).end()
        if 0 < end < len(name) and name[end - 1] != "/" and name[end] != "/":
            partial.append(name)
    return partial


def diff(path: str, variables=None, include: list | None = None, exclude: list | None = None) -> CheckpointDiff:
    """Compare a checkpoint with variables, assigning nothing.

    Args:
        path: a checkpoint file or a directory (its newest checkpoint).
        variables: a list, a dict ``{checkpoint name: variable}``, or None for every
            variable of the default graph.
        include, exclude: patterns to preview a selection, chosen by
            ``get_variables_to_restore(include, exclude)`` itself (TF's rule: a regular
            expression matched at the start of the name, so ``"logits"`` also catches
            ``logits_aux/...``; ``"logits/"`` is the scope only). For a dict they are
            matched against its keys. A pattern that matches no variable is reported, and
            so is one that catches names in the middle of a scope name.

    Returns:
        a :class:`CheckpointDiff`: lists of names per outcome, ``ok``, and ``suggestions``.
        Its ``suggested_exclude`` (with the same ``include``) and its ``suggested_include``
        (alone), passed to ``get_variables_to_restore``, select exactly ``restored``.
    """
    for what, given in (("include", include), ("exclude", exclude)):
        if given is not None and not isinstance(given, (list, tuple)):  # before reading the file
            raise TypeError(f"diff: {what} must be a list or a tuple of patterns, got "
                            f"{type(given).__name__}: {given!r} (write {what}=[{given!r}])")
    contents = read(path)
    everything = variables_by_name(variables, "diff")
    chosen, unmatched = select_names(list(everything), include, exclude, "diff")
    unmatched = list(dict.fromkeys(pattern for _, pattern in unmatched))
    chosen = set(chosen)
    mapping = {n: v for n, v in everything.items() if n in chosen}
    patterns = list(dict.fromkeys(list(include or []) + list(exclude or [])))
    partial = {p: found for p in patterns if (found := _partial_matches(p, _matching(p, everything)))}
    p = plan(contents, mapping)
    shapes = {}
    for name, var in mapping.items():
        saved = contents.variables.get(name)
        shapes[name] = ("-" if saved is None else f"{list(saved.shape)} {saved.dtype.name}",
                        f"{list(var.shape)} {var.dtype.name}")
    skipped = sorted(n for n in everything if n not in chosen)
    for name in skipped:
        saved = contents.variables.get(name)
        var = everything[name]
        shapes[name] = ("-" if saved is None else f"{list(saved.shape)} {saved.dtype.name}",
                        f"{list(var.shape)} {var.dtype.name}")
    unexpected = [n for n in p.unexpected if n not in everything]
    for name in unexpected:
        saved = contents.variables[name]
        shapes[name] = (f"{list(saved.shape)} {saved.dtype.name}", "-")
    bad = p.missing + [n for n, _, _ in p.shape_mismatch] + [n for n, _, _ in p.dtype_mismatch]
    renames = _renames(p.missing, unexpected)
    suggested_exclude = []
    if bad and p.matched:
        kept = [x for x in (exclude or []) if x not in unmatched]
        suggested_exclude = list(dict.fromkeys(kept + covering_scopes(bad, p.matched)))
    others = [n for n in everything if n not in set(p.matched)]
    suggested_include = covering_scopes(p.matched, others) if p.matched else []
    return CheckpointDiff(contents.path, sorted(p.matched), sorted(p.missing), unexpected, p.shape_mismatch,
                          p.dtype_mismatch, shapes, unmatched, suggested_exclude, suggested_include, renames,
                          None if include is None else list(include), partial, skipped)
