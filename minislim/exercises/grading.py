"""Graded assignments from the exercises, with otter-grader.

A teacher turns the exercises of :mod:`minislim.exercises` into an assignment that
`otter-grader <https://otter-grader.readthedocs.io>`_ distributes and grades:

1. :func:`master_notebook` writes otter's *master notebook*: one question per exercise,
   worth ``points``, with the task, the solution (its ``backward`` body between otter's
   ``# BEGIN SOLUTION`` / ``# END SOLUTION`` markers) and a test that runs our checker;
2. ``otter assign master.ipynb dist`` (run by :func:`build_assignment`) makes
   ``dist/student/`` (the notebook with the solutions removed, ``...`` in their place)
   and ``dist/autograder/`` (the solution notebook and ``autograder.zip``);
3. ``otter run -a dist/autograder/autograder.zip submission.ipynb`` (:func:`grade`) runs a
   submission and scores each question; a failing question's feedback is the checker's
   diagnosis ("your gradient for 'x' has its sign flipped...").

Why otter-grader rather than nbgrader: otter is a pip-installable command line tool that
builds the student version and the autograder from one notebook and grades a submission
locally with ``otter run``, with no course database, exchange directory or Jupyter server
extension (nbgrader needs all three); its test cells are plain Python, so our checker's
text becomes the feedback as it is. Install it with ``pip install -e ".[grading]"``.

>>> notebook = master_notebook(["sigmoid"], points=2)
>>> [c["source"].splitlines()[0] for c in notebook["cells"] if c["cell_type"] == "raw"][:4]
['# ASSIGNMENT CONFIG', '# BEGIN QUESTION', '# BEGIN SOLUTION', '# END SOLUTION']
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from minislim.exercises.registry import get, names
from minislim.exercises.student_code import NOTEBOOK_IMPORTS

#: default location of the solutions (one file per exercise, named after it)
SOLUTIONS = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"


class GradingError(RuntimeError):
    """otter-grader is missing, or one of its steps failed (the message says which)."""


def otter_available() -> bool:
    """True when the ``otter`` command line (``pip install otter-grader``) can be run."""
    try:
        import otter  # noqa: F401
    except ImportError:
        return False
    return True


def gradable_names() -> list:
    """The exercises this grading layer can turn into questions: those where the student
    writes a ``Function`` subclass's ``backward`` (the plain-function exercises of the
    notebooks, such as ``im2col`` or ``training_loop``, are checked in the notebooks only)."""
    return [name for name in names() if get(name).kind == "function_class" and not _needs_other_solutions(name)]


def _needs_other_solutions(name: str, solutions_dir: Path = SOLUTIONS) -> bool:
    """Whether the solution of ``name`` needs more than its class (``conv2d`` calls the
    student's ``my_im2col``): a question holds the class alone, so it must stand alone."""
    path = Path(solutions_dir) / f"{name}.py"
    if not path.exists():
        return False
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.FunctionDef) for node in tree.body)


def solution_source(name: str, solutions_dir: Path = SOLUTIONS) -> str:
    """The question's code: the skeleton's class with the solution's methods filled in, each
    body between otter's solution markers.

    A solution subclasses the skeleton and writes only the methods the student writes (see
    ``notebooks/solutions/``); here their bodies replace the skeleton's, so otter's student
    version is the skeleton again, with ``...`` where each body goes.
    """
    exercise = get(name)
    if exercise.kind != "function_class":
        raise GradingError(f"exercise {name!r} asks for a function, not a Function's backward: the grading layer "
                           f"takes {', '.join(gradable_names())}")
    path = Path(solutions_dir) / f"{name}.py"
    if not path.exists():
        raise GradingError(f"no solution for exercise {name!r}: {path} does not exist")
    written = _methods(path.read_text(), exercise.class_name, str(path))
    if "backward" not in written:
        raise GradingError(f"{path}: class {exercise.class_name} has no backward method")
    skeleton = exercise.skeleton.splitlines()
    places = _methods(exercise.skeleton, exercise.class_name, f"the skeleton of {name!r}")
    unknown = sorted(set(written) - set(places))
    if unknown:
        raise GradingError(f"{path}: {', '.join(unknown)} is not a method of the skeleton, which has "
                           f"{', '.join(places)}")
    for method in sorted(written, key=lambda m: places[m][0], reverse=True):  # bottom up: lines stay put
        lines, indent = written[method][2], written[method][3]
        first, last = places[method][:2]
        skeleton[first:last] = [f"{indent}# BEGIN SOLUTION", *lines, f"{indent}# END SOLUTION"]
    return NOTEBOOK_IMPORTS + "\n".join(skeleton) + "\n"


