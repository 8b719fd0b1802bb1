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
from minislim import framework  # noqa: E402
from minislim.framework import utils  # noqa: E402
from minislim.framework.arg_scope import (add_arg_scope, arg_scope, arg_scope_func_key,  # noqa: E402
                                          arg_scoped_arguments, current_arg_scope,
                                          explain_arg_scope, has_arg_scope)
from minislim.framework.collections import (GraphKeys, add_to_collection,  # noqa: E402
                                            add_to_collections, clear_collection, get_collection,
                                            get_collection_ref)
from minislim.framework.graph import (Graph, get_default_graph, get_rng, get_rng_state,  # noqa: E402
                                      reset_default_graph, set_random_seed, set_rng_state)
from minislim.framework.initializers import (constant_initializer, ones_initializer,  # noqa: E402
                                             random_normal_initializer,
                                             random_uniform_initializer,
                                             truncated_normal_initializer,
                                             variance_scaling_initializer, xavier_initializer,
                                             xavier_initializer_conv2d, zeros_initializer)
from minislim.framework.regularizers import (l1_l2_regularizer, l1_regularizer,  # noqa: E402
                                             l2_regularizer, sum_regularizer)
from minislim.framework.scopes import (AUTO_REUSE, VariableScope, get_variable_scope,  # noqa: E402
                                       variable_scope)
from minislim.framework.template import Template, make_template  # noqa: E402
from minislim.framework.variables import (Variable, add_model_variable,  # noqa: E402
                                          create_global_step, get_global_step,
                                          get_local_variables, get_model_variables,
                                          get_or_create_global_step, get_trainable_variables,
                                          get_unique_variable, get_variables,
                                          get_variables_by_name, get_variables_by_suffix,
                                          get_variables_to_restore, local_variable,
                                          model_variable, variable)

__all__ += [
    "framework", "utils",
    "Graph", "get_default_graph", "reset_default_graph", "set_random_seed", "get_rng",
    "get_rng_state", "set_rng_state",
    "GraphKeys", "add_to_collection", "add_to_collections", "get_collection", "get_collection_ref",
    "clear_collection",
    "variable_scope", "VariableScope", "get_variable_scope", "AUTO_REUSE",
    "Variable", "variable", "model_variable", "add_model_variable", "local_variable",
    "get_variables", "get_model_variables", "get_trainable_variables", "get_local_variables",
    "get_variables_by_name", "get_variables_by_suffix", "get_unique_variable",
    "get_variables_to_restore", "create_global_step", "get_global_step",
    "get_or_create_global_step",
    "make_template", "Template",
    "arg_scope", "add_arg_scope", "current_arg_scope", "arg_scoped_arguments", "has_arg_scope",
    "arg_scope_func_key", "explain_arg_scope",
    "zeros_initializer", "ones_initializer", "constant_initializer", "random_normal_initializer",
    "truncated_normal_initializer", "random_uniform_initializer", "variance_scaling_initializer",
    "xavier_initializer", "xavier_initializer_conv2d",
    "l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer",
]

# --- layers (layer 5) ---
from minislim import layers, model_analyzer  # noqa: E402
from minislim.layers import (avg_pool2d, batch_norm, bias_add, conv2d, conv2d_transpose,  # noqa: E402
                             convolution2d, convolution2d_transpose, dropout, flatten,
                             fully_connected, layer_norm, max_pool2d, one_hot_encoding, repeat,
                             separable_conv2d, separable_convolution2d, softmax, stack)

__all__ += ["layers", "model_analyzer", "conv2d", "conv2d_transpose", "separable_conv2d",
            "convolution2d", "convolution2d_transpose", "separable_convolution2d",
            "fully_connected", "max_pool2d", "avg_pool2d", "batch_norm", "layer_norm", "bias_add",
            "dropout", "flatten", "one_hot_encoding", "softmax", "repeat", "stack"]

# --- losses, metrics (layer 6) ---
from minislim import losses, metrics  # noqa: E402

__all__ += ["losses", "metrics"]

# --- optimizers (layer 7) ---
from minislim import optimizers  # noqa: E402

__all__ += ["optimizers"]

# --- learning, checkpoints, evaluation (layer 8) ---
from minislim import checkpoint, evaluation, learning  # noqa: E402
from minislim.checkpoint import assign_from_checkpoint_fn  # noqa: E402

__all__ += ["checkpoint", "evaluation", "learning", "assign_from_checkpoint_fn"]

# --- data parallelism over MPI (slim.parallel: communicators, gradient all-reduce, sync batch norm) ---
from minislim import parallel  # noqa: E402

__all__ += ["parallel"]

# --- nets, datasets, data (layer 9) ---
from minislim import data, datasets, exercises, nets  # noqa: E402

__all__ += ["data", "datasets", "exercises", "nets"]

# --- student tools (issue 15): anomaly detection, graph pictures, higher-order gradients ---
from minislim.autograd.anomaly import AnomalyError, detect_anomaly  # noqa: E402
from minislim.autograd.engine import grad  # noqa: E402
from minislim.autograd.higher_order import NotTwiceDifferentiableError  # noqa: E402

__all__ += ["detect_anomaly", "AnomalyError", "grad", "NotTwiceDifferentiableError"]
from minislim import viz  # noqa: E402

__all__ += ["viz"]
# --- TF-Slim parity (issue #19): the rest of tf_slim's variables API ---
from minislim.framework.assign import (assign_from_values, assign_from_values_fn,  # noqa: E402
                                       zero_initializer)
from minislim.framework.regularizers import apply_regularization  # noqa: E402
from minislim.framework.variables import (assert_global_step, assert_or_get_global_step,  # noqa: E402
                                          filter_variables, get_variable_full_name, global_variable)

__all__ += ["assign_from_values", "assign_from_values_fn", "zero_initializer", "apply_regularization",
            "assert_global_step", "assert_or_get_global_step", "filter_variables", "get_variable_full_name",
            "global_variable"]
from minislim.checkpoint import assign_from_checkpoint  # noqa: E402

__all__ += ["assign_from_checkpoint"]
from minislim.learning import OPTIMIZER_CLS_NAMES, OPTIMIZER_SUMMARIES, optimize_loss, summaries  # noqa: E402

__all__ += ["optimize_loss", "summaries", "OPTIMIZER_CLS_NAMES", "OPTIMIZER_SUMMARIES"]
from minislim.layers import (avg_pool3d, conv1d, conv2d_in_plane, conv3d, convolution1d,  # noqa: E402
                             convolution2d_in_plane, convolution3d, elu, group_norm, images_to_sequence,
                             instance_norm, linear, max_pool3d, maxout, relu, relu6, scale_gradient,
                             sequence_to_images, spatial_softmax, unit_norm)

__all__ += ["conv1d", "conv3d", "conv2d_in_plane", "convolution1d", "convolution3d", "convolution2d_in_plane",
            "max_pool3d", "avg_pool3d", "images_to_sequence", "sequence_to_images", "maxout", "scale_gradient",
            "spatial_softmax", "unit_norm", "group_norm", "instance_norm", "elu", "relu", "relu6", "linear"]
