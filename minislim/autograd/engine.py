"""The backward pass: visit the graph in reverse topological order, once.

``backward(root)`` does three things:

1. **Order.** Walk from ``root.creator`` through every ``Function`` whose inputs need a
   gradient, with an explicit stack (no recursion, so a chain of 100,000 ops is fine), and
   list the functions so that each comes before the functions that produced its inputs.
2. **Propagate.** In that order, hand each function the sum of the gradients that reached
   its output, call its ``backward``, sum each returned gradient back to its input's shape
   (undoing broadcasting, here and nowhere else) and pass it on. A backward may return
   ``None`` for an input: a zero gradient, as in PyTorch; a function that receives only
   ``None`` is skipped.
3. **Accumulate.** A leaf that requires grad adds what reached it into ``.grad`` (as in
   PyTorch: a second ``backward`` adds to the first). Each leaf owns its ``.grad`` buffer;
   no two tensors ever share one.

Intermediate gradients live in a dictionary local to one call, so running ``backward``
twice can never reuse a stale intermediate gradient (micrograd's classic bug). Unless
``retain_graph=True``, each function releases its saved arrays after use, and a second
pass over the same graph raises a RuntimeError that says so.
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.anomaly import after_backward
from minislim.autograd.recording import Recording
from minislim.kernels.reduce import sum_to


def topological_order(root_function) -> list:
    """Return the functions reachable from ``root_function``, consumers before producers."""
    order, visited = [], {root_function}
    stack = [(root_function, _parents(root_function))]
    while stack:
        function, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, _parents(parent)))
                break
        else:  # every parent is done: this function can be placed
            stack.pop()
            order.append(function)
    order.reverse()
    return order


def _parents(function):
    return iter([t.creator for t in function.inputs if t.creator is not None and t.requires_grad])


def backward(root, grad=None, retain_graph: bool = False) -> None:
    """Back-propagate from tensor ``root`` (see the module docstring).

    Raises:
        RuntimeError: ``root`` needs no gradient, or ``grad`` is missing for a root with
            more than one element, or the graph was already released by an earlier pass.
        ValueError: ``grad`` does not have ``root``'s shape.
    """
    if not root.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad and has no graph; "
                           "create the inputs with requires_grad=True (and outside no_grad())")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() without an upstream gradient needs a tensor with one element, got "
                f"shape {root.shape}; reduce it first (e.g. .sum()) or pass grad= of that shape")
        grad = np.ones_like(root.data)
    else:
        grad = np.asarray(getattr(grad, "data", grad), dtype=root.data.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward(): grad has shape {grad.shape} but the tensor has shape {root.shape}")

    if root.creator is None:  # a leaf: nothing to propagate
        _accumulate_into_leaf(root, grad)
        return

    grads = {root.creator: grad}
    for function in topological_order(root.creator):
        grad_output = grads.pop(function, None)
        if grad_output is None:
            # Every consumer returned None for this function's output (a zero gradient, as
            # in PyTorch): nothing flows through it.
            if not retain_graph:
                function.release()
            continue
        if function.released:
            raise RuntimeError(
                f"backward() through {type(function).__name__} a second time: its saved arrays "
                "were released by the first pass. Call backward(retain_graph=True) the first "
                "time, or recompute the forward pass.")
        input_grads = function.backward(grad_output)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if Recording.anomaly:  # detect_anomaly(): the first non-finite gradient raises
            after_backward(function, grad_output, input_grads)
        for tensor, needed, g in zip(function.inputs, function.needs_input_grad, input_grads):
            if not needed or g is None:
                continue
            if g.shape != tensor.data.shape:
                g = sum_to(g, tensor.data.shape)
            if g.dtype != tensor.data.dtype:
                g = g.astype(tensor.data.dtype)
            if tensor.creator is None:
                _accumulate_into_leaf(tensor, g)
            elif tensor.creator in grads:
                grads[tensor.creator] = grads[tensor.creator] + g  # new array: g may be shared
            else:
                grads[tensor.creator] = g
        if not retain_graph:
            function.release()


def _accumulate_into_leaf(tensor, g: np.ndarray) -> None:
    if tensor.grad is None:
        tensor.grad = np.array(g, dtype=tensor.data.dtype, copy=True)  # the leaf's own buffer
    else:
        tensor.grad += g
