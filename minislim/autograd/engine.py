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
from minislim.autograd.higher_order import call_backward, sum_to_tensor
from minislim.autograd.recording import Recording
from minislim.autograd.tensor import Tensor
from minislim.kernels.reduce import sum_to


def topological_order(root_function) -> list:
    """Return the functions reachable from ``root_function``, consumers before producers."""
    return topological_order_many([root_function])


def topological_order_many(root_functions) -> list:
    """The functions reachable from any of ``root_functions``, consumers before producers."""
    order, visited = [], set()
    for root_function in root_functions:
        if root_function in visited:
            continue
        visited.add(root_function)
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


def backward(root, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Back-propagate from tensor ``root`` (see the module docstring).

    With ``create_graph=True`` the backward pass is itself recorded (see
    :mod:`minislim.autograd.higher_order`): each leaf's ``.grad`` becomes a Tensor with a
    graph of its own, which can be differentiated again; the graph is then kept (as with
    ``retain_graph=True``).

    Raises:
        RuntimeError: ``root`` needs no gradient, or ``grad`` is missing for a root with
            more than one element, or the graph was already released by an earlier pass,
            or ``create_graph=True`` meets an op that is not twice differentiable yet.
        ValueError: ``grad`` does not have ``root``'s shape.
    """
    if not root.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad and has no graph; "
                           "create the inputs with requires_grad=True (and outside no_grad())")
    grad = initial_gradient(root, grad, "backward()", create_graph)
    run_backward([root], [grad], retain_graph or create_graph, create_graph)


def initial_gradient(root, grad, caller: str, create_graph: bool):
    """The upstream gradient of ``root``: ones for a one-element root, else ``grad`` checked."""
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{caller} without an upstream gradient needs a tensor with one element, got "
                f"shape {root.shape}; reduce it first (e.g. .sum()) or pass grad= of that shape")
        grad = np.ones_like(root.data)
    elif create_graph and isinstance(grad, Tensor):
        if grad.shape != root.shape:
            raise ValueError(f"{caller}: grad has shape {grad.shape} but the tensor has shape {root.shape}")
        return grad
    else:
        grad = np.asarray(getattr(grad, "data", grad), dtype=root.data.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"{caller}: grad has shape {grad.shape} but the tensor has shape {root.shape}")
    return Tensor._from_op(grad, None) if create_graph else grad


def run_backward(roots, root_grads, retain_graph: bool, create_graph: bool, targets=None):
    """The backward pass from several roots at once (``backward`` and ``grad`` call it).

    Args:
        roots, root_grads: the tensors to start from and their upstream gradients
            (ndarrays; Tensors when ``create_graph``).
        targets: None to accumulate into the ``.grad`` of every leaf that requires grad
            (``backward``); else a list of tensors whose gradients are returned instead, and
            no ``.grad`` is touched (``grad``). Only the ops on a path to a target run.

    Returns:
        None, or one gradient per target (None for a target no root depends on).
    """
    grads = {}  # function -> the gradient of its output, summed over its consumers
    captured = {}  # id(target) -> its gradient
    target_ids = None if targets is None else {id(t) for t in targets}
    for root, g in zip(roots, root_grads):
        if root.creator is None:  # a leaf: nothing to propagate
            _deliver(root, g, target_ids, captured)
        else:
            grads[root.creator] = grads[root.creator] + g if root.creator in grads else g
    order = topological_order_many(list(grads))
    needed = None if targets is None else _leading_to(order, target_ids)
    captured_at = {} if targets is None else {t.creator: t for t in targets if t.creator is not None}
    for function in order:
        grad_output = grads.pop(function, None)
        if function in captured_at and grad_output is not None:
            captured[id(captured_at[function])] = grad_output
        if grad_output is None or (needed is not None and function not in needed):
            # Nothing flows through (every consumer returned None, a zero gradient as in
            # PyTorch), or nothing that was asked for lies behind this op.
            if not retain_graph:
                function.release()
            continue
        if function.released:
            raise RuntimeError(
                f"backward() through {type(function).__name__} a second time: its saved arrays "
                "were released by the first pass. Call backward(retain_graph=True) the first "
                "time, or recompute the forward pass.")
        input_grads = call_backward(function, grad_output, create_graph)
        if Recording.anomaly:  # detect_anomaly(): the first non-finite gradient raises
            after_backward(function, grad_output, input_grads)
        for tensor, needed_here, g in zip(function.inputs, function.needs_input_grad, input_grads):
            if not needed_here or g is None:
                continue
            if g.shape != tensor.data.shape:
                g = sum_to(g, tensor.data.shape) if not create_graph else sum_to_tensor(g, tensor.data.shape)
            if not create_graph and g.dtype != tensor.data.dtype:
                g = g.astype(tensor.data.dtype)
            if tensor.creator is None:
                _deliver(tensor, g, target_ids, captured)
            elif tensor.creator in grads:
                grads[tensor.creator] = grads[tensor.creator] + g  # new array: g may be shared
            else:
                grads[tensor.creator] = g
        if not retain_graph:
            function.release()
    if targets is None:
        return None
    return [captured.get(id(t)) for t in targets]


def _leading_to(order, target_ids) -> set:
    """The functions from which some target can be reached going towards the inputs."""
    needed = set()
    for function in reversed(order):  # producers first
        if any(id(t) in target_ids or (t.creator in needed) for t in function.inputs):
            needed.add(function)
    return needed


def _deliver(tensor, g, target_ids, captured) -> None:
    """A leaf's gradient: accumulated into ``.grad`` (backward) or captured (grad)."""
    if target_ids is None:
        if tensor.requires_grad:
            _accumulate_into_leaf(tensor, g)
    elif id(tensor) in target_ids:
        captured[id(tensor)] = captured[id(tensor)] + g if id(tensor) in captured else g


def _accumulate_into_leaf(tensor, g) -> None:
    if isinstance(g, Tensor):  # create_graph: .grad is a Tensor that carries its own graph
        own = g * 1.0  # a new tensor and buffer: g may reach other leaves too
        tensor.grad = own if tensor.grad is None else tensor.grad + own
    elif tensor.grad is None:
        tensor.grad = np.array(g, dtype=tensor.data.dtype, copy=True)  # the leaf's own buffer
    elif isinstance(tensor.grad, Tensor):
        tensor.grad = tensor.grad + g
    else:
        tensor.grad += g


def grad(outputs, inputs, grad_outputs=None, create_graph: bool = False, retain_graph: bool | None = None) -> list:
    """The gradients of ``outputs`` with respect to ``inputs``, returned as Tensors.

    Unlike ``backward``, nothing is accumulated into any ``.grad``, and only the ops on a
    path from an input to an output run backward.

    Args:
        outputs: a Tensor or a list of Tensors (each with one element, unless its
            ``grad_outputs`` entry is given).
        inputs: a Tensor or a list of Tensors (leaves or intermediate results).
        grad_outputs: the upstream gradients, one per output (None: ones).
        create_graph: record the backward pass, so the returned gradients can be
            differentiated again.
        retain_graph: keep the graph for another pass (default: ``create_graph``).

    Returns:
        A list with one Tensor per input; an input that no output depends on gets zeros.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs[{i}] must be a Tensor, got {type(t).__name__}")
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError(f"grad(): outputs[{i}] does not require grad (it has no graph); create the "
                               "inputs with requires_grad=True, outside no_grad()")
    seeds = [initial_gradient(out, g, "grad()", create_graph) for out, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    found = run_backward(outputs, seeds, retain, create_graph, targets=inputs)
    result = []
    for t, g in zip(inputs, found):
        if g is None:
            g = np.zeros_like(t.data)
        if not isinstance(g, Tensor):
            g = Tensor(np.array(g, dtype=t.data.dtype, copy=True))
        result.append(g)
    return result
