"""Shared helpers of the benchmarks: timing medians, a description of the machine, and the
pieces of work that bound any im2col convolution (matrix products alone, im2col copies)."""
from __future__ import annotations

import functools
import os
import platform
import statistics
import time

import numpy as np

from minislim.kernels.im2col import windows


def median_time(fn, repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs (after ``warmup``)."""
    return median_times({"fn": fn}, repeats, warmup)["fn"] / 1e3


def blas_info() -> tuple:
    """(description of NumPy's BLAS, its thread count or None), from threadpoolctl when installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl)", None
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    numpy_pools = [p for p in pools if "numpy" in p.get("filepath", "")]  # not SciPy's own copy
    if not pools:
        return "none found", None
    p = (numpy_pools or pools)[0]
    return (f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, {p.get('threading_layer')})",
            p.get("num_threads"))


def torch_or_none(threads: int | None):
    """Import PyTorch if it is installed, held to ``threads`` threads (if given); else None."""
    try:
        import torch
    except ImportError:
        return None
    if threads:
        torch.set_num_threads(threads)
    return torch


def header(title: str) -> str:
    blas, threads = blas_info()
    lines = [title, "=" * len(title),
             f"machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; "
             f"NumPy {np.__version__}; BLAS: {blas}, {threads} threads"]
    return "\n".join(lines)


def median_times(functions: dict, repeats: int, warmup: int = 2) -> dict:
    """Median wall time in milliseconds of each function, the functions run in turn.

    Interleaving the runs (a, b, c, a, b, c, ...) keeps the ratios fair when the machine's
    load drifts during the benchmark, as it does on a shared machine.
    """
    times = {name: [] for name in functions}
    for round_ in range(warmup + repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e3 for name, values in times.items()}


def separately(functions: dict, repeats: int) -> dict:
    """:func:`median_times` for another library's functions, after a pause.

    Not interleaved with NumPy's: OpenBLAS's idle threads spin for a while after each
    product, and PyTorch's OpenMP threads after each parallel region, and on a small
    machine each library's spinning threads would slow the other down.
    """
    time.sleep(0.5)
    result = median_times(functions, repeats)
    time.sleep(0.5)
    return result


def gemm_products(shapes, rng) -> list:
    """One ``functools.partial(np.matmul, a, b, out=out)`` per (M, K, N, transposed_a) in ``shapes``, operands laid
    out as the kernels lay them out (C-contiguous, or a plain transpose of a C-contiguous [M, K])."""
    products = []
    for m, k, n, transposed_a in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        if transposed_a:  # the filters' gradient: columns.T @ grad_output
            b, out = rng.standard_normal((m, n), dtype=np.float32), np.empty((k, n), np.float32)
            a = a.T
        else:
            b, out = rng.standard_normal((k, n), dtype=np.float32), np.empty((m, n), np.float32)
        products.append(functools.partial(np.matmul, a, b, out=out))
    return products


def im2col_copies(batch: int, layers, rng) -> list:
    """The im2col copies of the 3x3 SAME convolutions ``layers`` ((H, W, C, OC, needs_input_grad)
    each), forward and backward: one ``functools.partial(np.copyto, columns, view)`` per copy.

    Each copies the (N, H, W, 3, 3, channels) windows of a zero-padded buffer into a reused
    C-contiguous buffer, as :func:`minislim.kernels.im2col.im2col` does: the forward's columns
    of the inputs (C channels), and, for a layer that computes its inputs' gradient, the
    columns of the padded output gradient (OC channels). Every im2col design pays these on
    top of its matrix products; the padding copies are left out, so their sum is a lower bound.
    """
    copies = []
    for h, w, c, oc, needs_input_grad in layers:
        channel_counts = (c, oc) if needs_input_grad else (c,)
        # one buffer per layer, as in Conv2D: the inputs' gradient reuses the forward's columns
        memory = np.empty(batch * h * w * 9 * max(channel_counts), np.float32)
        for channels in channel_counts:
            padded = np.zeros((batch, h + 2, w + 2, channels), np.float32)
            padded[:, 1:-1, 1:-1] = rng.standard_normal((batch, h, w, channels), dtype=np.float32)
            view = windows(padded, (3, 3), (1, 1), (1, 1), (h, w))  # the kernels' own strided view
            columns = memory[:view.size].reshape(view.shape)
            copies.append(functools.partial(np.copyto, columns, view))
    return copies


def run_all(functions) -> None:
    """Call every function of a list, in order (one timed unit of work)."""
    for fn in functions:
        fn()
