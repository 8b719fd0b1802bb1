"""Benchmark: minislim's convolution and pooling against the GEMM floor and PyTorch CPU.

For the 3x3 SAME layers of a small VGG for CIFAR at batch 64, and for 2x2 max pooling,
it prints (as Markdown tables):

* ``fwd`` and ``fwd+bwd``: medians of several runs of ``Conv2D.forward`` and of forward
  plus ``backward`` (what the engine runs for one layer inside a network; the first layer's
  inputs are images, so it computes no input gradient, like any framework);
* ``floor``: ``np.matmul`` alone on C-contiguous operands for the same matrix products
  (forward; filters' gradient; inputs' gradient), the floor of any im2col design;
  ``/floor`` is the ratio of the measured time to it;
* ``extra MiB``: the peak of NumPy allocations during one cold forward+backward
  (tracemalloc, empty workspace), minus the output and the two gradients, and its ratio
  to the forward's im2col buffer;
* ``torch``: PyTorch CPU on the same layer (channels_last, same thread count) when it is
  installed, and our time divided by it;
* a second table, the bound of any im2col design: the floor plus the layer's im2col copies
  (``np.copyto`` of the kernels' strided window views into reused buffers), and how far
  the measured time and PyTorch's are from it.

NumPy's functions and the GEMM floor run interleaved (a, b, c, a, b, c, ...) so that
their ratios stay fair when the machine's load drifts; PyTorch runs in its own block.

Run: ``python bench/conv.py [--batch 64] [--repeats 9] [--threads T]``. Compare ratios from one run:
absolute times drift 10-20% between runs on a shared machine.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import (blas_info, gemm_products, im2col_copies, median_times, run_all, separately,  # noqa: E402
                     torch_or_none)

from minislim.kernels import pool  # noqa: E402
from minislim.kernels.conv import conv_geometry  # noqa: E402
from minislim.kernels.im2col import WORKSPACE  # noqa: E402
from minislim.ops.conv import Conv2D  # noqa: E402

#: (H, W, C, OC) of the 3x3 SAME convolutions of a small VGG for CIFAR
LAYERS = [(32, 32, 3, 32), (32, 32, 32, 32), (16, 16, 32, 64), (16, 16, 64, 64), (8, 8, 64, 128), (8, 8, 128, 128)]
#: (H, W, C) of the inputs of its 2x2/2 max pools
POOLS = [(32, 32, 32), (16, 16, 64), (8, 8, 128)]
MIB = 2.0 ** 20


# --- one convolution layer ---------------------------------------------------------------------

def conv_step(x, filters, grad_output, needs_input_grad):
    """Forward and backward of one Conv2D node, as the engine runs it."""
    function = Conv2D(1, "SAME", 1)
    function.needs_input_grad = (needs_input_grad, True)
    y = function.forward(x, filters)
    grads = function.backward(grad_output)
    function.release()
    return y, grads


def conv_forward(x, filters):
    function = Conv2D(1, "SAME", 1)
    y = function.forward(x, filters)
    function.release()
    return y


def peak_extra_mib(x, filters, grad_output, needs_input_grad) -> float:
    """Peak NumPy allocation of one cold forward+backward, minus the output and the gradients."""
    WORKSPACE.clear()
    gc.collect()
    tracemalloc.start()
    y, grads = conv_step(x, filters, grad_output, needs_input_grad)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results = y.nbytes + sum(g.nbytes for g in grads if g is not None)
    return (peak - results) / MIB


def bench_layer(h, w, c, oc, batch, repeats, torch, rng) -> dict:
    x = rng.standard_normal((batch, h, w, c), dtype=np.float32)
    filters = (rng.standard_normal((3, 3, c, oc), dtype=np.float32) / np.sqrt(9 * c)).astype(np.float32)
    grad_output = rng.standard_normal((batch, h, w, oc), dtype=np.float32)
    needs_input_grad = c > 3  # the first layer's inputs are the images
    geometry = conv_geometry(x.shape, filters.shape)
    m, k = batch * h * w, 9 * c
    row = {"layer": f"{h}x{w}x{c}->{oc}", "im2col MiB": np.prod(geometry.columns_shape) * 4 / MIB}

    row["extra MiB"] = peak_extra_mib(x, filters, grad_output, needs_input_grad)
    WORKSPACE.clear()
    forward_product, *backward_products = gemm_products(
        [(m, k, oc, False), (m, k, oc, True)] + ([(m, 9 * oc, c, False)] if needs_input_grad else []), rng)
    copies = im2col_copies(batch, [(h, w, c, oc, needs_input_grad)], rng)
    functions = {
        "fwd": lambda: conv_forward(x, filters),
        "fwd+bwd": lambda: conv_step(x, filters, grad_output, needs_input_grad),
        "floor fwd": forward_product,
        "floor bwd": lambda: run_all(backward_products),
    }
    row.update(median_times(functions, repeats))
    # back to back, their data warm in the caches: the copies' most favourable case (a lower bound)
    row.update(median_times({"copies": lambda: run_all(copies)}, repeats))
    if torch is not None:
        row.update(separately(torch_layer(torch, x, filters, grad_output, needs_input_grad), repeats))
    row["floor fwd+bwd"] = row["floor fwd"] + row.pop("floor bwd")
    return row


def torch_layer(torch, x, filters, grad_output, needs_input_grad) -> dict:
    """PyTorch's forward and forward+backward of the same layer, channels_last."""
    channels_last = torch.channels_last
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    wt = torch.from_numpy(filters).permute(3, 2, 0, 1).contiguous(memory_format=channels_last)
    gt = torch.from_numpy(grad_output).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    xt_grad = xt.clone().requires_grad_(needs_input_grad)
    wt_grad = wt.clone().requires_grad_(True)
    conv = torch.nn.functional.conv2d

    def forward():
        with torch.no_grad():
            conv(xt, wt, padding=1)

    def step():
        xt_grad.grad = wt_grad.grad = None
        conv(xt_grad, wt_grad, padding=1).backward(gt)

    return {"torch fwd": forward, "torch fwd+bwd": step}


