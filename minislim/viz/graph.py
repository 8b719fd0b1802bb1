"""The graph behind a tensor as plain data: nodes (tensors, ops, layer boxes) and edges.

:func:`build` walks back from a tensor through ``creator`` links and lists every tensor
and op it meets, producers before consumers (data-flow order). :func:`collapse_scopes`
folds each layer scope into one box, listing the variables it owns, so that a whole model
fits on a page. Both return a :class:`Picture`; :mod:`minislim.viz.dot` turns it into
Graphviz text and :mod:`minislim.viz.render` into an image.

>>> import minislim as slim
>>> x = slim.tensor([1.0, 2.0], requires_grad=True)
>>> picture = build((x * 3).sum())
>>> [node.kind for node in picture.nodes]
['tensor', 'tensor', 'op', 'tensor', 'op', 'tensor']
>>> [node.label.splitlines()[0] for node in picture.nodes if node.kind == "op"]
['Multiply', 'Sum']
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minislim.autograd.engine import topological_order

#: tensors with at most this many elements show their values (and gradient)
SMALL = 4


@dataclass
class Node:
    """One box or oval: ``kind`` is "tensor", "op" or "scope"; ``label`` has one item a line."""

    id: str
    kind: str
    label: str


@dataclass
class Picture:
    """Nodes in data-flow order and edges ``(source id, target id, label)``."""

    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)


def _format(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), precision=4, separator=", ", suppress_small=True)


def tensor_label(tensor) -> str:
    """Name (a variable) or shape and dtype; value and gradient for small tensors."""
    lines = [tensor.name] if getattr(tensor, "name", None) else []
    lines.append(f"{tuple(tensor.shape)} {tensor.dtype}")
    if tensor.data.size <= SMALL:
        lines.append(f"value {_format(tensor.data)}")
        if tensor.grad is not None:
            lines.append(f"grad {_format(getattr(tensor.grad, 'data', tensor.grad))}")
    return "\n".join(lines)


def op_label(function) -> str:
    """The Function's class name, and the layer scope that made it."""
    name = type(function).__name__
    return f"{name}\n{function.scope}" if function.scope else name


def build(root) -> Picture:
    """Every tensor and op behind ``root`` (a Tensor), producers before consumers."""
    picture = Picture()
    seen = {}

    def tensor_node(tensor) -> str:
        key = id(tensor)
        if key not in seen:
            seen[key] = (f"t{len(seen)}", tensor)  # the tensor is kept: its id stays unique
            picture.nodes.append(Node(seen[key][0], "tensor", tensor_label(tensor)))
        return seen[key][0]

    if root.creator is None:
        tensor_node(root)
        return picture
    functions = list(reversed(topological_order(root.creator)))  # producers first
    outputs = {root.creator: root}
    # An op's output tensor is found from its consumer's inputs (a Function keeps its
    # inputs, not its output); the root is the output of the last op.
    for function in functions:
        for tensor in function.inputs:
            if tensor.creator is not None:
                outputs.setdefault(tensor.creator, tensor)
    for i, function in enumerate(functions):
        op_id = f"f{i}"
        input_ids = [tensor_node(t) for t in function.inputs]
        picture.nodes.append(Node(op_id, "op", op_label(function)))
        picture.edges += [(t_id, op_id, "") for t_id in input_ids]
        output = outputs.get(function)
        if output is not None:
            picture.edges.append((op_id, tensor_node(output), ""))
    return picture


def layer_scopes(functions) -> dict:
    """``{function: layer scope or None}``: the layer each recorded op belongs to.

    An op's layer is its scope, except that a scope inside a layer that owns variables of
    its own folds into it: ``conv1/conv1_1/BatchNorm`` belongs to ``conv1/conv1_1`` (which
    owns ``conv1/conv1_1/weights``), while ``conv1/conv1_1`` stays apart from ``conv1``,
    which owns none (it only groups ``repeat``'s layers).
    """
    owners = set()
    for function in functions:
        for tensor in function.inputs:
            name = getattr(tensor, "name", None)
            if tensor.creator is None and name and "/" in name:
                owners.add(name.rsplit("/", 1)[0])

    def layer(scope):
        parts = scope.split("/")
        for end in range(1, len(parts)):  # the outermost enclosing scope that owns variables
            if "/".join(parts[:end]) in owners:
                return "/".join(parts[:end])
        return scope

    return {f: (layer(f.scope) if f.scope else None) for f in functions}


