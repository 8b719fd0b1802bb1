"""Turning a picture into an image: Graphviz's ``dot`` when installed, else matplotlib.

:class:`Drawing` is what :func:`minislim.viz.draw` returns. In a notebook it shows itself
inline (SVG from Graphviz, or the matplotlib figure); ``save(path)`` writes it to a file.

The matplotlib fallback lays the graph out in layers, the idea behind Graphviz's own
``dot`` (Sugiyama's method) without its refinements: a node's layer is the length of
the longest path from a source to it, nodes in a layer are ordered by the mean position
of their parents (one sweep), and edges are straight arrows. It is plainer than Graphviz
but needs no program outside Python.
"""
from __future__ import annotations

import shutil
import subprocess

from minislim.viz.dot import to_dot_text

INSTALL_GRAPHVIZ = ("install Graphviz for a tidier layout (Debian/Ubuntu: apt-get install graphviz; "
                    "macOS: brew install graphviz; conda: conda install graphviz)")


class Drawing:
    """A rendered graph: ``engine`` is "graphviz" (``svg`` holds the SVG text) or
    "matplotlib" (``figure`` holds the Figure)."""

    def __init__(self, engine: str, svg: str | None = None, figure=None):
        self.engine, self.svg, self.figure = engine, svg, figure

    def _repr_svg_(self):  # Jupyter shows the SVG inline
        return self.svg

    def _repr_png_(self):  # ... or the figure, as a PNG
        if self.figure is None:
            return None
        import io

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()

    def save(self, path: str) -> str:
        """Write the picture: ``.svg`` from either engine, ``.png`` (or any matplotlib format)
        from the matplotlib one."""
        if self.svg is not None:
            if not path.endswith(".svg"):
                raise ValueError(f"Drawing.save: a Graphviz drawing is SVG; give a path ending in .svg, got {path!r}")
            with open(path, "w") as f:
                f.write(self.svg)
        else:
            self.figure.savefig(path, bbox_inches="tight")
        return path

    def __repr__(self) -> str:
        return f"<Drawing by {self.engine}>"


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def render_graphviz(picture) -> Drawing:
    """Run ``dot -Tsvg`` on the picture's DOT text."""
    result = subprocess.run(["dot", "-Tsvg"], input=to_dot_text(picture), capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"viz.draw: Graphviz's dot failed: {result.stderr.strip()}")
    return Drawing("graphviz", svg=result.stdout)


def layered_layout(picture) -> dict:
    """``{node id: (x, layer)}``: layer = longest path from a source, x = order in the layer."""
    parents = {node.id: [] for node in picture.nodes}
    children = {node.id: [] for node in picture.nodes}
    for source, target, _ in picture.edges:
        parents[target].append(source)
        children[source].append(target)
    # Kahn's topological order, so that every parent has its layer before its children.
    waiting = {node_id: len(p) for node_id, p in parents.items()}
    ready = [node.id for node in picture.nodes if not parents[node.id]]
    layer = {}
    while ready:
        node_id = ready.pop(0)
        layer[node_id] = 1 + max((layer[p] for p in parents[node_id]), default=-1)
        for child in children[node_id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    by_layer = {}
    for node in picture.nodes:
        by_layer.setdefault(layer[node.id], []).append(node.id)
    x = {}
    for depth in sorted(by_layer):
        ids = by_layer[depth]
        turn = {node_id: i for i, node_id in enumerate(ids)}
        # order by the mean position of the parents (a node without parents keeps its turn)
        ids.sort(key=lambda i: sum(x[p] for p in parents[i]) / len(parents[i]) if parents[i] else turn[i])
        for position, node_id in enumerate(ids):
            x[node_id] = position - (len(ids) - 1) / 2
    return {node_id: (x[node_id], layer[node_id]) for node_id in layer}


def render_matplotlib(picture) -> Drawing:
    """Draw the layered layout with matplotlib (boxes for ops and layers, ovals for tensors)."""
    from matplotlib.figure import Figure  # a bare Figure: no pyplot, no GUI backend needed

    positions = layered_layout(picture)
    layers = max((y for _, y in positions.values()), default=0) + 1
    width = max((abs(x) for x, _ in positions.values()), default=0) * 2 + 1
    labels = {node.id: node.label for node in picture.nodes}
    tallest = max((label.count("\n") + 1 for label in labels.values()), default=1)
    figure = Figure(figsize=(max(4.0, 2.6 * width), max(2.0, layers * (0.45 + 0.16 * tallest))))
    axes = figure.add_subplot()
    axes.set_axis_off()
    scale_x, scale_y = 2.6, 0.45 + 0.16 * tallest
    points = {i: (x * scale_x, -y * scale_y) for i, (x, y) in positions.items()}
    for source, target, label in picture.edges:
        (x0, y0), (x1, y1) = points[source], points[target]
        axes.annotate("", xy=(x1, y1 + 0.3 * scale_y), xytext=(x0, y0 - 0.3 * scale_y),
                      arrowprops=dict(arrowstyle="->", color="#555555", lw=0.8))
        if label:
            axes.text((x0 + x1) / 2, (y0 + y1) / 2, label, fontsize=6, color="#555555", ha="left", va="center")
    colours = {"tensor": "#ffffff", "op": "#dde8f6", "scope": "#f6ecd0"}
    for node in picture.nodes:
        x, y = points[node.id]
        style = "round,pad=0.3" if node.kind != "op" else "square,pad=0.3"
        axes.text(x, y, node.label, ha="center", va="center", fontsize=7,
                  bbox=dict(boxstyle=style if node.kind != "tensor" else "round4,pad=0.4",
                            facecolor=colours[node.kind], edgecolor="#333333"))
    xs = [p[0] for p in points.values()] or [0]
    ys = [p[1] for p in points.values()] or [0]
    axes.set_xlim(min(xs) - scale_x / 1.5, max(xs) + scale_x / 1.5)
    axes.set_ylim(min(ys) - scale_y, max(ys) + scale_y)
    return Drawing("matplotlib", figure=figure)

