"""Optional oracle: vgg_cifar's logits and every gradient match PyTorch's on one batch.

The same weights are copied into a PyTorch model of the same structure (batch norm in
training mode, dropout off). Skipped when PyTorch is not installed; the nets' own tests
and the op table's gradient checks do not depend on it.
"""
import numpy as np
import pytest

import minislim as slim
from minislim.nets import vgg

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

WIDTHS = (8, 16, 32)


def torch_twin(torch_nn, variables):
    """A PyTorch vgg_cifar holding minislim's weights (NHWC/HWIO converted to NCHW/OIHW)."""
    layers, channels = [], 3
    for block, width in enumerate(WIDTHS, start=1):
        for i in (1, 2):
            name = f"vgg_cifar/conv{block}/conv{block}_{i}"
            conv = torch_nn.Conv2d(channels, width, 3, padding=1, bias=False)
            bn = torch_nn.BatchNorm2d(width, eps=1e-3)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(variables[name + "/weights"].data.transpose(3, 2, 0, 1).copy()))
                bn.weight.copy_(torch.from_numpy(variables[name + "/BatchNorm/gamma"].data))
                bn.bias.copy_(torch.from_numpy(variables[name + "/BatchNorm/beta"].data))
            layers += [conv, bn, torch_nn.ReLU()]
            channels = width
        layers.append(torch_nn.MaxPool2d(2))
    fc1, logits = torch_nn.Linear(channels * 16, 32), torch_nn.Linear(32, 10)
    w = variables["vgg_cifar/fc1/weights"].data  # rows in (h, w, c) order; PyTorch flattens (c, h, w)
    with torch.no_grad():
        fc1.weight.copy_(torch.from_numpy(w.reshape(4, 4, channels, 32).transpose(2, 0, 1, 3).reshape(-1, 32).T.copy()))
        fc1.bias.copy_(torch.from_numpy(variables["vgg_cifar/fc1/biases"].data))
        logits.weight.copy_(torch.from_numpy(variables["vgg_cifar/logits/weights"].data.T.copy()))
        logits.bias.copy_(torch.from_numpy(variables["vgg_cifar/logits/biases"].data))
    return torch_nn.Sequential(*layers, torch_nn.Flatten(), fc1, torch_nn.ReLU(), logits)


def test_logits_and_gradients_match_pytorch(rng):
    images = rng.standard_normal((8, 32, 32, 3)).astype(np.float32)
    labels = rng.integers(0, 10, 8)
    with slim.arg_scope(vgg.vgg_cifar_arg_scope(weight_decay=0.0)):
        logits, _ = vgg.vgg_cifar(slim.tensor(images), widths=WIDTHS, fc_width=32, dropout_keep_prob=1.0)
    loss = slim.losses.sparse_softmax_cross_entropy(logits, labels)
    loss.backward()
    variables = {v.name: v for v in slim.get_trainable_variables()}

    model = torch_twin(torch.nn, variables).train()
    torch_logits = model(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()))
    torch_loss = torch.nn.functional.cross_entropy(torch_logits, torch.from_numpy(labels))
    torch_loss.backward()

    np.testing.assert_allclose(logits.data, torch_logits.detach().numpy(), atol=1e-4)
    assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-5)
    convs = [m for m in model if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in model if isinstance(m, torch.nn.BatchNorm2d)]
    names = [f"vgg_cifar/conv{b}/conv{b}_{i}" for b in (1, 2, 3) for i in (1, 2)]
    for conv, bn, name in zip(convs, norms, names):
        for ours, theirs in [(variables[name + "/weights"].grad.transpose(3, 2, 0, 1), conv.weight.grad),
                             (variables[name + "/BatchNorm/gamma"].grad, bn.weight.grad),
                             (variables[name + "/BatchNorm/beta"].grad, bn.bias.grad)]:
            theirs = theirs.numpy()
            assert np.abs(ours - theirs).max() <= 1e-4 * np.abs(theirs).max() + 1e-7, name
    theirs = model[-1].weight.grad.numpy().T
    np.testing.assert_allclose(variables["vgg_cifar/logits/weights"].grad, theirs, rtol=1e-4, atol=1e-6)
