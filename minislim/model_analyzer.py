"""``analyze_vars``: a table of a model's variables with their shapes, sizes and bytes;
``analyze_ops``: per layer, the output shape, multiply-adds, activation memory and im2col buffer.

>>> import numpy as np
>>> import minislim as slim
>>> _ = slim.conv2d(np.zeros((1, 8, 8, 3), np.float32), 4, [3, 3], scope="conv1")
>>> total_size, total_bytes = slim.model_analyzer.analyze_vars(slim.get_model_variables())
name          shape          size  bytes
conv1/weights (3, 3, 3, 4)    108    432
conv1/biases  (4,)              4     16
Total size of variables: 112
Total bytes of variables: 448
>>> total_size, total_bytes
(112, 448)
"""
from __future__ import annotations

import numpy as np

from minislim.framework.variables import get_variables
from minislim.viz.graph import layer_scopes


def analyze_vars(variables=None, print_info: bool = True) -> tuple:
    """Count the elements and bytes of ``variables``, printing one row per variable.

    Args:
        variables: a list of Variables (default: every variable of the default graph),
            e.g. ``slim.get_model_variables()``.
        print_info: print the table and the totals.

    Returns:
        ``(total_size, total_bytes)``: the number of elements and of bytes.
    """
    if variables is None:
        variables = get_variables()
    rows = [(v.name, str(tuple(v.shape)), v.size, v.size * v.dtype.itemsize) for v in variables]
    total_size = sum(row[2] for row in rows)
    total_bytes = sum(row[3] for row in rows)
    if print_info:
        header = ("name", "shape", "size", "bytes")
        widths = [max([len(header[i])] + [len(str(row[i])) for row in rows]) for i in range(4)]
        print(f"{header[0]:<{widths[0]}} {header[1]:<{widths[1]}} {header[2]:>{widths[2]}} {header[3]:>{widths[3]}}")
        for name, shape, size, nbytes in rows:
            print(f"{name:<{widths[0]}} {shape:<{widths[1]}} {size:>{widths[2]}} {nbytes:>{widths[3]}}")
        print(f"Total size of variables: {total_size}")
        print(f"Total bytes of variables: {total_bytes}")
    return total_size, total_bytes


# --- per layer: where the time and the memory go ------------------------------------------

def _buffer_key(array) -> int:
    """The id of the array that owns the memory (views share their base's memory)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return id(array)


def _held_arrays(function):
    """Every ndarray a recorded op keeps alive: its inputs' values (the graph holds the
    input tensors), what it saved for backward, and array attributes such as a
    convolution's im2col columns."""
    arrays = [t.data for t in function.inputs]
    for value in list(vars(function).values()) + list(function.saved_arrays):
        if isinstance(value, np.ndarray):
            arrays.append(value)
        elif isinstance(value, (tuple, list)):
            arrays += [v for v in value if isinstance(v, np.ndarray)]
    return arrays


def _macs(function, output_shape) -> tuple:
    """Multiply-adds ``(forward, backward)`` of the ops that dominate: convolution, matmul."""
    name = type(function).__name__
    inputs = function.inputs
    if name == "Conv2D":
        kh, kw, c, oc = inputs[1].shape
        forward = int(np.prod(output_shape, dtype=np.int64)) * kh * kw * c
        needs = function.needs_input_grad
        return forward, forward * (int(needs[0]) + int(needs[1]))
    if name == "Conv2DTranspose":
        kh, kw, oc, c = inputs[1].shape
        forward = int(np.prod(inputs[0].shape, dtype=np.int64)) * kh * kw * oc
        return forward, forward * sum(int(n) for n in function.needs_input_grad)
    if name == "MatMul":
        k = inputs[0].shape[-1]
        forward = int(np.prod(output_shape, dtype=np.int64)) * k
        return forward, forward * sum(int(n) for n in function.needs_input_grad)
    return 0, 0


