"""Layer 3: differentiable ops built on the kernels (layer 1) and the autograd core (layer 2).

Each module holds one family of ops, each op a ``Function`` subclass with forward and
backward side by side, a functional wrapper, and an entry in the op table
(:mod:`minislim.ops.registry`). :mod:`minislim.nn` is the public face (the ``tf.nn``
analogue); importing this package also attaches operators and methods to ``Tensor``.
"""
from minislim.ops import (activations, arithmetic, conv, dropout, lrn, math_ops, normalization, pool, random,
                          reductions, registry, shape_ops, softmax, tensor_methods)

tensor_methods.install()

__all__ = ["activations", "arithmetic", "conv", "lrn", "pool", "dropout", "math_ops", "normalization", "random", "reductions",
           "registry", "shape_ops", "softmax", "tensor_methods"]

from minislim.ops import gradient_ops  # noqa: E402  (scale_gradient, issue #19)

__all__ += ["gradient_ops"]
