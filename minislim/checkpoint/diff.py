"""``diff(path, variables)``: what a restore would do, before doing it, and how to fix it.

Restore mismatches are the most common checkpoint complaint: a renamed scope, a new
number of classes, a model built in float64. ``diff`` lines the file up against the
variables and prints one row per name: restored, missing, unexpected, or mis-shaped /
mis-typed, then suggests what to pass to ``slim.get_variables_to_restore(include=...,
exclude=...)`` or how to rename, so that ``assign_from_checkpoint_fn`` can do the rest.

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

from dataclasses import dataclass, field

from minislim.checkpoint.saving import plan, read, variables_by_name


def _in_scope(name: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return name == pattern or name.startswith(pattern + "/")


def covering_scopes(bad: list, good: list) -> list:
    """The shortest scopes that hold every name in ``bad`` and no name in ``good``."""
    scopes = set()
    for name in bad:
        parts = name.split("/")
        for depth in range(1, len(parts) + 1):
            scope = "/".join(parts[:depth])
            if not any(_in_scope(other, scope) for other in good):
                scopes.add(scope)
                break
    return sorted(s for s in scopes if not any(s != t and _in_scope(s, t) for t in scopes))


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

    @property
    def ok(self) -> bool:
        """True when a strict ``restore`` would succeed."""
        return not (self.missing or self.unexpected or self.shape_mismatch or self.dtype_mismatch)

    @property
    def suggestions(self) -> list:
        lines = []
        if self.unmatched_patterns:
            lines.append(f"these include/exclude patterns match no variable: {self.unmatched_patterns}")
        if self.renames:
            for old, new in sorted(self.renames.items()):
                lines.append(f"the checkpoint's scope {old!r} looks like the model's {new!r}: restore with "
                             f"var_list={{v.name.replace({new + '/'!r}, {old + '/'!r}, 1): v "
                             "for v in variables}")
        if self.suggested_exclude:
            lines.append("to restore everything else (fine-tuning): init_fn = slim.assign_from_checkpoint_fn("
                         f"path, slim.get_variables_to_restore(exclude={self.suggested_exclude}))")
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
        rows.sort(key=lambda row: row[0])
        header = ("name", "action", "checkpoint", "variable")
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]
        lines = [f"checkpoint {self.path!r}: {len(self.restored)} to restore, {len(self.missing)} missing, "
                 f"{len(self.unexpected)} unexpected, {len(self.shape_mismatch)} shape and "
                 f"{len(self.dtype_mismatch)} dtype mismatch(es)"]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        suggestions = self.suggestions
        if suggestions:
            lines.append("suggestions:")
            lines += [f"  - {s}" for s in suggestions]
        return "\n".join(lines)

    __repr__ = __str__


def diff(path: str, variables=None, include: list | None = None, exclude: list | None = None) -> CheckpointDiff:
    """Compare a checkpoint with variables, assigning nothing.

    Args:
        path: a checkpoint file or a directory (its newest checkpoint).
        variables: a list, a dict ``{checkpoint name: variable}``, or None for every
            variable of the default graph.
        include, exclude: scope patterns to preview a selection, with the rule of
            ``get_variables_to_restore`` (a scope matches itself and the names below it);
            a pattern that matches no variable is reported.

    Returns:
        a :class:`CheckpointDiff`: lists of names per outcome, ``ok``, and ``suggestions``.
    """
    contents = read(path)
    mapping = variables_by_name(variables, "diff")
    unmatched = [p for p in (include or []) + (exclude or []) if not any(_in_scope(n, p) for n in mapping)]
    if include is not None:
        mapping = {n: v for n, v in mapping.items() if any(_in_scope(n, p) for p in include)}
    if exclude:
        mapping = {n: v for n, v in mapping.items() if not any(_in_scope(n, p) for p in exclude)}
    p = plan(contents, mapping)
    shapes = {}
    for name, var in mapping.items():
        saved = contents.variables.get(name)
        shapes[name] = ("-" if saved is None else f"{list(saved.shape)} {saved.dtype.name}",
                        f"{list(var.shape)} {var.dtype.name}")
    for name in p.unexpected:
        saved = contents.variables[name]
        shapes[name] = (f"{list(saved.shape)} {saved.dtype.name}", "-")
    bad = p.missing + [n for n, _, _ in p.shape_mismatch] + [n for n, _, _ in p.dtype_mismatch]
    renames = _renames(p.missing, p.unexpected)
    suggested_exclude = covering_scopes(bad, p.matched) if bad and p.matched else []
    suggested_include = covering_scopes(p.matched, bad + p.unexpected) if p.matched else []
    return CheckpointDiff(contents.path, sorted(p.matched), sorted(p.missing), p.unexpected, p.shape_mismatch,
                          p.dtype_mismatch, shapes, unmatched, suggested_exclude, suggested_include, renames)