def _im2col_bytes(function) -> tuple:
    """``(columns, padded, spread)`` bytes of a convolution's im2col buffers.

    ``columns``: the ``N*OH*OW*KH*KW*C`` numbers the forward pass fills and keeps for the
    filters' gradient. Then the scratch buffers the kernels' workspace keeps from one step
    to the next: ``padded``, the zero-padded copy of the inputs (forward), and ``spread``,
    the zero-spread output gradient that the inputs' gradient takes its columns from
    (backward).
    """
    if type(function).__name__ != "Conv2D":
        return 0, 0, 0
    from minislim.kernels.conv import compute_dtype, conv_geometry
    from minislim.kernels.shapes import effective_size

    x, filters = function.inputs[0].data, function.inputs[1].data
    geometry = conv_geometry(x.shape, filters.shape, function.stride, function.padding, function.rate)
    itemsize = compute_dtype(x, filters).itemsize
    columns = int(np.prod(geometry.columns_shape, dtype=np.int64)) * itemsize
    n, h, w, c = x.shape
    (top, bottom), (left, right) = geometry.pads
    padded = n * (h + top + bottom) * (w + left + right) * c * itemsize if top + bottom + left + right else 0
    spread = 0
    if function.needs_input_grad[0]:
        span_h, span_w = (effective_size(k, r) for k, r in zip(geometry.kernel, geometry.rate))
        spread = n * (h + span_h - 1) * (w + span_w - 1) * filters.shape[3] * itemsize
    return columns, padded, spread


class LayerCost:
    """One row of :func:`analyze_ops`: a layer scope (or ``(no scope)``) and its costs."""

    __slots__ = ("name", "ops", "output_shape", "macs_forward", "macs_backward", "activation_bytes",
                 "im2col_bytes", "scratch_bytes", "padded_bytes", "output_bytes")

    def __init__(self, name):
        self.name, self.ops, self.output_shape = name, [], ()
        self.macs_forward = self.macs_backward = self.activation_bytes = self.im2col_bytes = 0
        self.scratch_bytes = self.padded_bytes = self.output_bytes = 0

    def __repr__(self) -> str:
        return (f"LayerCost({self.name!r}, output {self.output_shape}, MACs {self.macs_forward}/{self.macs_backward}, "
                f"activations {self.activation_bytes} B, im2col {self.im2col_bytes} B)")


