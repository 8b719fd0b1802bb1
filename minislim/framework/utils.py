"""End points (named layer outputs) and small argument helpers, as in TF-Slim's ``slim.utils``.

A layer called with ``outputs_collections=c`` gives its output the alias of its scope
(``vgg_16/conv1/conv1_1``) and adds it to collection ``c``;
``convert_collection_to_dict(c)`` then maps each alias to its tensor: the ``end_points``
that TF-Slim's nets return.

One difference from TF-Slim: a collection keeps one output per alias. When a layer runs
again (every training step, in an eager framework) its new output replaces the old one
instead of piling up behind it.

>>> import minislim as slim
>>> x = slim.tensor([1.0])
>>> _ = slim.utils.collect_named_outputs("ends", "net/fc1", x)
>>> list(slim.utils.convert_collection_to_dict("ends"))
['net/fc1']
"""
from __future__ import annotations

from collections import OrderedDict

from minislim.framework.graph import get_default_graph


def append_tensor_alias(tensor, alias: str):
    """Add ``alias`` (a trailing ``/`` removed) to ``tensor.aliases``; return the tensor."""
    if alias.endswith("/"):
        alias = alias[:-1]
    aliases = getattr(tensor, "aliases", None)
    tensor.aliases = (list(aliases) if aliases else []) + [alias]
    tensor.alias = alias
    return tensor


def get_tensor_aliases(tensor) -> list:
    """The aliases of ``tensor`` (its ``name`` if it has none)."""
    aliases = getattr(tensor, "aliases", None)
    if aliases:
        return list(aliases)
    name = getattr(tensor, "name", None)
    return [name] if name else []


def collect_named_outputs(collections, alias: str, outputs):
    """Give ``outputs`` the alias ``alias`` and add it to each collection of ``collections``.

    Args:
        collections: a collection name, a list of names, or None (then nothing happens).
        alias: the end-point name, normally the layer's full scope name.
        outputs: the layer's output Tensor.

    Returns:
        ``outputs``, unchanged.
    """
    if not collections:
        return outputs
    if isinstance(collections, str):
        collections = [collections]
    append_tensor_alias(outputs, alias)
    alias = outputs.alias
    graph = get_default_graph()
    for name in dict.fromkeys(collections):
        items = graph.get_collection_ref(name)
        for index in range(len(items) - 1, -1, -1):  # drop an older output under this alias
            old = items[index]
            if old is outputs:
                continue
            old_aliases = getattr(old, "aliases", None)
            if old_aliases and alias in old_aliases:
                remaining = [a for a in old_aliases if a != alias]
                if remaining:
                    old.aliases = remaining
                else:
                    del items[index]
        if not any(item is outputs for item in items):
            graph.add_to_collection(name, outputs)
    return outputs


def convert_collection_to_dict(collection: str, clear_collection: bool = False) -> OrderedDict:
    """``{alias: tensor}`` for the tensors of ``collection``, in the order they were added."""
    graph = get_default_graph()
    output = OrderedDict((alias, tensor) for tensor in graph.get_collection(collection)
                         for alias in get_tensor_aliases(tensor))
    if clear_collection:
        graph.clear_collection(collection)
    return output


def two_element_tuple(int_or_tuple, name: str = "argument") -> tuple:
    """``3 -> (3, 3)``; ``[3, 5] -> (3, 5)``.

    Raises:
        ValueError: a sequence that does not have two elements.
        TypeError: not an int or a sequence of ints.
    """
    if isinstance(int_or_tuple, bool):
        raise TypeError(f"{name} must be an int or a pair of ints, got {int_or_tuple!r}")
    if isinstance(int_or_tuple, int) or hasattr(int_or_tuple, "__index__"):
        value = int(int_or_tuple)
        return value, value
    if isinstance(int_or_tuple, (list, tuple)):
        if len(int_or_tuple) != 2:
            raise ValueError(f"{name} must have 2 elements, got {list(int_or_tuple)!r}")
        if any(isinstance(v, bool) or not hasattr(v, "__index__") for v in int_or_tuple):
            raise TypeError(f"{name} must hold ints, got {list(int_or_tuple)!r}")
        return int(int_or_tuple[0]), int(int_or_tuple[1])
    raise TypeError(f"{name} must be an int or a pair of ints, got {type(int_or_tuple).__name__}: {int_or_tuple!r}")
