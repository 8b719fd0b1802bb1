"""Layer 8: training (``slim.learning``): ``create_train_op``, ``train``, diagnostics.

>>> import minislim as slim
>>> sorted(name for name in slim.learning.__all__ if not name[0].isupper())  # doctest: +NORMALIZE_WHITESPACE
['add_gradients_summaries', 'clip_gradient_norms', 'create_train_op', 'model_template',
 'multiply_gradients', 'optimize_loss', 'summaries', 'train']
"""
from minislim.learning.diagnostics import Watch
from minislim.learning.templates import model_template
from minislim.learning.train import train
from minislim.learning.train_op import NonFiniteError, TrainOp, create_train_op

__all__ = ["create_train_op", "train", "TrainOp", "NonFiniteError", "Watch", "model_template"]

# --- TF-Slim parity (issue #19) ---
from minislim.learning import summaries  # noqa: E402
from minislim.learning.gradients import clip_gradient_norms, multiply_gradients  # noqa: E402
from minislim.learning.optimize_loss import OPTIMIZER_CLS_NAMES, OPTIMIZER_SUMMARIES, optimize_loss  # noqa: E402
from minislim.learning.summaries import add_gradients_summaries  # noqa: E402

__all__ += ["clip_gradient_norms", "multiply_gradients", "optimize_loss", "summaries", "add_gradients_summaries",
            "OPTIMIZER_CLS_NAMES", "OPTIMIZER_SUMMARIES"]
