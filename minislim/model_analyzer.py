"""``analyze_vars``: a table of a model's variables with their shapes, sizes and bytes.

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

from minislim.framework.variables import get_variables


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
