"""``slim.nn``: the functional ops (the analogue of ``tf.nn``).

>>> import minislim as slim
>>> slim.nn.relu(slim.tensor([-1.0, 2.0])).data.tolist()
[0.0, 2.0]
"""
from minislim.ops.activations import elu, leaky_relu, relu, relu6, sigmoid, softplus, tanh
from minislim.ops.arithmetic import add, divide, matmul, multiply, negative, power, subtract
from minislim.ops.dropout import dropout
from minislim.ops.lrn import local_response_normalization, lrn
from minislim.ops.math_ops import abs, clip, exp, log, maximum, minimum, sqrt, where
from minislim.ops.normalization import batch_normalization, l2_normalize
from minislim.ops.reductions import max, mean, min, sum, var
from minislim.ops.shape_ops import (broadcast_to, concat, getitem, one_hot, pad, reshape, stack,
                                    transpose)
from minislim.ops.softmax import log_softmax, logsumexp, softmax
from minislim.ops.conv import bias_add, conv2d, conv2d_transpose
from minislim.ops.pool import avg_pool2d, global_avg_pool2d, max_pool2d

__all__ = ["add", "subtract", "multiply", "divide", "negative", "power", "matmul",
           "exp", "log", "sqrt", "abs", "maximum", "minimum", "where", "clip",
           "sum", "mean", "max", "min", "var",
           "reshape", "transpose", "broadcast_to", "getitem", "concat", "stack", "pad", "one_hot",
           "relu", "relu6", "elu", "leaky_relu", "sigmoid", "tanh", "softplus",
           "softmax", "log_softmax", "logsumexp", "dropout", "batch_normalization", "l2_normalize"]
__all__ += ["conv2d", "conv2d_transpose", "bias_add", "max_pool2d", "avg_pool2d", "global_avg_pool2d"]
__all__ += ["local_response_normalization", "lrn"]
