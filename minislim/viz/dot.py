"""Graphviz DOT text for a :class:`~minislim.viz.graph.Picture` (no dependency at all).

Tensors are ovals, ops boxes, layer scopes rounded boxes; edges run in data-flow order
(top to bottom). Paste the text into any Graphviz viewer, or ``dot -Tsvg``.

>>> from minislim.viz.graph import Node, Picture
>>> print(to_dot_text(Picture([Node("t0", "tensor", "x"), Node("f0", "op", "Exp")], [("t0", "f0", "")])))
digraph minislim {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=10];
  t0 [shape=ellipse, label="x"];
  f0 [shape=box, style=filled, fillcolor="#dde8f6", label="Exp"];
  t0 -> f0;
}
"""
from __future__ import annotations

STYLES = {
    "tensor": 'shape=ellipse',
    "op": 'shape=box, style=filled, fillcolor="#dde8f6"',
    "scope": 'shape=box, style="rounded,filled", fillcolor="#f6ecd0"',
}


def quote(text: str) -> str:
    """A DOT string literal: quotes and backslashes escaped, line breaks as ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot_text(picture) -> str:
    lines = ["digraph minislim {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    for node in picture.nodes:
        lines.append(f"  {node.id} [{STYLES[node.kind]}, label={quote(node.label)}];")
    for source, target, label in picture.edges:
        extra = f" [label={quote(label)}, fontsize=9]" if label else ""
        lines.append(f"  {source} -> {target}{extra};")
    lines.append("}")
    return "\n".join(lines)
