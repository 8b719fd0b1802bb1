"""The checker's steps and plain-words diagnoses, on small ops written for the tests.

Each test feeds ``check`` a deliberately wrong Function and asserts the diagnosis code and
the words a student would read.
"""
import numpy as np
import pytest

import minislim as slim
from minislim.exercises import CheckResult, check, get, names


def cube(x):
    return x ** 3


INPUTS = [np.array([[0.5, -1.0, 2.0], [1.5, -0.7, 0.3]])]


class Cube(slim.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x ** 3

    def backward(self, grad_output):
        (x,) = self.saved_arrays
        return (grad_output * 3 * x ** 2,)


def check_cube(cls, **kwargs):
    return check(cls, reference=cube, inputs=INPUTS, verbose=False, **kwargs)


def only_problem(result: CheckResult):
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def test_a_correct_op_passes_with_a_gradcheck_report():
    result = check_cube(Cube)
    assert result.passed and bool(result) and result.codes == []
    assert result.report is not None and result.report.ok
    assert result.max_relative_error < 1e-6
    assert "PASSED" in str(result)


def test_verbose_prints_the_verdict(capsys):
    check(Cube, reference=cube, inputs=INPUTS)
    assert "Cube: PASSED" in capsys.readouterr().out


def test_an_instance_is_accepted_like_its_class():
    assert check_cube(Cube()).passed


def test_input_names_come_from_the_forward_signature():
    class Scale(slim.Function):
        def forward(self, values, factor):
            self.save_for_backward(values, factor)
            return values * factor

        def backward(self, grad_output):
            values, factor = self.saved_arrays
            return grad_output * factor, grad_output * values * 2  # BUG: factor 2 for 'factor'

    rng = np.random.default_rng(0)
    result = check(Scale, reference=np.multiply, inputs=[rng.standard_normal(4), rng.standard_normal(4)],
                   verbose=False)
    assert result.input_names == ["values", "factor"]
    assert only_problem(result).message.startswith("your gradient for 'factor' is exactly twice")


def test_inputs_may_be_a_generator_of_the_seed():
    result = check(Cube, reference=cube, inputs=lambda rng: [rng.standard_normal((2, 2))], verbose=False)
    assert result.passed


def test_forgotten_grad_output_is_named():
    class Forgets(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (3 * x ** 2,)

    problem = only_problem(check_cube(Forgets))
    assert problem.code == "ignores_grad_output"
    assert "ignores grad_output: it returns the same gradient for 'x' whatever the upstream" in problem.message
    assert "right for an upstream gradient of all ones" in problem.message


@pytest.mark.parametrize("factor, words", [
    (2.0, "exactly twice the true one at every element: look for a factor of 2"),
    (0.5, "exactly half the true one at every element"),
    (3.0, "exactly 3 times the true one at every element: 3 is the length of axis 1 of 'x'"),
    (1 / 6, "exactly 1/6 of the true one at every element: 6 is the number of elements of 'x'"),
    (1.5, "the true one times a constant, 1.5, at every element"),
    (-2.0, "exactly twice the true one at every element, with the sign flipped"),
])
def test_a_constant_factor_is_named(factor, words):
    class Scaled(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (factor * grad_output * 3 * x ** 2,)

    problem = only_problem(check_cube(Scaled))
    assert problem.code == "scaled"
    assert words in problem.message


def test_a_flipped_sign_is_named():
    class Flipped(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (-grad_output * 3 * x ** 2,)

    problem = only_problem(check_cube(Flipped))
    assert problem.code == "sign_flipped"
    assert "sign flipped: it is exactly minus the true one at every element" in problem.message


def test_a_gradient_wrong_at_one_element_is_located():
    class OneOff(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            grad = grad_output * 3 * x ** 2
            grad[1, 2] += 1.0
            return (grad,)

    problem = only_problem(check_cube(OneOff))
    assert problem.code == "partly_wrong"
    assert "right except at 1 of 6 elements (e.g. at index (1, 2) yours is" in problem.message


def test_a_sign_flipped_at_some_elements_is_named():
    class SignAtNegatives(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (grad_output * 3 * x * np.abs(x),)  # 3 x |x|: wrong sign where x < 0

    problem = only_problem(check_cube(SignAtNegatives))
    assert problem.code == "partly_sign_flipped"
    assert "right except at 2 of 6 elements, where its sign is flipped" in problem.message


def test_an_unrelated_gradient_names_the_worst_element():
    class Wrong(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (grad_output * 3 * x ** 2 + grad_output * 0.1 + x,)

    problem = only_problem(check_cube(Wrong))
    assert problem.code == "wrong"
    assert "wrong at every element; the worst is index" in problem.message


def test_a_wrong_shape_names_both_shapes():
    class Summed(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return ((grad_output * 3 * x ** 2).sum(axis=1),)

    problem = only_problem(check_cube(Summed))
    assert problem.code == "extra_sum"
    assert problem.message == (
        "your gradient for 'x' has shape (2,), but 'x' has shape (2, 3): it looks summed over axis 1 of "
        "grad_output (2, 3) (length 3); but 'x' has the output's shape: it was not broadcast, each of "
        "its elements has its own gradient, so nothing is summed.")


class Bias(slim.Function):
    def forward(self, x, b):
        return x + b

    def backward(self, grad_output):
        return grad_output, grad_output  # BUG: [N, C] for b of shape [C]


def check_bias(cls, b_shape=(3,)):
    rng = np.random.default_rng(0)
    return check(cls, reference=np.add, inputs=[rng.standard_normal((4, 3)), rng.standard_normal(b_shape)],
                 verbose=False)


def test_a_gradient_left_unsummed_fails_and_names_the_missing_sum_and_its_axis():
    """The engine would sum it back, but the task is a gradient of the input's shape."""
    problem = only_problem(check_bias(Bias))
    assert problem.code == "missing_sum" and problem.input_name == "b"
    assert ("'b' was broadcast over axis 0 of the output (length 4), so each of those 4 slices used the "
            "same 'b'") in problem.message
    assert "sum over axis 0 (`.sum(axis=0)`). Summed that way, your values are right." in problem.message


def test_a_missing_keepdims_sum_is_named_too():
    problem = only_problem(check_bias(Bias, b_shape=(4, 1)))
    assert problem.code == "missing_sum"
    assert "sum over axis 1 (`.sum(axis=1, keepdims=True)`)" in problem.message


@pytest.mark.parametrize("grad_b, code, words", [
    (lambda g: g.sum(axis=1), "reduced_wrong_axis",
     "it looks summed over axis 1 of grad_output (4, 3) (length 3); but 'b' was broadcast over axis 0 "
     "(length 4): sum over that instead (`.sum(axis=0)`)"),
    (lambda g: g.sum(axis=0, keepdims=True), "extra_axis", "an extra axis of length 1"),
    (lambda g: g.T, "wrong_shape", "it must have the input's shape (3,)"),
])
def test_other_wrong_shapes_of_a_bias_gradient(grad_b, code, words):
    wrong = type("Wrong", (Bias,), {"backward": lambda self, g: (g, grad_b(g))})
    problem = only_problem(check_bias(wrong))
    assert problem.code == code and words in problem.message, problem.message


def test_a_transposed_gradient_of_a_square_input_is_recognised():
    class MatMulTransposed(get("matmul").skeleton_class()):  # its forward saves a and b
        def backward(self, grad_output):
            a, b = self.saved_arrays
            return (grad_output @ b.T).T, a.T @ grad_output  # BUG: grad_a transposed

    rng = np.random.default_rng(0)
    result = check(MatMulTransposed, reference=np.matmul, verbose=False,
                   inputs=[rng.standard_normal((3, 3)), rng.standard_normal((3, 3))])
    problem = only_problem(result)
    assert problem.code == "transposed" and problem.input_name == "a"
    assert "transpose of the true one" in problem.message


def test_too_few_gradients_are_counted():
    class OneOfTwo(slim.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad_output):
            return grad_output  # BUG: one gradient for two inputs

    result = check(OneOfTwo, reference=np.multiply, inputs=[np.ones(3), np.ones(3)], verbose=False)
    problem = only_problem(result)
    assert problem.code == "wrong_count"
    assert "returned 1 gradient but the op has 2 inputs (a, b)" in problem.message


def test_a_list_is_reported_since_the_engine_needs_a_tuple():
    class ReturnsList(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return [grad_output * 3 * x ** 2]

    problem = only_problem(check_cube(ReturnsList))
    assert problem.code == "returns_list"
    assert "return a tuple" in problem.message


def test_a_non_numeric_gradient_is_reported():
    class Text(Cube):
        def backward(self, grad_output):
            return ("three x squared",)

    assert check_cube(Text).codes == ["not_an_array"]


def test_a_tensor_returned_as_gradient_is_explained():
    class ReturnsTensor(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (slim.tensor(grad_output * 3 * x ** 2),)

    problem = only_problem(check_cube(ReturnsTensor))
    assert problem.code == "not_an_array"
    assert "backward works on plain ndarrays" in problem.message


def test_changing_grad_output_in_place_is_reported():
    class InPlace(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            grad_output *= 3 * x ** 2
            return (grad_output,)

    problem = only_problem(check_cube(InPlace))
    assert problem.code == "modifies_grad_output"
    assert "changed grad_output in place" in problem.message


def test_changing_an_input_in_place_in_forward_is_reported():
    class InPlaceForward(Cube):
        def forward(self, x):
            self.save_for_backward(x.copy())
            x **= 3
            return x

    problem = only_problem(check_cube(InPlaceForward))
    assert problem.code == "forward_modifies_input"
    assert "changed its input 'x' in place" in problem.message


def test_changing_an_input_in_place_in_backward_is_reported_with_the_saved_array_it_went_through():
    class InPlaceBackward(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            x **= 2  # BUG: x is the caller's input
            return (grad_output * 3 * x,)

    result = check_cube(InPlaceBackward, hint="a maths hint")
    problem = only_problem(result)
    assert problem.code == "backward_modifies_input" and problem.input_name == "x"
    assert ("your backward changed its input 'x' in place (through saved_arrays[0], which is 'x' or a "
            "view of it): after `loss.backward()` the caller's tensor 'x' holds different values") in problem.message
    assert "a maths hint" not in str(result)  # the maths is right; the hint would mislead


def test_changing_the_saved_output_in_place_in_backward_is_reported():
    class Exp(slim.Function):
        def forward(self, x):
            y = np.exp(x)
            self.save_for_backward(y)
            return y

        def backward(self, grad_output):
            (y,) = self.saved_arrays
            y *= grad_output  # BUG: y is the caller's output
            return (y,)

    result = check(Exp, reference=np.exp, inputs=INPUTS, verbose=False)
    problem = only_problem(result)
    assert problem.code == "backward_modifies_saved"
    assert ("your backward changed your forward's output, saved as saved_arrays[0]: after "
            "`loss.backward()` the caller's output tensor holds different values") in problem.message


def test_changing_another_saved_array_in_place_in_backward_is_reported():
    class SavesSquare(Cube):
        def forward(self, x):
            self.save_for_backward(x * x)
            return x ** 3

        def backward(self, grad_output):
            (x_squared,) = self.saved_arrays
            x_squared *= 3 * grad_output  # BUG: a second backward would read 3 x^2 g
            return (x_squared,)

    problem = only_problem(check_cube(SavesSquare))
    assert problem.code == "backward_modifies_saved"
    assert "changed saved_arrays[0]: a second backward through the same graph" in problem.message


def test_a_float32_forward_for_float64_inputs_is_named_not_blamed_on_the_engine():
    class Downcasts(Cube):
        def forward(self, x):
            self.save_for_backward(x)
            return (x ** 3).astype(np.float32)  # BUG: float64 in, float32 out

    result = check_cube(Downcasts)
    problem = only_problem(result)
    assert problem.code == "forward_wrong_dtype"
    assert problem.message.startswith("your forward returns float32 for float64 inputs; keep the "
                                      "input's dtype (e.g. `.astype(x.dtype)`")
    assert "not when run through the autograd engine" not in str(result)


def test_a_float32_gradient_for_a_float64_input_is_named():
    class DowncastsGradient(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return ((grad_output * 3 * x ** 2).astype(np.float32),)  # BUG: precision lost

    problem = only_problem(check_cube(DowncastsGradient))
    assert problem.code == "backward_wrong_dtype" and problem.input_name == "x"
    assert "your backward returns a float32 gradient for 'x', whose input is float64" in problem.message


def test_a_wrong_forward_is_reported_before_any_gradient():
    class Square(Cube):
        def forward(self, x):
            self.save_for_backward(x)
            return x ** 2

    result = check_cube(Square)
    problem = only_problem(result)
    assert problem.code == "forward_mismatch"
    assert "forward output differs from the reference at 6 of 6 elements" in problem.message
    assert result.report is None


def test_a_forward_of_the_wrong_shape_is_reported():
    class Flat(Cube):
        def forward(self, x):
            return (x ** 3).ravel()

    problem = only_problem(check_cube(Flat))
    assert problem.code == "forward_wrong_shape"
    assert "has shape (6,), but the reference output has shape (2, 3)" in problem.message


@pytest.mark.parametrize("where, code, words", [
    ("forward", "forward_not_written", "your forward is not written yet"),
    ("backward", "backward_not_written", "your backward is not written yet"),
])
def test_unwritten_methods_are_reported_without_the_hint(where, code, words):
    class Unwritten(Cube):
        pass

    setattr(Unwritten, where, slim.Function.__dict__[where])
    result = check_cube(Unwritten, hint="a secret hint")
    assert only_problem(result).code == code
    assert words in str(result)
    assert "a secret hint" not in str(result)


def test_the_hint_is_shown_for_a_wrong_gradient():
    class Flipped(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (-grad_output * 3 * x ** 2,)

    assert "hint: a useful hint" in str(check_cube(Flipped, hint="a useful hint"))


def test_an_error_in_backward_is_shown_with_the_shapes():
    class Crashes(get("matmul").skeleton_class()):  # its forward saves a and b
        def backward(self, grad_output):
            a, b = self.saved_arrays
            return grad_output @ b, a.T @ grad_output  # BUG: b is not transposed

    rng = np.random.default_rng(0)
    result = check(Crashes, reference=np.matmul, verbose=False,
                   inputs=[rng.standard_normal((3, 4)), rng.standard_normal((4, 2))])
    problem = only_problem(result)
    assert problem.code == "backward_error"
    assert "your backward raised ValueError" in problem.message
    assert "grad_output has shape (3, 2); the inputs have shapes a (3, 4), b (4, 2)" in problem.message


def test_an_error_in_forward_is_shown():
    class Crashes(Cube):
        def forward(self, x):
            return x @ np.ones(5)

    problem = only_problem(check_cube(Crashes))
    assert problem.code == "forward_error" and "your forward raised ValueError" in problem.message


def test_a_forward_without_a_return_is_named():
    class ForgetsReturn(Cube):
        def forward(self, x):
            self.save_for_backward(x)
            x ** 3

    problem = only_problem(check_cube(ForgetsReturn))
    assert problem.code == "forward_not_numbers" and "returned None (is its `return` missing?)" in problem.message
    assert "hint" not in str(check_cube(ForgetsReturn))


def test_a_backward_that_only_works_on_early_calls_is_caught_through_the_engine():
    class Tired(Cube):
        calls = 0

        def backward(self, grad_output):
            (x,) = self.saved_arrays
            type(self).calls += 1
            scale = 1.0 if type(self).calls <= 2 else 2.0  # the checker calls backward twice itself
            return (scale * grad_output * 3 * x ** 2,)

    result = check_cube(Tired)
    assert result.codes == ["engine_mismatch"]
    assert result.report is not None and not result.report.ok


def test_a_float64_forward_for_float32_inputs_is_a_warning_not_a_failure():
    class Promotes(Cube):
        def forward(self, x):
            self.save_for_backward(x)
            return x.astype(np.float64) ** 3

    result = check_cube(Promotes)
    assert result.passed
    assert "turned float32 inputs into float64" in result.warnings[0]
    assert "note: your forward turned float32" in str(result)


def test_the_same_seed_gives_the_same_diagnosis():
    class Wrong(Cube):
        def backward(self, grad_output):
            (x,) = self.saved_arrays
            return (grad_output * x,)

    first, second = check_cube(Wrong, seed=3), check_cube(Wrong, seed=3)
    assert [p.message for p in first.problems] == [p.message for p in second.problems]


def test_check_rejects_what_is_not_a_function_class():
    with pytest.raises(TypeError, match="expected your Function subclass"):
        check(lambda x: x, reference=cube, inputs=INPUTS)


def test_check_needs_an_exercise_or_a_reference_and_inputs():
    with pytest.raises(TypeError, match="reference= and inputs="):
        check(Cube, reference=cube)


def test_an_unknown_exercise_lists_the_names():
    with pytest.raises(KeyError, match="the exercises are: sigmoid, softmax"):
        get("sigmoidd")
    assert names()[0] == "sigmoid"


def test_the_repr_is_short_for_notebooks():
    assert repr(check_cube(Cube)) == "CheckResult('Cube', passed=True, codes=[])"


# --- known wrong variants, without an exercise (generic) -----------------------------------------

class RowNormalise(slim.Function):
    """y = x / sum(x) per row: every output of a row depends on every input of the row."""

    def forward(self, x):
        total = x.sum(axis=-1, keepdims=True)
        self.save_for_backward(x, total)
        return x / total

    def backward(self, grad_output):
        x, total = self.saved_arrays
        return (grad_output * (1 / total - x / total ** 2),)   # BUG: dy_i/dx_i only, no dy_j/dx_i


def test_a_diagonal_only_jacobian_is_recognised_for_any_op():
    rng = np.random.default_rng(0)
    result = check(RowNormalise, reference=lambda x: x / x.sum(axis=-1, keepdims=True),
                   inputs=[rng.uniform(1, 2, (3, 4))], verbose=False)
    problem = only_problem(result)
    assert problem.code == "diagonal_only"
    assert "keeps only the diagonal of the Jacobian" in problem.message


def test_a_derivative_evaluated_at_the_output_is_recognised_for_any_elementwise_op():
    class Exp(slim.Function):
        def forward(self, x):
            y = np.exp(x)
            self.save_for_backward(y)
            return y

        def backward(self, grad_output):
            (y,) = self.saved_arrays
            return (grad_output * np.exp(y),)   # BUG: exp'(x) = exp(x), evaluated at y

    result = check(Exp, reference=np.exp, inputs=[np.array([[0.1, -0.4], [0.3, 0.2]])], verbose=False)
    problem = only_problem(result)
    assert problem.code == "formula_on_output"
    assert "evaluated at the output y instead of at the input x" in problem.message


def test_hints_are_per_input_and_only_for_maths_problems():
    from minislim.exercises.checker import hints_for
    from minislim.exercises.diagnose import Problem

    hints = {"w": "about w", "b": "about b", "forward": "about the forward"}
    problems = [Problem("scaled", "...", "b"), Problem("returns_list", "...", None),
                Problem("forward_mismatch", "...", None), Problem("wrong", "...", "x")]
    assert hints_for(problems, "general", hints) == [("b", "about b"), ("forward", "about the forward"),
                                                     (None, "general")]
    assert hints_for([Problem("wrong_count", "...", None)], "general", hints) == []
