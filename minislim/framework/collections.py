"""Collections: named lists kept by the default graph, with TensorFlow's standard keys.

A collection is how one part of a model tells another about something it made: layers add
their variables to ``MODEL_VARIABLES``, losses add themselves to ``LOSSES``, layers called
with ``outputs_collections`` add their outputs (the "end points").

Two kinds of collections behave specially (minislim is eager, TF-Slim built a graph once):

* ``REGULARIZATION_LOSSES`` holds a *recipe* per regularized variable; reading the
  collection computes each loss from the variable's current value, as a Tensor connected
  to the variable (so it receives gradients). One entry per variable, whatever the number
  of forward passes.
* *Per-call* collections are emptied at the start of every (outermost) call of a
  ``make_template`` function: ``LOSSES``, and every collection that received something
  other than a variable during an earlier template call (end points, for example). So a
  model function run at every training step does not pile up the losses of past steps.

>>> import minislim as slim
>>> slim.add_to_collection("my_things", 3)
>>> slim.get_collection("my_things")
[3]
>>> slim.GraphKeys.MODEL_VARIABLES
'model_variables'
"""
from __future__ import annotations

from minislim.framework.graph import get_default_graph


class GraphKeys:
    """Standard collection names (the values are TensorFlow's)."""

    GLOBAL_VARIABLES = "variables"
    #: TF's older name for ``GLOBAL_VARIABLES`` (the same collection)
    VARIABLES = GLOBAL_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    GLOBAL_STEP = "global_step"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    #: unused by minislim's layers (batch_norm updates its statistics in place); kept so
    #: that ported code reading it gets an empty list
    UPDATE_OPS = "update_ops"
    SUMMARIES = "summaries"
    ACTIVATIONS = "activations"
    #: filled only by code that adds to it; ``apply_regularization`` reads it by default
    WEIGHTS = "weights"

    #: collections emptied at the start of every outermost template call
    PER_CALL = (LOSSES, UPDATE_OPS, SUMMARIES, ACTIVATIONS)


def add_to_collection(name: str, value) -> None:
    """Append ``value`` to the default graph's collection ``name``."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value) -> None:
    """Append ``value`` to each of the default graph's collections ``names``."""
    get_default_graph().add_to_collections(names, value)


def get_collection(name: str, scope: str | None = None) -> list:
    """Items of the default graph's collection ``name`` (a new list).

    Args:
        name: the collection's name (e.g. ``GraphKeys.LOSSES``).
        scope: optional regular expression; keep only items whose ``name`` matches it at
            the start (e.g. ``"vgg_16/fc8"``).
    """
    return get_default_graph().get_collection(name, scope)


def get_collection_ref(name: str) -> list:
    """The live list behind the default graph's collection ``name``."""
    return get_default_graph().get_collection_ref(name)


def clear_collection(name: str) -> None:
    """Empty the default graph's collection ``name``."""
    get_default_graph().clear_collection(name)
