"""Shared fixtures: every test starts from fresh global state and a seeded Generator."""
import signal

import numpy as np
import pytest

import minislim.framework
from minislim.autograd.grad_mode import reset_grad_mode
from minislim.autograd.recording import reset_recording
from minislim.kernels.im2col import WORKSPACE


def reset_global_state() -> None:
    """Reset everything minislim keeps globally (one place, so no test sees leftovers)."""
    reset_grad_mode()
    reset_recording()  # the recorded scope and detect_anomaly()'s switch
    minislim.framework.reset_global_state()  # graphs, arg_scope stack, slim.nn's generator
    WORKSPACE.clear()  # the convolutions' reusable buffers


@pytest.fixture(autouse=True)
def _fresh_global_state():
    reset_global_state()
    yield
    reset_global_state()


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator; tests never use NumPy's global RNG."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_raises_keyboard_interrupt():
    """A suite started in the background (``nohup``, ``cmd &`` in a script) inherits SIGINT
    ignored, and Python then keeps ignoring it. The Ctrl-C tests need Python's own handler,
    here and in the processes they start (a Python handler becomes the default on exec)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