def analyze_ops(output, print_info: bool = True) -> dict:
    """Per layer of the graph behind ``output``: output shape, multiply-adds forward and
    backward, activation memory kept for the backward pass, and a convolution's im2col buffer.

    Run the model once with gradients recorded (a training forward pass) on a batch of the
    size you mean, and pass its loss or logits; the costs scale with the batch.

    * **MACs** count the multiply-adds of convolutions and matrix products (everything
      else is a few operations per element, negligible beside them). The backward pass
      costs one forward's worth per input that needs a gradient: the filters' gradient
      and the inputs' gradient of a convolution (the first layer's inputs, the images,
      need none).
    * **activations** are the bytes the recorded graph keeps alive until ``backward``:
      every op's input values and the arrays it saved, each buffer counted once, for the
      first layer (in data-flow order) that holds it; the variables are not counted (they
      live as long as the model).
    * **im2col** is the columns buffer a convolution fills (``N*OH*OW*KH*KW*C`` numbers);
      the forward pass keeps it for the filters' gradient, so it is part of the activations
      too, and the backward pass reuses its memory for the inputs' gradient.

    Returns:
        ``{"layers": [LayerCost, ...], "macs_forward": int, "macs_backward": int,
        "activation_bytes": int, "im2col_bytes": int, "parameter_bytes": int}``.

    Raises:
        ValueError: ``output`` has no recorded graph (built under ``no_grad()``, or from
            inputs that need no gradient).
    """
    if getattr(output, "creator", None) is None:
        raise ValueError("analyze_ops: this tensor has no recorded graph; run the model with gradients on "
                         "(a training forward pass, not under no_grad()) and pass its loss or logits")
    from minislim.autograd.engine import topological_order

    functions = list(reversed(topological_order(output.creator)))
    layer_of = layer_scopes(functions)
    rows, seen = {}, set()
    parameters = {}
    for function in functions:
        for t in function.inputs:
            if t.creator is None and t.requires_grad and getattr(t, "name", None):
                parameters[_buffer_key(t.data)] = t.data.nbytes
    seen.update(parameters)
    consumers_output = {}
    for function in functions:
        for t in function.inputs:
            if t.creator is not None:
                consumers_output.setdefault(t.creator, t.shape)
    consumers_output[output.creator] = output.shape
    for function in functions:
        name = layer_of[function] or "(no scope)"
        row = rows.setdefault(name, LayerCost(name))
        row.ops.append(type(function).__name__)
        shape = tuple(consumers_output.get(function, ()))
        row.output_shape = shape
        forward, backward = _macs(function, shape)
        row.macs_forward += forward
        row.macs_backward += backward
        columns, padded, spread = _im2col_bytes(function)
        row.im2col_bytes += columns
        row.padded_bytes += padded
        row.scratch_bytes += padded + spread
        row.output_bytes = max(row.output_bytes, int(np.prod(shape, dtype=np.int64)) * 4)
        for array in _held_arrays(function):
            key = _buffer_key(array)
            if key not in seen:
                seen.add(key)
                owner = array
                while isinstance(owner.base, np.ndarray):
                    owner = owner.base
                row.activation_bytes += owner.nbytes
    layers = list(rows.values())
    totals = {"layers": layers,
              "macs_forward": sum(r.macs_forward for r in layers),
              "macs_backward": sum(r.macs_backward for r in layers),
              "activation_bytes": sum(r.activation_bytes for r in layers),
              "im2col_bytes": sum(r.im2col_bytes for r in layers),
              "scratch_bytes": sum(r.scratch_bytes for r in layers),
              "parameter_bytes": sum(parameters.values())}
    # A training step's peak, beyond the parameters and their gradients: the activations,
    # the kernels' scratch buffers, and during backward the gradient arriving at the
    # largest layer output together with the one it sends on (about as large).
    totals["peak_bytes"] = (totals["activation_bytes"] + totals["scratch_bytes"]
                            + 2 * max((r.output_bytes for r in layers), default=0))
    if print_info:
        print(format_ops_table(totals))
    return totals


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.2f}"


def format_ops_table(totals: dict) -> str:
    """The table :func:`analyze_ops` prints (MACs in millions, memory in MiB)."""
    header = ("layer", "output", "MMACs fwd", "MMACs bwd", "activ. MiB", "im2col MiB")
    rows = [(r.name, str(r.output_shape), f"{r.macs_forward / 1e6:.2f}", f"{r.macs_backward / 1e6:.2f}",
             _mib(r.activation_bytes), _mib(r.im2col_bytes)) for r in totals["layers"]]
    rows.append(("total", "", f"{totals['macs_forward'] / 1e6:.2f}", f"{totals['macs_backward'] / 1e6:.2f}",
                 _mib(totals["activation_bytes"]), _mib(totals["im2col_bytes"])))
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]

    def line(row):
        return " ".join([f"{row[0]:<{widths[0]}}", f"{row[1]:<{widths[1]}}"] +
                        [f"{cell:>{w}}" for cell, w in zip(row[2:], widths[2:])]).rstrip()

    lines = [line(header)] + [line(row) for row in rows]
    lines.append(f"Kernel scratch buffers (padded inputs, spread gradients): {_mib(totals['scratch_bytes'])} MiB")
    lines.append(f"Estimated peak of a training step: {_mib(totals['peak_bytes'])} MiB (activations, scratch, and "
                 f"the gradients in flight), plus the parameters and their gradients "
                 f"(2 x {_mib(totals['parameter_bytes'])} MiB)")
    return "\n".join(lines)
