"""Graded assignments (minislim.exercises.grading): the master notebook for otter-grader,
and, when otter-grader is installed, the whole round trip: solved notebook full marks,
unsolved zero, a wrong backward gets the checker's diagnosis as feedback."""
import json
import re

import pytest

from minislim.exercises import grading


def question_cells(notebook):
    """{question name: (solution code, test code)} from otter's raw-cell markers."""
    cells, found, current = notebook["cells"], {}, None
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "raw" and cell["source"].startswith("# BEGIN QUESTION"):
            current = re.search(r"name: (\S+)", cell["source"]).group(1)
        if cell["cell_type"] == "raw" and cell["source"] == "# BEGIN SOLUTION":
            solution = cells[i + 1]["source"]
        if cell["cell_type"] == "raw" and cell["source"] == "# BEGIN TESTS":
            found[current] = (solution, cells[i + 1]["source"])
    return found


def run_cells(*sources):
    namespace = {}
    for source in sources:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def without_solutions(source: str) -> str:
    """What otter gives students: each BEGIN/END SOLUTION block replaced by ``...``."""
    return re.sub(r"^( *)# BEGIN SOLUTION\n.*?^ *# END SOLUTION\n", r"\1...\n", source, flags=re.S | re.M)


def test_the_master_notebook_has_one_question_per_exercise_with_points():
    notebook = grading.master_notebook(points=2)
    assert notebook["cells"][0]["source"].startswith("# ASSIGNMENT CONFIG")
    questions = question_cells(notebook)
    assert list(questions) == grading.gradable_names()
    assert all("points: 2" in c["source"] for c in notebook["cells"] if c["source"].startswith("# BEGIN QUESTION"))
    json.dumps(notebook)  # valid JSON


@pytest.mark.parametrize("name", grading.gradable_names())
def test_solutions_pass_their_test_and_the_student_version_fails_it(name):
    solution, test = question_cells(grading.master_notebook([name]))[name]
    run_cells(solution, test)  # the solved notebook: the test passes
    student = without_solutions(solution)
    assert "# BEGIN SOLUTION" not in student and "        ...\n" in student
    with pytest.raises(AssertionError, match=f"{name}: NOT YET"):
        run_cells(student, test)


def test_a_wrong_backward_fails_with_the_checkers_diagnosis():
    solution, test = question_cells(grading.master_notebook(["sigmoid"]))["sigmoid"]
    wrong = solution.replace("return (grad_output * y * (1 - y),)", "return (-grad_output * y * (1 - y),)")
    assert wrong != solution
    with pytest.raises(AssertionError, match="has its sign flipped"):
        run_cells(wrong, test)


def test_function_exercises_are_refused_by_name():
    assert "tanh" in grading.gradable_names() and "im2col" not in grading.gradable_names()
    with pytest.raises(grading.GradingError, match="exercise 'im2col' asks for a function"):
        grading.solution_source("im2col")


def test_a_missing_solution_file_is_named(tmp_path):
    with pytest.raises(grading.GradingError, match="sigmoid.py does not exist"):
        grading.solution_source("sigmoid", tmp_path)


@pytest.mark.slow
def test_otter_round_trip_full_marks_zero_and_feedback(tmp_path):
    pytest.importorskip("otter", reason="otter-grader is not installed (pip install -e '.[grading]')")
    built = grading.build_assignment(tmp_path / "hw", ["sigmoid", "matmul"], points=3)
    assert built["autograder"].exists() and built["student"].exists()
    student_text = built["student"].read_text()
    assert "BEGIN SOLUTION" not in student_text and "grad_output * y * (1 - y)" not in student_text

    solved = grading.grade(built["autograder"], built["solution"], tmp_path / "solved")
    assert {q: r["score"] for q, r in solved.items()} == {"sigmoid": 3.0, "matmul": 3.0}

    unsolved = grading.grade(built["autograder"], built["student"], tmp_path / "unsolved")
    assert {q: r["score"] for q, r in unsolved.items()} == {"sigmoid": 0.0, "matmul": 0.0}

    wrong_nb = json.loads(built["solution"].read_text())
    for cell in wrong_nb["cells"]:
        if cell["cell_type"] == "code":
            text = "".join(cell["source"])
            cell["source"] = text.replace("grad_output * y * (1 - y)", "-grad_output * y * (1 - y)")
    wrong_path = tmp_path / "wrong.ipynb"
    wrong_path.write_text(json.dumps(wrong_nb))
    wrong = grading.grade(built["autograder"], wrong_path, tmp_path / "wrong")
    assert wrong["sigmoid"]["score"] == 0.0 and wrong["matmul"]["score"] == 3.0
    assert "has its sign flipped" in wrong["sigmoid"]["feedback"]
