"""Gradient list helpers of ``slim.learning``: ``clip_gradient_norms``, ``multiply_gradients``.

Both take and return TF's ``[(gradient, variable), ...]`` lists (gradients are ndarrays
here, as ``Optimizer.compute_gradients`` returns them; ``None`` passes through) and never
write into the given arrays.

>>> import numpy as np
>>> import minislim as slim
>>> w = slim.variable("w", shape=[2])
>>> [(g, _)] = clip_gradient_norms([(np.array([3.0, 4.0], np.float32), w)], max_norm=1.0)
>>> g.tolist()
[0.6000000238418579, 0.800000011920929]
>>> [(g, _)] = multiply_gradients([(np.array([3.0, 4.0], np.float32), w)], {"w": 0.5})
>>> g.tolist()
[1.5, 2.0]
"""
from __future__ import annotations

import numpy as np

from minislim.learning.train_op import clip_by_norm


def clip_gradient_norms(gradients_to_variables, max_norm: float) -> list:
    """Clip each gradient to the norm ``max_norm`` on its own (TF's per-tensor ``clip_by_norm``)."""
    return [(None if grad is None else clip_by_norm(np.asarray(getattr(grad, "data", grad)), max_norm), var)
            for grad, var in gradients_to_variables]


def _is_key(var, gradient_multipliers: dict) -> bool:
    return any(key is var for key in gradient_multipliers if not isinstance(key, str))


def multiply_gradients(grads_and_vars, gradient_multipliers: dict) -> list:
    """Scale the gradients of the variables named in ``gradient_multipliers``.

    Args:
        grads_and_vars: a list of ``(gradient, variable)``.
        gradient_multipliers: ``{variable or variable name: factor}``.

    Raises:
        ValueError: ``grads_and_vars`` not a list; ``gradient_multipliers`` empty or not
            a dict; a factor requested for a ``None`` gradient (TF-Slim's messages).
    """
    if not isinstance(grads_and_vars, list):
        raise ValueError("`grads_and_vars` must be a list.")
    if not gradient_multipliers:
        raise ValueError("`gradient_multipliers` is empty.")
    if not isinstance(gradient_multipliers, dict):
        raise ValueError("`gradient_multipliers` must be a dict.")
    by_object = {id(key): value for key, value in gradient_multipliers.items() if not isinstance(key, str)}
    result = []
    for grad, var in grads_and_vars:
        factor = by_object.get(id(var)) if _is_key(var, gradient_multipliers) else \
            gradient_multipliers.get(getattr(var, "name", None))
        if factor is not None:
            if grad is None:
                raise ValueError("Requested multiple of `None` gradient.")
            grad = np.asarray(getattr(grad, "data", grad))
            grad = grad * grad.dtype.type(factor)
        result.append((grad, var))
    return result
