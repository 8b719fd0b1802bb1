"""The LOSSES collection: ``add_loss``, ``get_losses``, ``get_regularization_losses``, ``get_total_loss``.

Every loss function of :mod:`minislim.losses` adds its result to the default graph's
``GraphKeys.LOSSES`` collection, as TF-Slim does, so a model function can call several
losses and then ask for their sum. Regularization losses (from ``weights_regularizer=``)
live in ``GraphKeys.REGULARIZATION_LOSSES`` and are computed from the variables' current
values when read. Inside ``make_template`` (and so inside ``create_train_op``), LOSSES is
emptied at the start of every call, so the losses of earlier steps do not pile up.

>>> import minislim as slim
>>> _ = slim.losses.sum_of_squares(slim.tensor([1.0, 3.0]), slim.tensor([0.0, 0.0]))
>>> slim.losses.add_loss(slim.tensor(0.5))
>>> [round(loss.item(), 3) for loss in slim.losses.get_losses()]
[5.0, 0.5]
>>> slim.losses.get_total_loss().item()
5.5
"""
from __future__ import annotations

import functools

from minislim.autograd.tensor import Tensor
from minislim.framework.collections import GraphKeys, add_to_collection, get_collection
from minislim.framework.scopes import get_variable_scope

LOSSES = GraphKeys.LOSSES


def loss_name(scope: str | None, default: str) -> str:
    """The name of a loss tensor: ``<current scope>/<scope or default>/value``."""
    outer = get_variable_scope().name
    own = scope or default
    return f"{outer}/{own}/value" if outer else f"{own}/value"


def add_loss(loss: Tensor, loss_collection: str | None = LOSSES) -> None:
    """Add ``loss`` (a scalar Tensor) to ``loss_collection`` (None: add it nowhere)."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"add_loss: expected a Tensor, got {type(loss).__name__}")
    if loss_collection:
        add_to_collection(loss_collection, loss)


def get_losses(scope: str | None = None, loss_collection: str = LOSSES) -> list:
    """The losses added so far (optionally those whose name matches ``scope`` at the start)."""
    return get_collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list:
    """The regularization losses, computed now from the variables' current values."""
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss") -> Tensor:
    """The sum of every loss in LOSSES, plus the regularization losses by default.

    Raises:
        ValueError: there is no loss at all (no loss function was called).
    """
    losses = get_losses()
    if add_regularization_losses:
        losses += get_regularization_losses()
    if not losses:
        raise ValueError("get_total_loss: no losses were added; call a slim.losses function (e.g. "
                         "softmax_cross_entropy) or slim.losses.add_loss first")
    total = functools.reduce(lambda a, b: a + b, losses)
    if total is losses[0]:  # a single loss: do not rename the caller's tensor
        total = total + 0.0
    total.name = name
    return total
