"""Every exercise is done in a notebook: its skeleton appears there verbatim (so the tested
skeleton is the one students see), right before the ``exercises.check`` call that names it,
and each of notebooks 01-05 has at least one (06 and the later notebooks have none)."""
import re
from pathlib import Path

import pytest

from minislim.exercises import get, names

NOTEBOOK_SOURCES = Path(__file__).resolve().parents[2] / "notebooks" / "src"
CHECK_CALL = re.compile(r"exercises\.check\((\w+), \"(\w+)\"\)")


def sources() -> dict:
    return {path.stem: path.read_text() for path in sorted(NOTEBOOK_SOURCES.glob("*.py"))}


def cells(text: str) -> list:
    return re.split(r"^# %%.*$", text, flags=re.M)


@pytest.mark.parametrize("name", names())
def test_each_exercise_is_in_a_notebook_cell_with_its_skeleton_and_its_check(name):
    exercise = get(name)
    found = [(stem, cell) for stem, text in sources().items() for cell in cells(text)
             if f'"{name}")' in cell and CHECK_CALL.search(cell)]
    assert found, f"no notebook cell checks the exercise {name!r}"
    stem, cell = found[0]
    assert exercise.skeleton.strip() in cell, f"{stem}: the cell of {name!r} does not hold its skeleton"
    called = {n: cls for cls, n in CHECK_CALL.findall(cell)}
    assert called[name] == exercise.class_name


def test_the_notebooks_with_exercises():
    with_exercises = {stem for stem, text in sources().items() if CHECK_CALL.search(text)}
    for prefix in ("01_", "02_", "03_", "04_", "05_"):
        assert any(stem.startswith(prefix) for stem in with_exercises), f"notebook {prefix}... has no exercise"
