"""Every exercise: the checker accepts the solution in notebooks/solutions/ and rejects the
typical wrong answers with the right plain-words diagnosis.

The wrong answers subclass the solution and override ``backward`` with a classic mistake.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minislim as slim
from minislim.exercises import EXERCISES, check, get, names

SOLUTIONS = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"


def solution_class(name: str) -> type:
    """Import notebooks/solutions/<name>.py and return the class the exercise asks for."""
    path = SOLUTIONS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"solution_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, get(name).class_name)


def test_there_are_several_exercises_including_two_input_ops_and_layers():
    assert len(EXERCISES) >= 5
    assert {"sigmoid", "softmax", "matmul", "mse", "dense", "max_pool_2x2"} <= set(names())
    assert len(get("matmul").input_names) == 2 and len(get("dense").input_names) == 3


@pytest.mark.parametrize("name", names())
def test_each_exercise_has_a_solution_file(name):
    assert (SOLUTIONS / f"{name}.py").exists(), f"notebooks/solutions/{name}.py is missing"


@pytest.mark.parametrize("name", names())
def test_the_checker_accepts_each_solution(name):
    result = check(solution_class(name), name, verbose=False)
    assert result.passed, str(result)
    assert result.report.ok and result.max_relative_error < 1e-6
    assert result.warnings == []  # the solutions keep float32


@pytest.mark.parametrize("name", names())
def test_each_skeleton_runs_its_forward_and_asks_for_the_backward(name):
    result = check(get(name).skeleton_class(), name, verbose=False)
    assert result.codes == ["backward_not_written"]
    assert "your backward is not written yet" in str(result)


@pytest.mark.parametrize("name", names())
def test_each_reference_matches_its_input_generator(name):
    exercise = get(name)
    inputs = exercise.make_inputs(np.random.default_rng(0))
    assert len(inputs) == len(exercise.input_names)
    assert all(x.dtype == np.float64 for x in inputs)
    assert np.all(np.isfinite(exercise.reference(*inputs)))


def test_the_exercise_text_shows_the_task_and_the_skeleton():
    text = str(get("matmul"))
    assert "c = a @ b" in text and "class MatMul(slim.Function):" in text
    assert "raise NotImplementedError" in text


def test_exercise_check_is_a_shortcut():
    assert get("sigmoid").check(solution_class("sigmoid"), verbose=False).passed


# --- typical wrong answers ------------------------------------------------------------------
# (exercise, the buggy backward, expected codes, words the student must read)

def sigmoid_forgets_grad_output(self, grad_output):
    (y,) = self.saved_arrays
    return (y * (1 - y),)


def sigmoid_wrong_sign(self, grad_output):
    (y,) = self.saved_arrays
    return (grad_output * y * (y - 1),)


def sigmoid_factor_2(self, grad_output):
    (y,) = self.saved_arrays
    return (2 * grad_output * y * (1 - y),)


def sigmoid_wrong_shape(self, grad_output):
    (y,) = self.saved_arrays
    return ((grad_output * y * (1 - y)).sum(axis=0),)


def sigmoid_with_input_instead_of_output(self, grad_output):
    (y,) = self.saved_arrays
    x = np.log(y / (1 - y))
    return (grad_output * x * (1 - x),)


def softmax_zeros(self, grad_output):
    return (np.zeros_like(grad_output),)


def softmax_diagonal_only(self, grad_output):
    (s,) = self.saved_arrays
    return (grad_output * s * (1 - s),)


def matmul_transposed_grad(self, grad_output):
    a, b = self.saved_arrays
    return (grad_output @ b.T).T, a.T @ grad_output


def matmul_one_gradient(self, grad_output):
    a, b = self.saved_arrays
    return grad_output @ b.T


def matmul_swapped(self, grad_output):
    a, b = self.saved_arrays
    return a.T @ grad_output, grad_output @ b.T


def mse_no_mean(self, grad_output):
    (diff,) = self.saved_arrays
    return grad_output * 2 * diff, -grad_output * 2 * diff


def mse_no_factor_2(self, grad_output):
    (diff,) = self.saved_arrays
    return grad_output * diff / diff.size, -grad_output * diff / diff.size


def mse_targets_sign(self, grad_output):
    (diff,) = self.saved_arrays
    grad = grad_output * 2 * diff / diff.size
    return grad, grad


def mse_forgets_grad_output(self, grad_output):
    (diff,) = self.saved_arrays
    return 2 * diff / diff.size, -2 * diff / diff.size


def mse_no_targets_gradient(self, grad_output):
    (diff,) = self.saved_arrays
    return grad_output * 2 * diff / diff.size, None


def dense_bias_mean(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, x.T @ grad_output, grad_output.mean(axis=0)


def dense_weights_transposed(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, (x.T @ grad_output).T, grad_output.sum(axis=0)


def dense_no_bias_gradient(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, x.T @ grad_output


def dense_bias_summed_over_the_wrong_axis(self, grad_output):
    x, w = self.saved_arrays
    return grad_output @ w.T, x.T @ grad_output, grad_output.sum(axis=1)


def pool_spreads_to_the_whole_window(self, grad_output):
    return (np.repeat(np.repeat(grad_output, 2, axis=1), 2, axis=2),)


def pool_averages(self, grad_output):
    return (np.repeat(np.repeat(grad_output, 2, axis=1), 2, axis=2) / 4,)


def pool_forgets_grad_output(self, grad_output):
    x, y = self.saved_arrays
    n, h, w, c = x.shape
    is_max = x.reshape(n, h // 2, 2, w // 2, 2, c) == y[:, :, None, :, None, :]
    return (is_max.reshape(x.shape).astype(x.dtype),)


def pool_not_reshaped(self, grad_output):
    x, y = self.saved_arrays
    n, h, w, c = x.shape
    is_max = x.reshape(n, h // 2, 2, w // 2, 2, c) == y[:, :, None, :, None, :]
    return (is_max * grad_output[:, :, None, :, None, :],)


WRONG_ANSWERS = [
    ("sigmoid", sigmoid_forgets_grad_output, ["ignores_grad_output"], "your backward ignores grad_output"),
    ("sigmoid", sigmoid_wrong_sign, ["sign_flipped"], "has its sign flipped"),
    ("sigmoid", sigmoid_factor_2, ["scaled"], "exactly twice the true one at every element: look for a factor of 2"),
    ("sigmoid", sigmoid_wrong_shape, ["wrong_shape"],
     "your gradient for 'x' has the wrong shape (4,): it must have the input's shape (3, 4)"),
    ("sigmoid", sigmoid_with_input_instead_of_output, ["wrong"], "the worst is index"),
    ("softmax", softmax_zeros, ["zeros"], "would not notice, because the outputs sum to a constant"),
    ("softmax", softmax_diagonal_only, ["wrong"], "your gradient for 'x' is wrong"),
    ("matmul", matmul_transposed_grad, ["transposed"],
     "has shape (4, 3), the transpose of the input's shape (3, 4)"),
    ("matmul", matmul_one_gradient, ["wrong_count"], "returned 1 gradient but the op has 2 inputs (a, b)"),
    ("matmul", matmul_swapped, ["wrong_shape", "wrong_shape"], "has the wrong shape (4, 2)"),
    ("mse", mse_no_mean, ["scaled", "scaled"],
     "exactly 12 times the true one at every element: 12 is the number of elements of 'predictions'; "
     "did you forget to divide by it"),
    ("mse", mse_no_factor_2, ["scaled", "scaled"], "exactly half the true one"),
    ("mse", mse_targets_sign, ["sign_flipped"], "your gradient for 'targets' has its sign flipped"),
    ("mse", mse_forgets_grad_output, ["ignores_grad_output", "ignores_grad_output"],
     "your backward ignores grad_output"),
    ("mse", mse_no_targets_gradient, ["missing_gradient"], "returned None for 'targets'"),
    ("dense", dense_bias_mean, ["scaled"],
     "exactly 1/5 of the true one at every element: 5 is the length of axis 0 of 'x'"),
    ("dense", dense_weights_transposed, ["transposed"], "your gradient for 'w' has shape (2, 3), the transpose"),
    ("dense", dense_no_bias_gradient, ["wrong_count"], "returned 2 gradients but the op has 3 inputs (x, w, b)"),
    ("dense", dense_bias_summed_over_the_wrong_axis, ["wrong_shape"],
     "your gradient for 'b' has the wrong shape (5,): it must have the input's shape (2,)"),
    ("max_pool_2x2", pool_spreads_to_the_whole_window, ["nonzero_where_zero"],
     "nonzero at 108 of 144 elements where the true gradient is exactly zero"),
    ("max_pool_2x2", pool_averages, ["wrong"], "also nonzero at 108 elements where the true gradient is exactly zero"),
    ("max_pool_2x2", pool_forgets_grad_output, ["ignores_grad_output"], "your backward ignores grad_output"),
    ("max_pool_2x2", pool_not_reshaped, ["wrong_shape"], "it must have the input's shape (2, 4, 6, 3)"),
]


@pytest.mark.parametrize("name, backward, codes, words", WRONG_ANSWERS,
                         ids=[f"{w[0]}-{w[1].__name__}" for w in WRONG_ANSWERS])
def test_the_checker_rejects_a_typical_wrong_answer_and_says_why(name, backward, codes, words):
    wrong = type("Wrong", (solution_class(name),), {"backward": backward})
    result = check(wrong, name, verbose=False)
    assert not result.passed
    assert result.codes == codes, str(result)
    assert any(words in problem.message for problem in result.problems), str(result)
    assert "hint: " in str(result)  # the exercise's hint follows a wrong gradient


def test_a_pool_backward_that_changes_the_callers_input_is_rejected():
    def pool_changes_x(self, grad_output):
        grads = solution_class("max_pool_2x2").backward(self, grad_output)
        x, y = self.saved_arrays
        x -= np.repeat(np.repeat(grad_output, 2, axis=1), 2, axis=2)  # BUG: x is the caller's input
        return grads

    wrong = type("Wrong", (solution_class("max_pool_2x2"),), {"backward": pool_changes_x})
    x = slim.tensor(get("max_pool_2x2").make_inputs(np.random.default_rng(0))[0], requires_grad=True)
    before = x.numpy().copy()
    wrong()(x).sum().backward()
    assert not np.array_equal(x.numpy(), before)  # the mistake is real: the caller's x changed

    result = check(wrong, "max_pool_2x2", verbose=False)
    assert result.codes == ["backward_modifies_input"], str(result)
    assert "your backward changed its input 'x' in place (through saved_arrays[0]" in str(result)


def test_a_sigmoid_that_returns_float32_for_float64_inputs_is_told_to_keep_the_dtype():
    def forward(self, x):
        y = (1 / (1 + np.exp(-x))).astype(np.float32)  # BUG: float64 in, float32 out
        self.save_for_backward(y)
        return y

    def backward(self, grad_output):
        (y,) = self.saved_arrays
        return ((grad_output * y * (1 - y)).astype(np.float32),)

    wrong = type("Wrong", (solution_class("sigmoid"),), {"forward": forward, "backward": backward})
    result = check(wrong, "sigmoid", verbose=False)
    assert result.codes == ["forward_wrong_dtype", "backward_wrong_dtype"], str(result)
    assert "your forward returns float32 for float64 inputs; keep the input's dtype" in str(result)
    assert "not when run through the autograd engine" not in str(result)


def test_a_bias_gradient_left_unsummed_is_accepted_since_the_engine_sums_it():
    def unsummed(self, grad_output):
        x, w = self.saved_arrays
        return grad_output @ w.T, x.T @ grad_output, grad_output

    result = check(type("Unsummed", (solution_class("dense"),), {"backward": unsummed}), "dense",
                   verbose=False)
    assert result.passed, str(result)