# --- 2x2 max pooling ---------------------------------------------------------------------------

def bench_pool(h, w, c, batch, repeats, torch, rng) -> dict:
    x = rng.standard_normal((batch, h, w, c), dtype=np.float32)
    grad_output = rng.standard_normal((batch, h // 2, w // 2, c), dtype=np.float32)
    out = np.empty_like(x)

    def step():
        y = pool.max_pool2d(x, 2, 2)
        pool.max_pool2d_grad(x, grad_output, 2, 2, output=y)

    row = {"input": f"{h}x{w}x{c}", **median_times({"one pass": lambda: np.add(x, x, out=out),
                                                      "fwd": lambda: pool.max_pool2d(x, 2, 2), "fwd+bwd": step},
                                                     repeats)}
    if torch is not None:
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        xt_grad = xt.clone().requires_grad_(True)
        gt = torch.from_numpy(grad_output).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        max_pool = torch.nn.functional.max_pool2d

        def torch_forward():
            with torch.no_grad():
                max_pool(xt, 2, 2)

        def torch_step():
            xt_grad.grad = None
            max_pool(xt_grad, 2, 2).backward(gt)

        row.update(separately({"torch fwd": torch_forward, "torch fwd+bwd": torch_step}, repeats))
    return row


# --- report ------------------------------------------------------------------------------------

def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS (and PyTorch) to this many threads (needs threadpoolctl)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    args = parser.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads, user_api="blas")

    blas, threads = blas_info()
    torch = None if args.no_torch else torch_or_none(threads)
    print(f"minislim convolution benchmark: batch {args.batch}, float32, median of {args.repeats} runs")
    print(f"NumPy {np.__version__}, BLAS: {blas}, threads: {threads}; {platform.processor() or platform.machine()}; "
          f"PyTorch: {torch.__version__ + ' (channels_last, same threads)' if torch else 'not installed'}")
    rng = np.random.default_rng(0)

    rows = [bench_layer(*layer, args.batch, args.repeats, torch, rng) for layer in LAYERS]
    print("\n3x3 SAME convolution, times in ms\n")
    print_table_head(["layer", "fwd", "fwd floor", "/floor", "fwd+bwd", "fwd+bwd floor", "/floor", "extra MiB",
                      "/im2col"], ["torch fwd", "torch fwd+bwd", "fwd /torch", "fwd+bwd /torch"], torch)
    for row in rows + [total_row(rows, torch)]:
        line = (f"| {row['layer']} | {row['fwd']:.1f} | {row['floor fwd']:.1f} | {row['fwd'] / row['floor fwd']:.2f} "
                f"| {row['fwd+bwd']:.1f} | {row['floor fwd+bwd']:.1f} | {row['fwd+bwd'] / row['floor fwd+bwd']:.2f} | "
                + (f"{row['extra MiB']:.1f} | {row['extra MiB'] / row['im2col MiB']:.2f} |" if "extra MiB" in row
                   else " | |"))
        if torch:
            line += (f" {row['torch fwd']:.1f} | {row['torch fwd+bwd']:.1f} | {row['fwd'] / row['torch fwd']:.2f} "
                     f"| {row['fwd+bwd'] / row['torch fwd+bwd']:.2f} |")
        print(line)

    print_bounds(rows + [total_row(rows, torch)], torch)

    pools = [bench_pool(*shape, args.batch, args.repeats, torch, rng) for shape in POOLS]
    print("\n2x2/2 max pooling, times in ms (one pass: np.add(x, x, out=...) on the input)\n")
    print_table_head(["input", "one pass", "fwd", "fwd+bwd", "fwd+bwd in passes"],
                     ["torch fwd", "torch fwd+bwd", "fwd+bwd /torch"], torch)
    for row in pools:
        line = (f"| {row['input']} | {row['one pass']:.2f} | {row['fwd']:.2f} | {row['fwd+bwd']:.2f} "
                f"| {row['fwd+bwd'] / row['one pass']:.1f} |")
        if torch:
            line += f" {row['torch fwd']:.2f} | {row['torch fwd+bwd']:.2f} | {row['fwd+bwd'] / row['torch fwd+bwd']:.2f} |"
        print(line)


def print_bounds(rows, torch) -> None:
    """What no im2col design can beat here: its matrix products, plus its im2col copies."""
    print("\nWhat bounds an im2col convolution here (forward+backward, ms): the matrix products alone"
          "\n(floor), plus the im2col copies the layer makes (forward columns; columns of the output"
          "\ngradient for the inputs' gradient), timed back to back on the kernels' own strided views\n")
    print_table_head(["layer", "floor", "copies", "floor+copies", "(floor+copies) /floor", "fwd+bwd", "/(floor+copies)"],
                     ["floor /torch", "(floor+copies) /torch"], torch)
    for row in rows:
        floor, bound = row["floor fwd+bwd"], row["floor fwd+bwd"] + row["copies"]
        line = (f"| {row['layer']} | {floor:.1f} | {row['copies']:.1f} | {bound:.1f} | {bound / floor:.2f} "
                f"| {row['fwd+bwd']:.1f} | {row['fwd+bwd'] / bound:.2f} |")
        if torch:
            line += f" {floor / row['torch fwd+bwd']:.2f} | {bound / row['torch fwd+bwd']:.2f} |"
        print(line)


def print_table_head(columns: list, torch_columns: list, torch) -> None:
    """A Markdown table's header and rule (the first column left-aligned, the rest right);
    ``torch_columns`` only when PyTorch is there."""
    names = columns + (torch_columns if torch else [])
    print("| " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * (len(names) - 1))


def total_row(rows, torch) -> dict:
    keys = ["fwd", "floor fwd", "fwd+bwd", "floor fwd+bwd", "copies"] + (["torch fwd", "torch fwd+bwd"] if torch else [])
    return {"layer": "**all six**", **{key: sum(row[key] for row in rows) for key in keys}}


if __name__ == "__main__":
    main()