def collapse_scopes(root) -> Picture:
    """One box per layer scope (its op names and its variables' shapes), edges between layers.

    Tensors made and used inside one layer disappear; an edge between layers is labelled
    with the shape of the tensor it carries. Leaves that are not a layer's variables (the
    images, the labels) and the root stay ovals.
    """
    picture = Picture()
    if root.creator is None:
        return build(root)
    functions = list(reversed(topological_order(root.creator)))
    group_of = layer_scopes(functions)
    node_ids, members = {}, {}

    def group_id(function) -> str:
        group = group_of[function]
        key = ("scope", group) if group is not None else ("op", id(function))
        if key not in node_ids:
            node_ids[key] = f"n{len(node_ids)}"
            members[key] = []
            picture.nodes.append(Node(node_ids[key], "scope" if group is not None else "op",
                                      group if group is not None else op_label(function)))
        members[key].append(function)
        return node_ids[key]

    leaf_ids = {}
    layers = sorted((g for g in group_of.values() if g), key=len, reverse=True)
    variables = {}  # group -> [variable], the leaves each layer owns

    def source_id(tensor):
        """The node a tensor comes from: its producer's box, its layer (a variable), or an oval."""
        if tensor.creator is not None:
            return ids_of_function[tensor.creator]
        name = getattr(tensor, "name", None) or ""
        owner = next((g for g in layers if name.startswith(g + "/")), None)
        if owner is not None:
            if all(v is not tensor for v in variables.setdefault(owner, [])):
                variables[owner].append(tensor)
            return node_ids[("scope", owner)]
        if not tensor.requires_grad and tensor.data.size <= SMALL:
            return None  # a small constant (a scale, a count) is left out of the model picture
        if id(tensor) not in leaf_ids:
            leaf_ids[id(tensor)] = (f"l{len(leaf_ids)}", tensor)
            picture.nodes.append(Node(leaf_ids[id(tensor)][0], "tensor", tensor_label(tensor)))
        return leaf_ids[id(tensor)][0]

    # An op outside every scope that computes from one layer's variables only (a weight
    # decay term: ``scale * sum(w * w) / 2``) is drawn inside that layer's box.
    layer_of_variable = {}
    for function in functions:
        for tensor in function.inputs:
            name = getattr(tensor, "name", None) or ""
            if tensor.creator is None and tensor.requires_grad and name:
                owner = next((g for g in layers if name.startswith(g + "/")), None)
                if owner is not None:
                    layer_of_variable[id(tensor)] = owner
    regularizers = {}
    for function in functions:
        if group_of[function] is not None:
            continue
        owners = set()
        for tensor in function.inputs:
            if tensor.creator is not None:
                owners.add(regularizers.get(tensor.creator, "not a layer's own computation"))
            elif id(tensor) in layer_of_variable:
                owners.add(layer_of_variable[id(tensor)])
            elif tensor.requires_grad:
                owners.add("not a layer's own computation")
        if len(owners) == 1 and next(iter(owners)) in layers:
            regularizers[function] = group_of[function] = next(iter(owners))
    ids_of_function = {}
    for function in functions:
        ids_of_function[function] = group_id(function)
    edges = {}
    for function in functions:
        target = ids_of_function[function]
        for tensor in function.inputs:
            source = source_id(tensor)
            if source is not None and source != target:
                edges.setdefault((source, target), str(tuple(tensor.shape)) if tensor.creator else "")
    root_id = "root"
    picture.nodes.append(Node(root_id, "tensor", tensor_label(root)))
    edges[(ids_of_function[root.creator], root_id)] = ""
    picture.edges = [(s, t, label) for (s, t), label in edges.items()]
    # Each layer box lists its ops (in order, repeats counted once) and its variables' shapes.
    for node in picture.nodes:
        if node.kind != "scope":
            continue
        group = members[("scope", node.label)]
        ops = list(dict.fromkeys(type(f).__name__ for f in group if f not in regularizers))
        lines = [node.label, " ".join(ops)]
        if any(f in regularizers for f in group):
            lines.append("+ weight decay")
        for v in variables.get(node.label, []):
            lines.append(f"{v.name[len(node.label) + 1:]} {tuple(v.shape)}")
        node.label = "\n".join(lines)
    return picture
