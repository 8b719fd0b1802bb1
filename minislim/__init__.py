"""minislim: a pure-NumPy deep learning framework for teaching, with the API of TF-Slim.

>>> import minislim as slim
>>> x = slim.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0]
"""
from minislim import nn, ops, testing  # noqa: F401  (ops attaches Tensor's operators)
from minislim.autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, tensor

__version__ = "0.1.0"

__all__ = ["__version__", "nn", "testing", "Tensor", "Function", "tensor", "no_grad",
           "enable_grad", "is_grad_enabled"]

# --- framework (layer 4): graph, variables, scopes, arg_scope, initializers, regularizers ---
# (block owned by the framework work; add imports and extend __all__ here)

# --- layers (layer 5) ---

# --- losses, metrics (layer 6) ---

# --- optimizers (layer 7) ---

# --- learning, checkpoints, evaluation (layer 8) ---

# --- nets, datasets, data (layer 9) ---
from minislim import data, datasets  # noqa: E402

__all__ += ["data", "datasets"]
