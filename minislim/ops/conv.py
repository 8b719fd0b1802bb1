"""Convolution ops: ``conv2d``, ``conv2d_transpose`` and ``bias_add`` (NHWC).

Each op is a :class:`~minislim.autograd.function.Function` whose forward and backward
call the kernels of :mod:`minislim.kernels.conv`; what is new here is only which arrays
are kept for the backward pass:

* ``Conv2D`` keeps its im2col columns, so the filters' gradient is one matrix product
  with no second copy. The columns are *leased* from the kernels' workspace and given back
  when the engine releases the node after its backward pass, so the next training step
  reuses the same memory. The inputs' gradient (a transposed convolution) is skipped when
  the inputs need none, e.g. for the first layer, whose inputs are the images.
* ``BiasAdd``'s bias gradient sums the output gradient over every position, per channel
  (:func:`minislim.ops.reductions.channel_sum`, one pass of :func:`minislim.kernels.reduce.channel_sums`).

>>> import numpy as np
>>> import minislim as slim
>>> x = slim.tensor(np.ones((2, 5, 5, 3), np.float32), requires_grad=True)
>>> filters = slim.tensor(np.ones((3, 3, 3, 8), np.float32), requires_grad=True)
>>> y = slim.nn.conv2d(x, filters, stride=2)        # SAME: ceil(5 / 2) = 3
>>> y.shape, y.dtype
((2, 3, 3, 8), dtype('float32'))
>>> y.sum().backward()
>>> x.grad.shape, filters.grad.shape
((2, 5, 5, 3), (3, 3, 3, 8))
"""
from __future__ import annotations


from minislim.autograd.function import Function
from minislim.kernels import conv as kernels
from minislim.kernels.im2col import WORKSPACE
from minislim.kernels.shapes import checked_transpose_output_shape
from minislim.ops.reductions import channel_sum
from minislim.ops.registry import register


class Conv2D(Function):
    """``conv2d(x, filters)``; x ``[N, H, W, C]``, filters ``[KH, KW, C, OC]``.

    Forward: im2col and one matrix product. Backward: the filters' gradient from the same
    columns, and the inputs' gradient, a transposed convolution.

    The fast path: the columns are leased from the kernels' workspace and kept from the
    forward to the node's :meth:`release` (after the backward pass, or at once when no graph
    is recorded), so the next training step reuses the same memory. They serve twice in the
    backward pass: as the filters' gradient's operand, then, no longer needed, as the memory
    for the inputs' gradient's own columns. A second backward pass (``retain_graph=True``)
    makes them again.
    """

    def __init__(self, stride=1, padding="SAME", rate=1):
        self.stride, self.padding, self.rate = stride, padding, rate
        self.columns = None          # [N, OH, OW, KH, KW, C], leased from the workspace until release()
        self.columns_intact = False  # do they still hold the forward's im2col?

    def forward(self, x, filters):
        geometry = kernels.conv_geometry(x.shape, filters.shape, self.stride, self.padding, self.rate)
        self.columns = WORKSPACE.lease(geometry.columns_shape, kernels.compute_dtype(x, filters))
        self.columns_intact = True
        self.save_for_backward(x, filters)
        return kernels.conv2d(x, filters, self.stride, self.padding, self.rate, columns=self.columns)

    def backward(self, grad_output):
        x, filters = self.saved_arrays
        grad_x = grad_filters = None
        if self.needs_input_grad[1]:
            grad_filters = kernels.conv2d_grad_filter(x, grad_output, filters.shape, self.stride, self.padding,
                                                      self.rate, columns=self.columns if self.columns_intact else None)
        if self.needs_input_grad[0]:
            grad_x = kernels.conv2d_grad_input(grad_output, filters, x.shape, self.stride, self.padding, self.rate,
                                               memory=self.columns)
            self.columns_intact = False
        return grad_x, grad_filters

    def release(self):
        if self.columns is not None:
            WORKSPACE.give_back(self.columns)
            self.columns = None
        super().release()


class Conv2DTranspose(Function):
    """``conv2d_transpose(inputs, filters)``; inputs ``[N, H, W, C]``, filters ``[KH, KW, OC, C]``.

    Its forward is the inputs' gradient of a convolution; so its backward is a convolution
    (for ``inputs``) and that convolution's filters' gradient (for ``filters``), both
    from one set of im2col columns of the output gradient.
    """

    def __init__(self, output_shape=None, stride=1, padding="SAME"):
        self.output_shape, self.stride, self.padding = output_shape, stride, padding

    def forward(self, inputs, filters):
        self.output_shape = checked_transpose_output_shape(inputs.shape, filters.shape, self.output_shape,
                                                                   self.stride, self.padding)
        self.save_for_backward(inputs, filters)
        return kernels.conv2d_transpose(inputs, filters, self.output_shape, self.stride, self.padding)

    def backward(self, grad_output):
        inputs, filters = self.saved_arrays
        geometry = kernels.conv_geometry(grad_output.shape, filters.shape, self.stride, self.padding, 1,
                                         "conv2d_transpose")
        columns = WORKSPACE.lease(geometry.columns_shape, kernels.compute_dtype(grad_output, filters))
        grad_inputs = kernels.conv2d(grad_output, filters, self.stride, self.padding, columns=columns)
        grad_filters = None
        if self.needs_input_grad[1]:
            grad_filters = kernels.conv2d_grad_filter(grad_output, inputs, filters.shape, self.stride, self.padding,
                                                      columns=columns)
        WORKSPACE.give_back(columns)
        return (grad_inputs if self.needs_input_grad[0] else None), grad_filters


