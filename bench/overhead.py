"""Per-op autograd overhead: a chain of small elementwise ops, forward plus backward.

Each op works on a 4-element array, so the time is almost all framework overhead:
creating the graph node and output tensor, the topological sort, the backward call and
the gradient bookkeeping. Printed beside PyTorch's when PyTorch is installed (same
threads). Run: ``python bench/overhead.py [--ops 2000] [--repeats 9]``.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import header, median_time, median_times, torch_or_none  # noqa: E402

import minislim as slim  # noqa: E402


def minislim_chain(num_ops: int):
    x = slim.tensor(np.ones(4, dtype=np.float32), requires_grad=True)

    def step():
        y = x
        for i in range(num_ops // 2):
            y = y * 1.0001
            y = y + 0.001
        y.sum().backward()
        x.zero_grad()
    return step


class ArrayMultiply(slim.Function):
    """The multiply op as it would be with a backward on ndarrays (first order only)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad_output):
        a, b = self.saved_arrays
        return (grad_output * b if self.needs_input_grad[0] else None,
                grad_output * a if self.needs_input_grad[1] else None)


class ArrayAdd(slim.Function):
    """The add op with a backward on ndarrays (first order only)."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad_output):
        return grad_output, grad_output


def array_backward_chain(num_ops: int):
    """The same chain through ops whose backward works on ndarrays: what a first-order step
    would cost without the one-formula design of higher-order gradients."""
    x = slim.tensor(np.ones(4, dtype=np.float32), requires_grad=True)

    def step():
        y = x
        for i in range(num_ops // 2):
            y = ArrayMultiply()(y, 1.0001)
            y = ArrayAdd()(y, 0.001)
        y.sum().backward()
        x.zero_grad()
    return step


def create_graph_chain(num_ops: int):
    """The library's chain with the backward pass recorded (create_graph=True)."""
    x = slim.tensor(np.ones(4, dtype=np.float32), requires_grad=True)

    def step():
        y = x
        for i in range(num_ops // 2):
            y = y * 1.0001
            y = y + 0.001
        slim.grad(y.sum(), [x], create_graph=True)
    return step


def ops_with_tensor_backward_in_a_vgg_step() -> tuple:
    """(ops whose backward runs as Tensor ops, all ops) in one vgg_cifar training forward pass."""
    from minislim.autograd.engine import topological_order
    from minislim.nets.vgg import vgg_cifar, vgg_cifar_arg_scope

    with slim.Graph().as_default():
        images = slim.tensor(np.zeros((2, 32, 32, 3), np.float32))
        with slim.arg_scope(vgg_cifar_arg_scope()):
            logits, _ = vgg_cifar(images)
        slim.losses.sparse_softmax_cross_entropy(logits, np.array([0, 1]))
        order = topological_order(slim.losses.get_total_loss().creator)
    return sum(f.differentiable_backward for f in order), len(order)


def numpy_chain(num_ops: int):
    """The same arithmetic on bare ndarrays, without a graph: the floor."""
    x = np.ones(4, dtype=np.float32)

    def step():
        y = x
        for i in range(num_ops // 2):
            y = y * np.float32(1.0001)
            y = y + np.float32(0.001)
        return y.sum()
    return step


def torch_chain(torch, num_ops: int):
    x = torch.ones(4, requires_grad=True)

    def step():
        y = x
        for i in range(num_ops // 2):
            y = y * 1.0001
            y = y + 0.001
        y.sum().backward()
        x.grad = None
    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000, help="length of the chain")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (NumPy's are irrelevant here)")
    args = parser.parse_args(argv)

    print(header(f"autograd overhead: chain of {args.ops} elementwise ops on 4 floats, forward + backward"))
    rows = [("minislim", median_time(minislim_chain(args.ops), args.repeats)),
            ("NumPy alone (no graph)", median_time(numpy_chain(args.ops), args.repeats))]
    torch = torch_or_none(args.threads)
    if torch is not None:
        rows.append((f"PyTorch {torch.__version__} ({args.threads} thread)",
                     median_time(torch_chain(torch, args.ops), args.repeats)))
    reference = rows[-1][1] if torch is not None else None
    print(f"\n{'what':<34}{'median ms':>10}{'us per op':>11}{'vs PyTorch':>12}")
    for name, seconds in rows:
        ratio = f"{seconds / reference:.2f}x" if reference else "n/a"
        print(f"{name:<34}{seconds * 1e3:>10.2f}{seconds / args.ops * 1e6:>11.2f}{ratio:>12}")
    if torch is None:
        print("\nPyTorch is not installed: `pip install torch==2.13.0` adds the comparison.")
    print(f"\nmedian of {args.repeats} runs; minislim's overhead per op = its time minus NumPy's, "
          f"{(rows[0][1] - rows[1][1]) / args.ops * 1e6:.2f} us")
    higher_order_table(args)


def higher_order_table(args) -> None:
    """What the higher-order design costs a first-order step (docs/higher_order.md); the
    three chains run in turn (median_times), so a drifting load hits them alike."""
    times = median_times({"array": array_backward_chain(args.ops), "library": minislim_chain(args.ops),
                          "graph": create_graph_chain(args.ops)}, args.repeats)
    array_seconds, library_seconds, graph_seconds = (times[k] / 1e3 for k in ("array", "library", "graph"))
    print("\nhigher-order gradients: one backward formula per op, written with differentiable ops")
    print(f"{'what':<58}{'median ms':>10}{'us per op':>11}")
    for name, seconds in [("backward on ndarrays (first order only)", array_seconds),
                          ("one formula on Tensors, run unrecorded (what minislim does)", library_seconds),
                          ("the same, recorded (create_graph=True)", graph_seconds)]:
        print(f"{name:<58}{seconds * 1e3:>10.2f}{seconds / args.ops * 1e6:>11.2f}")
    extra = (library_seconds - array_seconds) / args.ops
    tensor_ops, all_ops = ops_with_tensor_backward_in_a_vgg_step()
    print(f"\ncost of the design on a first-order step: {extra * 1e6:.2f} us per op whose backward is a Tensor "
          f"formula; a vgg_cifar training step has {tensor_ops} such ops (of {all_ops}; convolution, batch "
          f"norm, pooling and ReLU keep their NumPy backward), about {tensor_ops * extra * 1e3:.2f} ms per step")


if __name__ == "__main__":
    main()