def _methods(text: str, class_name: str, where: str) -> dict:
    """{method: (first body line, end line, body lines, indent)} of ``class_name`` in ``text``
    (line numbers 0-based, the body being every line after the one-line ``def``)."""
    lines = text.splitlines()
    cls = next((node for node in ast.parse(text).body if isinstance(node, ast.ClassDef) and node.name == class_name),
               None)
    if cls is None:
        raise GradingError(f"{where}: no class {class_name} (the class the exercise asks for)")
    found = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            if not lines[node.lineno - 1].rstrip().endswith(":"):
                raise GradingError(f"{where}: write the def line of {class_name}.{node.name} on one line")
            indent = " " * node.body[0].col_offset
            found[node.name] = (node.lineno, node.end_lineno, lines[node.lineno:node.end_lineno], indent)
    return found


def _cell(kind: str, source: str) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def test_source(name: str) -> str:
    """The test of one question: run the checker; on failure its diagnosis is the feedback."""
    class_name = get(name).class_name
    return (f"from minislim import exercises\n"
            f"_result = exercises.check({class_name}, {name!r}, verbose=False)\n"
            f"assert _result.passed, '\\n' + str(_result)")


def master_notebook(exercise_names=None, points: int = 1, solutions_dir: Path = SOLUTIONS,
                    assignment_name: str = "minislim-backward") -> dict:
    """otter-grader's master notebook (nbformat 4 JSON) for ``exercise_names`` (default: every
    exercise of :func:`gradable_names`)."""
    exercise_names = list(exercise_names or gradable_names())
    config = (f"# ASSIGNMENT CONFIG\nname: {assignment_name}\nrequirements: null\n"
              "export_cell: false\ninit_cell: false\ncheck_all_cell: false\nrun_tests: true\n"
              "generate: true\n")
    cells = [_cell("raw", config),
             _cell("markdown", "# Backward passes\n\nWrite the `backward` of each op. Each question runs "
                               "minislim's checker, which explains what is wrong in plain words.")]
    for name in exercise_names:
        exercise = get(name)
        cells += [
            _cell("raw", f"# BEGIN QUESTION\nname: {name}\npoints: {points}"),
            _cell("markdown", f"## {exercise.title}\n\n{exercise.task}"),
            _cell("raw", "# BEGIN SOLUTION"),
            _cell("code", solution_source(name, solutions_dir)),
            _cell("raw", "# END SOLUTION"),
            _cell("raw", "# BEGIN TESTS"),
            _cell("code", test_source(name)),
            _cell("raw", "# END TESTS"),
            _cell("raw", "# END QUESTION"),
        ]
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _otter(args: list, cwd: Path) -> subprocess.CompletedProcess:
    if not otter_available():
        raise GradingError('otter-grader is not installed: pip install -e ".[grading]" (or pip install otter-grader)')
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])  # minislim importable in otter's runs
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-m", "otter", *args], cwd=cwd, env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise GradingError(f"otter {args[0]} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def build_assignment(out_dir, exercise_names=None, points: int = 1, solutions_dir: Path = SOLUTIONS) -> dict:
    """Write ``out_dir/master.ipynb`` and run ``otter assign`` on it.

    Returns:
        ``{"master": path, "student": path of the student notebook, "autograder": path of
        autograder.zip, "solution": path of the solved notebook}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    master = out_dir / "master.ipynb"
    master.write_text(json.dumps(master_notebook(exercise_names, points, solutions_dir), indent=1))
    dist = out_dir / "dist"
    if dist.exists():
        shutil.rmtree(dist)
    _otter(["assign", master.name, dist.name], cwd=out_dir)
    zips = sorted((dist / "autograder").glob("*.zip"))
    if not zips:
        raise GradingError(f"otter assign made no autograder zip in {dist / 'autograder'}")
    return {"master": master, "student": dist / "student" / "master.ipynb", "autograder": zips[0],
            "solution": dist / "autograder" / "master.ipynb"}


def grade(autograder_zip, submission, out_dir) -> dict:
    """Grade one submitted notebook with ``otter run``.

    Returns:
        ``{question: {"score": float, "possible": float, "feedback": str}}`` (feedback: the
        test's output, the checker's diagnosis for a failed question).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _otter(["run", "-a", str(Path(autograder_zip).resolve()), "-o", str(out_dir.resolve()),
            str(Path(submission).resolve())], cwd=out_dir)
    with open(out_dir / "results.json") as f:
        results = json.load(f)
    return parse_results(results)


def parse_results(results: dict) -> dict:
    """Per question score, points possible and feedback from the ``results.json`` that
    ``otter run`` writes (Gradescope's format: a list of tests, one per question, beside a
    "Public Tests" summary without a score)."""
    graded = {}
    for test in results.get("tests", []):
        if "score" not in test:
            continue
        graded[test["name"]] = {"score": float(test["score"]), "possible": float(test.get("max_score", 0.0)),
                                "feedback": test.get("output", "")}
    return graded