class BiasAdd(Function):
    """``x + bias`` with ``bias`` of shape ``[C]`` added along the last axis of ``x``.

    Its backward is written with differentiable ops (``channel_sum``), so it can be recorded
    for higher-order gradients (autograd/higher_order.py).
    """

    differentiable_backward = True

    def forward(self, x, bias):
        if bias.ndim != 1 or x.ndim < 1 or bias.shape[0] != x.shape[-1]:
            raise ValueError(f"bias_add: bias must be [C] with C = the last axis of x; got x shape {x.shape} "
                             f"and bias shape {bias.shape}")
        return x + bias

    def backward(self, grad_output):
        grad_bias = channel_sum(grad_output) if self.needs_input_grad[1] else None
        return grad_output, grad_bias


def conv2d(inputs, filters, stride=1, padding="SAME", rate=1):
    """2-D convolution (cross-correlation), NHWC, as ``tf.nn.conv2d``.

    Args:
        inputs: ``[N, H, W, C]``.
        filters: ``[KH, KW, C, OC]``.
        stride: an int or a pair ``(SH, SW)``.
        padding: ``"SAME"`` (TF's rule: output ``ceil(H / SH)``, odd padding at the
            bottom/right), ``"VALID"`` or ``((top, bottom), (left, right))``.
        rate: dilation, an int or a pair; ``rate > 1`` requires ``stride == 1``.

    Returns:
        A Tensor ``[N, OH, OW, OC]``.

    Raises:
        ValueError: inputs not rank 4, a channel mismatch, ``rate > 1`` with ``stride > 1``,
            a VALID kernel larger than the input, or a non-positive stride or rate.
    """
    return Conv2D(stride, padding, rate)(inputs, filters)


def conv2d_transpose(inputs, filters, output_shape=None, stride=1, padding="SAME"):
    """Transposed convolution, as ``tf.nn.conv2d_transpose``: the gradient of ``conv2d`` for its input.

    Args:
        inputs: ``[N, H, W, C]``.
        filters: ``[KH, KW, OC, C]`` (TF's order: output channels before input channels).
        output_shape: ``[N, OH, OW, OC]`` or ``(OH, OW)``; a ``conv2d`` with the same
            ``filters``, ``stride`` and ``padding`` must map it back to ``inputs``' H and W.
            Default: ``H * SH`` for SAME, ``H * SH + max(KH - SH, 0)`` for VALID.
        stride: an int or a pair; padding: as for :func:`conv2d`.

    Returns:
        A Tensor ``[N, OH, OW, OC]``.
    """
    return Conv2DTranspose(output_shape, stride, padding)(inputs, filters)


def bias_add(x, bias):
    """Add ``bias`` ``[C]`` along the last axis of ``x`` ``[..., C]``, as ``tf.nn.bias_add``."""
    return BiasAdd()(x, bias)


# --- the op table -------------------------------------------------------------------------

def _conv_inputs(rng):
    n, h, w, c, oc = (int(v) for v in rng.integers(1, [3, 7, 7, 4, 4]))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    return [rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c, oc))]


def _conv_kwargs(rng, inputs):
    """A random stride or rate (never both above 1) and padding that suit the inputs' shapes."""
    x, filters = inputs
    if rng.random() < 0.5:
        stride, rate = tuple(int(v) for v in rng.integers(1, 4, size=2)), 1
    else:
        stride, rate = 1, tuple(int(v) for v in rng.integers(1, 3, size=2))
    choice = int(rng.integers(0, 3))
    padding = ["SAME", "VALID", tuple(tuple(int(v) for v in rng.integers(0, 3, size=2)) for _ in range(2))][choice]
    try:
        kernels.conv_geometry(x.shape, filters.shape, stride, padding, rate)
    except ValueError:  # the kernel does not fit the unpadded input
        padding = "SAME"
    return {"stride": stride, "padding": padding, "rate": rate}


def _transpose_inputs(rng):
    n, h, w, c, oc = (int(v) for v in rng.integers(1, [3, 4, 4, 4, 4]))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    return [rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, oc, c))]


def _transpose_kwargs(rng, inputs):
    return {"stride": tuple(int(v) for v in rng.integers(1, 3, size=2)),
            "padding": ["SAME", "VALID"][int(rng.integers(0, 2))]}


register("nn.conv2d", conv2d, _conv_inputs, make_kwargs=_conv_kwargs)
register("nn.conv2d_transpose", conv2d_transpose, _transpose_inputs, make_kwargs=_transpose_kwargs)
register("nn.bias_add", bias_add,
         lambda rng: [rng.standard_normal((int(rng.integers(1, 3)), 3, 4)), rng.standard_normal(4)])
