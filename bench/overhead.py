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
from _common import header, median_time, torch_or_none  # noqa: E402

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


if __name__ == "__main__":
    main()
