"""Turning a picture into an image: Graphviz's ``dot`` when installed, else matplotlib.

:class:`Drawing` is what :func:`minislim.viz.draw` returns. In a notebook it shows itself
inline (SVG from Graphviz, or the matplotlib figure); ``save(path)`` writes it to a file.

The matplotlib fallback lays the graph out in layers, the idea behind Graphviz's own
``dot`` (Sugiyama's method) without its refinements: a node's layer is the length of
the longest path from a source to it, nodes in a layer are ordered by the mean position
of their parents (one sweep), and an edge that spans several layers gets a waypoint in
each of them, so that it runs in a lane beside the nodes rather than through their boxes;
edges are straight segments. It is plainer than Graphviz but needs no program outside
Python.
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


def _layers(picture) -> dict:
    """``{node id: layer}``: the length of the longest path from a source to the node."""
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
    return layer


def layout_with_routes(picture) -> tuple:
    """``(positions, routes)``: ``positions`` maps every node id, and a waypoint id for each
    layer that a long edge crosses, to ``(x, layer)``; ``routes[k]`` lists the ids edge ``k``
    passes through, from its source to its target.

    A long edge (a weight decay term that joins the loss many layers down) gets a waypoint
    in every layer between its ends, ordered with the nodes, so that it runs beside them
    in a lane of its own rather than straight through their boxes. A waypoint takes
    :data:`LANE` of a node's width.
    """
    layer = _layers(picture)
    parents = {node.id: [] for node in picture.nodes}
    routes = []
    for k, (source, target, _) in enumerate(picture.edges):
        route = [source] + [f"~{k}.{depth}" for depth in range(layer[source] + 1, layer[target])] + [target]
        for depth, waypoint in enumerate(route[1:-1], start=layer[source] + 1):
            layer[waypoint] = depth
            parents[waypoint] = []
        for above, below in zip(route, route[1:]):
            parents[below].append(above)
        routes.append(route)
    by_layer = {}
    for node_id in list(parents):
        by_layer.setdefault(layer[node_id], []).append(node_id)
    x = {}
    for depth in sorted(by_layer):
        ids = by_layer[depth]
        turn = {node_id: i for i, node_id in enumerate(ids)}
        # order by the mean position of the parents (a node without parents keeps its turn)
        ids.sort(key=lambda i: (sum(x[p] for p in parents[i]) / len(parents[i]) if parents[i] else turn[i],
                                turn[i]))
        widths = [LANE if node_id.startswith("~") else 1.0 for node_id in ids]
        left = -sum(widths) / 2
        for node_id, width in zip(ids, widths):
            x[node_id] = left + width / 2
            left += width
    return {node_id: (x[node_id], layer[node_id]) for node_id in parents}, routes


#: the width of a long edge's lane, as a share of a node's
LANE = 0.3


def layered_layout(picture) -> dict:
    """``{node id: (x, layer)}``: layer = longest path from a source, x = order in the layer
    (long edges' lanes included, see :func:`layout_with_routes`)."""
    positions, _ = layout_with_routes(picture)
    return {node.id: positions[node.id] for node in picture.nodes}


def render_matplotlib(picture) -> Drawing:
    """Draw the layered layout with matplotlib (boxes for ops and layers, ovals for tensors)."""
    from matplotlib.figure import Figure  # a bare Figure: no pyplot, no GUI backend needed

    positions, routes = layout_with_routes(picture)
    labels = {node.id: node.label for node in picture.nodes}
    line = 7 * 1.3 / 72  # a 7-point line of text, in inches
    half_height = {i: (label.count("\n") + 1) * line / 2 + 0.08 for i, label in labels.items()}
    widest = max((len(row) for label in labels.values() for row in label.splitlines()), default=1)
    tallest = max(half_height.values(), default=0.2) * 2
    # one data unit is one inch: the axes fill the figure, whose size is the layout's
    scale_x, scale_y = max(1.6, widest * 0.065 + 0.4), tallest + 0.45
    points = {i: (x * scale_x, -y * scale_y) for i, (x, y) in positions.items()}
    xs = [p[0] for p in points.values()] or [0]
    ys = [p[1] for p in points.values()] or [0]
    left, right = min(xs) - scale_x / 2, max(xs) + scale_x / 2
    bottom, top = min(ys) - tallest / 2 - 0.2, max(ys) + tallest / 2 + 0.2
    figure = Figure(figsize=(right - left, top - bottom))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top)
    for (source, target, label), route in zip(picture.edges, routes):
        path = [points[i] for i in route]
        path[0] = (path[0][0], path[0][1] - half_height[source])
        path[-1] = (path[-1][0], path[-1][1] + half_height[target])
        for start, end in zip(path[:-2], path[1:-1]):  # through the waypoints, then the arrow
            axes.plot([start[0], end[0]], [start[1], end[1]], color="#555555", lw=0.8)
        axes.annotate("", xy=path[-1], xytext=path[-2], arrowprops=dict(arrowstyle="->", color="#555555", lw=0.8))
        if label:
            (x0, y0), (x1, y1) = path[0], path[1]
            axes.text((x0 + x1) / 2 + 0.05, (y0 + y1) / 2, label, fontsize=6, color="#555555", ha="left",
                      va="center")
    colours = {"tensor": "#ffffff", "op": "#dde8f6", "scope": "#f6ecd0"}
    for node in picture.nodes:
        x, y = points[node.id]
        style = "round,pad=0.3" if node.kind != "op" else "square,pad=0.3"
        axes.text(x, y, node.label, ha="center", va="center", fontsize=7,
                  bbox=dict(boxstyle=style if node.kind != "tensor" else "round4,pad=0.4",
                            facecolor=colours[node.kind], edgecolor="#333333"))
    return Drawing("matplotlib", figure=figure)
