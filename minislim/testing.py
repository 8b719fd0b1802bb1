"""Tools for checking gradients: ``slim.testing.gradcheck`` and its report.

>>> import numpy as np
>>> import minislim as slim
>>> slim.testing.gradcheck(lambda x: (x * x).sum(), [np.array([1.0, -2.0])]).ok
True
"""
from minislim.autograd.gradcheck import GradcheckError, GradcheckReport, gradcheck, gradgradcheck

__all__ = ["gradcheck", "GradcheckError", "GradcheckReport", "gradgradcheck"]
