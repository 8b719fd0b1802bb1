"""Shared helpers of the benchmarks: timing medians and a description of the machine."""
from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np


def median_time(fn, repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs (after ``warmup``)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def blas_info() -> str:
    """Which BLAS NumPy uses and with how many threads (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (install threadpoolctl)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return "BLAS: none found"
    p = pools[0]
    return f"BLAS: {p.get('internal_api')} {p.get('version')} ({p.get('architecture')}), {p.get('num_threads')} threads"


def torch_or_none(threads: int):
    """Import PyTorch if it is installed, held to ``threads`` threads; else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def header(title: str) -> str:
    lines = [title, "=" * len(title),
             f"machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; "
             f"NumPy {np.__version__}; {blas_info()}"]
    return "\n".join(lines)
