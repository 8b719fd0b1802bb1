"""Skeleton of the exercise 'conv2d' (minislim.exercises): complete it in the notebook."""
import minislim as slim


class Conv2D(slim.Function):
    def forward(self, x, w):
        # TODO: columns = my_im2col(x, KH, KW); y = columns @ w.reshape(-1, OC), reshaped to
        # [N, OH, OW, OC]; save what backward needs
        raise NotImplementedError

    def backward(self, grad_output):
        # TODO: return (dL/dx, dL/dw); dL/dx adds each window's gradient back into x (col2im)
        raise NotImplementedError
