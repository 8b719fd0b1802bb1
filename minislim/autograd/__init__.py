"""Layer 2: the autograd core.

``Tensor`` (values + graph links), ``Function`` (one op, forward and backward side by
side), the engine (``backward``: reverse topological order, broadcasting undone
centrally), ``no_grad``, the dtype rules and ``gradcheck``.
"""
from minislim.autograd.anomaly import AnomalyError, detect_anomaly
from minislim.autograd.engine import backward, grad, topological_order
from minislim.autograd.function import Function
from minislim.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from minislim.autograd.gradcheck import GradcheckError, GradcheckReport, gradcheck, gradgradcheck
from minislim.autograd.higher_order import NotTwiceDifferentiableError
from minislim.autograd.tensor import Tensor, tensor

__all__ = ["Tensor", "tensor", "Function", "backward", "topological_order", "no_grad",
           "enable_grad", "is_grad_enabled", "gradcheck", "GradcheckError", "GradcheckReport"]
__all__ += ["detect_anomaly", "AnomalyError", "grad", "gradgradcheck", "NotTwiceDifferentiableError"]
