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


FUNCTION_CLASS_EXERCISES = [n for n in names() if get(n).kind == "function_class"]


@pytest.mark.parametrize("name", names())
def test_the_checker_accepts_each_solution(name):
    result = check(solution_class(name), name, verbose=False)
    assert result.passed, str(result)
    assert "PASSED" in str(result)
    if get(name).kind == "function_class":
        assert result.report.ok
        assert result.warnings == []  # the solutions keep float32


@pytest.mark.parametrize("name", names())
def test_each_skeleton_fails_saying_what_is_not_written_yet(name):
    result = check(get(name).skeleton_class(), name, verbose=False)
    assert result.codes == [get(name).skeleton_code]
    assert "not written yet" in str(result)
    assert "hint" not in str(result)  # not a maths problem


@pytest.mark.parametrize("name", FUNCTION_CLASS_EXERCISES)
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
