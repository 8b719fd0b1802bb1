"""Layer 8: training (``slim.learning``): ``create_train_op``, ``train``, diagnostics.

>>> import minislim as slim
>>> sorted(name for name in slim.learning.__all__ if not name[0].isupper())
['create_train_op', 'model_template', 'train']
"""
from minislim.learning.diagnostics import Watch
from minislim.learning.templates import model_template
from minislim.learning.train import train
from minislim.learning.train_op import NonFiniteError, TrainOp, create_train_op

__all__ = ["create_train_op", "train", "TrainOp", "NonFiniteError", "Watch", "model_template"]
