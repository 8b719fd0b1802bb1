"""An optional second oracle: the same three updates in PyTorch (skipped without torch).

RMSProp is left out: PyTorch's average starts at 0 and adds epsilon outside the square root,
TF 1's (ours) starts at 1 and adds it inside, so they differ by design. The hand-computed
tests in test_optimizers.py are the main check; this one only adds confidence.
"""
import numpy as np
import pytest

from minislim.autograd.tensor import Tensor
from minislim.optimizers import SGD, Adam, Momentum

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

W0 = np.array([1.0, -2.0, 0.5, 3.0])
GRADS = [np.array([0.5, -1.0, 2.0, 0.0]), np.array([-0.25, 0.75, 1.0, 1e-3]), np.array([1.5, 0.1, -3.0, 2.0])]


def named(value, name: str, dtype=np.float64) -> Tensor:
    """A named tensor standing in for a variable (an optimizer needs .name, .data, .grad)."""
    tensor = Tensor(np.array(value, dtype=dtype), requires_grad=np.dtype(dtype).kind == "f")
    tensor.name = name
    return tensor


@pytest.mark.parametrize("ours, theirs, rtol", [
    (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1), 1e-15),
    (lambda: Momentum(0.1, 0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 1e-14),
    (lambda: Momentum(0.1, 0.9, use_nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), 1e-14),
    # epsilon enters differently (see adam.py); with epsilon=1e-12 the difference is ~1e-12
    (lambda: Adam(0.01, epsilon=1e-12), lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-12), 1e-9),
], ids=["sgd", "momentum", "nesterov", "adam"])
def test_three_updates_match_pytorch(ours, theirs, rtol):
    w = named(W0, "w")
    opt = ours()
    p = torch.nn.Parameter(torch.tensor(W0))
    topt = theirs([p])
    for g in GRADS:
        opt.apply_gradients([(g, w)])
        p.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(w.data, p.detach().numpy(), rtol=rtol, atol=1e-12)
