"""TF-Slim's shortcuts for ``fully_connected`` with a fixed activation: ``elu``, ``relu``,
``relu6``, ``linear`` (``functools.partial`` objects, as in tf_slim, so ``arg_scope`` on
``fully_connected`` reaches them and ``repeat``/``stack`` name their scopes
``fully_connected_<i>``).

These are *layers* (``slim.relu(net, 64)`` creates weights); the activation functions
themselves are ``slim.nn.relu`` and friends.

>>> import numpy as np
>>> import minislim as slim
>>> y = slim.relu6(np.full((1, 2), 10.0, np.float32), 3, weights_initializer=slim.ones_initializer())
>>> y.data.tolist()
[[6.0, 6.0, 6.0]]
"""
import functools

from minislim.layers.dense import fully_connected
from minislim.ops.activations import elu as nn_elu
from minislim.ops.activations import relu as nn_relu
from minislim.ops.activations import relu6 as nn_relu6

elu = functools.partial(fully_connected, activation_fn=nn_elu)
relu = functools.partial(fully_connected, activation_fn=nn_relu)
relu6 = functools.partial(fully_connected, activation_fn=nn_relu6)
linear = functools.partial(fully_connected, activation_fn=None)
