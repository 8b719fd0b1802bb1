"""Layer 7: optimizers and learning-rate schedules (``slim.optimizers``).

>>> import minislim as slim
>>> opt = slim.optimizers.Momentum(slim.optimizers.exponential_decay(0.1, 100, 0.5), momentum=0.9)
>>> opt.current_learning_rate(100)
0.05
"""
from minislim.optimizers.adam import Adam
from minislim.optimizers.optimizer import Optimizer
from minislim.optimizers.rmsprop import RMSProp
from minislim.optimizers.schedules import (CosineDecay, ExponentialDecay, PiecewiseConstant, cosine_decay,
                                           exponential_decay, piecewise_constant)
from minislim.optimizers.sgd import SGD, Momentum

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "RMSProp", "exponential_decay", "piecewise_constant",
           "cosine_decay", "ExponentialDecay", "PiecewiseConstant", "CosineDecay"]

# --- Adagrad and TF 1's other decays (issue #19) ---
from minislim.optimizers.adagrad import Adagrad  # noqa: E402
from minislim.optimizers.schedules import (InverseTimeDecay, NaturalExpDecay, PolynomialDecay,  # noqa: E402
                                           inverse_time_decay, natural_exp_decay, polynomial_decay)

__all__ += ["Adagrad", "polynomial_decay", "natural_exp_decay", "inverse_time_decay", "PolynomialDecay",
            "NaturalExpDecay", "InverseTimeDecay"]
