"""Pictures of the computational graph: ``to_dot`` (text) and ``draw`` (an image).

``to_dot(tensor)`` returns Graphviz DOT text for the graph behind a tensor: tensors as
ovals (a variable's name, or shape and dtype; value and gradient when they have at most
four elements, the gradient once ``backward()`` has run), ops as boxes (the Function's
name and the layer scope that made it), edges in data-flow order. It needs nothing.

``draw(tensor)`` renders the same graph: an SVG made by Graphviz's ``dot`` program when
it is installed, otherwise a layered layout drawn with matplotlib; one line says which was
used and how to get the other. For a model, ``collapse="scope"`` folds each layer scope
(``vgg_cifar/conv1/conv1_1``: its convolution, batch norm and ReLU) into one box listing
its variables' shapes, so that vgg_cifar fits on a page.

>>> import minislim as slim
>>> x = slim.tensor([1.0, 2.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> print(slim.viz.to_dot(y))  # doctest: +NORMALIZE_WHITESPACE
digraph minislim {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=10];
  t0 [shape=ellipse, label="(2,) float32\\nvalue [1., 2.]\\ngrad [2., 4.]"];
  f0 [shape=box, style=filled, fillcolor="#dde8f6", label="Multiply"];
  t1 [shape=ellipse, label="(2,) float32\\nvalue [1., 4.]"];
  f1 [shape=box, style=filled, fillcolor="#dde8f6", label="Sum"];
  t2 [shape=ellipse, label="() float32\\nvalue 5."];
  t0 -> f0;
  t0 -> f0;
  f0 -> t1;
  t1 -> f1;
  f1 -> t2;
}
"""
from __future__ import annotations

from minislim.viz.dot import to_dot_text
from minislim.viz.graph import Picture, build, collapse_scopes
from minislim.viz.render import (INSTALL_GRAPHVIZ, Drawing, graphviz_available, render_graphviz,
                                 render_matplotlib)

__all__ = ["to_dot", "draw", "picture", "Drawing"]

COLLAPSE = (None, "scope")


def picture(tensor, collapse: str | None = None) -> Picture:
    """The graph behind ``tensor`` as nodes and edges (see :mod:`minislim.viz.graph`)."""
    if not hasattr(tensor, "creator") or not hasattr(tensor, "data"):
        raise TypeError(f"viz: expected a minislim Tensor, got {type(tensor).__name__}")
    if collapse not in COLLAPSE:
        raise ValueError(f"viz: collapse must be None or 'scope', got {collapse!r}")
    return collapse_scopes(tensor) if collapse == "scope" else build(tensor)


def to_dot(tensor, collapse: str | None = None) -> str:
    """Graphviz DOT text for the graph behind ``tensor`` (``collapse="scope"``: one box per layer)."""
    return to_dot_text(picture(tensor, collapse))


def draw(tensor, collapse: str | None = None, engine: str | None = None, quiet: bool = False) -> Drawing:
    """Render the graph behind ``tensor``.

    Args:
        tensor: the output whose graph to draw (e.g. the loss).
        collapse: None (every op and tensor) or "scope" (one box per layer scope).
        engine: None (Graphviz when its ``dot`` program is installed, else matplotlib),
            "graphviz" or "matplotlib".
        quiet: do not print which engine was used.

    Returns:
        A :class:`Drawing` (shown inline in a notebook; ``.save(path)`` writes a file).

    Raises:
        RuntimeError: the engine asked for is not installed.
    """
    if engine not in (None, "graphviz", "matplotlib"):
        raise ValueError(f"viz.draw: engine must be None, 'graphviz' or 'matplotlib', got {engine!r}")
    graph = picture(tensor, collapse)
    if engine is None:
        engine = "graphviz" if graphviz_available() else "matplotlib"
        if engine == "matplotlib" and not quiet:
            print(f"viz.draw: Graphviz's dot program was not found, so matplotlib drew this; {INSTALL_GRAPHVIZ}")
    if engine == "graphviz":
        if not graphviz_available():
            raise RuntimeError(f"viz.draw: engine='graphviz' needs Graphviz's dot program on the PATH; "
                               f"{INSTALL_GRAPHVIZ}, or pass engine='matplotlib'")
        if not quiet:
            print("viz.draw: drawn by Graphviz's dot (pass engine='matplotlib' for the matplotlib drawing)")
        return render_graphviz(graph)
    try:
        return render_matplotlib(graph)
    except ImportError:
        raise RuntimeError("viz.draw: neither Graphviz's dot program nor matplotlib is installed; "
                           f"pip install matplotlib, or {INSTALL_GRAPHVIZ}. to_dot() needs neither.") from None
