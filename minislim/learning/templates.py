"""``model_template(fn)``: run a model function every step, with variables named at the root.

``create_train_op`` and ``evaluate_once`` call the user's function once per batch, so the
function must run inside a template (the first call creates the variables, later calls
reuse them). ``slim.make_template(name, fn)`` puts every variable under a scope ``name/``;
here the variables keep the names the function gives them (``vgg_16/conv1/conv1_1/weights``,
exactly TF-Slim's), so a checkpoint written by training fits the evaluation function, a
pretrained TF-Slim checkpoint fits the training function, and both fit ``diff``.

A template passed in is used as it is (its own scope prefix included).

>>> import minislim as slim
>>> def model(x):
...     with slim.variable_scope("dense"):
...         w = slim.variable("w", shape=[], initializer=slim.constant_initializer(2.0))
...     return x * w
>>> t = model_template(model)
>>> t(slim.tensor(3.0)).item(), t(slim.tensor(4.0)).item()
(6.0, 8.0)
>>> [v.name for v in slim.get_variables()]
['dense/w']
"""
from __future__ import annotations

from minislim.framework.template import Template


def model_template(fn) -> Template:
    """``fn`` itself if it is a template, else a template at the root scope around it.

    The first call creates the variables (or reuses those already in the graph), every
    later call reuses them, and default names (``Conv``, ``Conv_1``, ...) restart at every
    call: see :class:`minislim.framework.template.Template`.
    """
    if isinstance(fn, Template):
        return fn
    if not callable(fn):
        raise TypeError(f"expected a function building the model, got {fn!r}")
    return Template(getattr(fn, "__name__", "model"), fn, at_root=True)
